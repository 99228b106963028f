"""Handover (交接) of a person's work when they retire, move or are frozen: the record and its service."""

from . import models, service  # noqa: F401  (registers the tables)
