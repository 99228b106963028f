"""Archiving (归档): archive codes, the archived copy, packages and the four-properties check."""

from . import archiving, packages  # noqa: F401  (registrations)
