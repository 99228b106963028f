"""Exchange (公文交换): dispatch in envelopes, receipts, sign-for, and the sign-for deadlines.

- :mod:`.envelope`: the ``Envelope`` and ``Transport`` boundary (the local transport first).
- :mod:`.dispatch`: the sender's steps.  :mod:`.receipts`: the sender's receipts, fed by replies.
- :mod:`.sign_for`: the recipient's arrival and sign-for.  :mod:`.deadlines`: every sign-for window rule.
- :mod:`.holdings`: who holds a copy of a document, and which instance it is in there.
- :mod:`.watch`: the duty watch (clerks who leave arrivals waiting are texted).
"""

from . import dispatch, holdings, receipts, sign_for, watch  # noqa: F401  (registrations)
