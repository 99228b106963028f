"""What units sent and received, counted by day as it happens: supervision reads these, not the receipts.

The dispatch step counts a document sent by its lead issuer, wide or not (``SentDay``). Each unit's
receipts are counted by dispatch day and sign-for class (``ReceiptDay``): delivery adds what was
received (and how many of those have a deadline); a recipient's answer adds
the signature (with its time and whether it was in time) or the return, to the row of the day the
receipt was dispatched. Supervision's sign-for figures and ranks read these rows: a quarter of a
city is a few tens of thousands of them rather than hundreds of thousands of receipts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from engine.daily import add_counts, local_day

from .models import Receipt, ReceiptDay, ReceiptStatus, SentDay

KEYS = ("unit_id", "day", "sign_class")


def count_sent(session: Session, unit_id: int, at: datetime, *, wide: bool) -> None:
    """Count a document dispatched at ``at`` by its lead issuer ``unit_id``."""
    add_counts(session, SentDay.__table__, ("unit_id", "day"),
               [{"unit_id": unit_id, "day": local_day(at), "sent": 1, "wide": int(wide)}])


def count_dispatched(session: Session, receipts: Iterable[Receipt]) -> None:
    """Count newly dispatched ``receipts`` as received (and due, those with a deadline)."""
    received: Counter[tuple] = Counter()
    due: Counter[tuple] = Counter()
    for receipt in receipts:
        key = (receipt.unit_id, local_day(receipt.dispatched_at), receipt.sign_class)
        received[key] += 1
        due[key] += receipt.due_at is not None
    add_counts(session, ReceiptDay.__table__, KEYS,
               [dict(zip(KEYS, key, strict=True), received=count, due=due[key]) for key, count in received.items()])


def count_answer(session: Session, receipt: Receipt) -> None:
    """Count ``receipt``'s answer, just given: signed (how long it took, and whether in time) or returned."""
    key = dict(zip(KEYS, (receipt.unit_id, local_day(receipt.dispatched_at), receipt.sign_class), strict=True))
    if receipt.status == ReceiptStatus.RETURNED:
        add_counts(session, ReceiptDay.__table__, KEYS, [{**key, "returned": 1}])
        return
    seconds = (receipt.signed_at - receipt.dispatched_at).total_seconds()
    on_time = receipt.due_at is not None and receipt.signed_at <= receipt.due_at
    add_counts(session, ReceiptDay.__table__, KEYS,
               [{**key, "signed": 1, "on_time": int(on_time), "sign_seconds": seconds, "worst_sign_seconds": seconds}],
               maxima=("worst_sign_seconds",))
