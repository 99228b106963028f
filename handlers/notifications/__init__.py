"""Notifications: ``tell()`` and the channels notices leave by."""

from . import mail, sms, tell  # noqa: F401  (registrations: tell's consumer, the mail and sms channels)
