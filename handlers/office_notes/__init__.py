"""The office's notes beside 公文 (issue 13): announcements with reader lists (``announcements``), mail between
people with read receipts (``mailbox``), phone notices recorded and routed to whoever must act
(``phone_notices``, with the ``phone_notice`` process's step), and their attachments (``uploads``).

One package for the three: they share the attachments' handling and the same readers (a unit's people), and each
is a page or two of rules; three packages would be three copies of the same frame.
"""

from . import announcements, mailbox, models, phone_notices, uploads  # noqa: F401  (tables and the step)
