"""Handover (交接) of a person's work when they retire, move or are frozen: the record, its service and the
``handover`` process's step."""

from . import models, service, steps  # noqa: F401  (registers the tables and the handler)
