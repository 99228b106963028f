"""Meetings (会议通知) with reply slips (回执): across units, and inside one unit with each person confirming.

``models`` holds the tables, ``service`` the organiser's side (sending, changing, cancelling, the overview,
the reminders) and the one place a reply slip is recorded; ``steps`` the handler the ``meeting_reply``
diagram calls.
"""

from . import models, service, steps  # noqa: F401  (registers the tables, the handler and the reminders)
