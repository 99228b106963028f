"""Notifications: ``tell()`` and the channels notices leave by."""

from . import tell  # noqa: F401  (registrations)
