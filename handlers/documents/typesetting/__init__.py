"""Typesetting: turning a document into a GB/T 9704 red-header PDF."""
