"""Reaching a unit at once, day or night: the register's duty staff by text, its people in the app.

Used where the notices demand that a person who is not looking at a screen learns of a document:
an urgent arrival (特急, 加急), a sign-for deadline that passed, the unit's 分管领导 when the clerks
still have not signed. Texts go to the numbers in the duty-contact register (收发文联系人), which
the unit's office keeps current; the register is the unit's answer to "whom do we wake".
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models import Role
from engine.organisation import holders

from ..contacts.models import Duty
from ..contacts.register import current
from .sms import text_number
from .tell import CHANNELS, tell

__all__ = ["alert_unit"]


def alert_unit(session: Session, unit_id: int, text: str, *, duty: Duty, role: Role, kind: str, reason: str,
               key: str, instance_id: int | None = None) -> list[str]:
    """Text the unit's current contacts on ``duty`` and tell the holders of ``role`` (urgently).

    People told in the app get the notice by mail too, not by a second text: their text went to the
    register's number. A unit with nobody registered on ``duty`` is not left in the dark: the notice
    texts the role holders' own mobiles. Returns the numbers texted from the register.
    """
    contacts = current(session, unit_id, duty)
    numbers = list(dict.fromkeys(c.mobile for c in contacts))
    for contact in {c.mobile: c for c in contacts}.values():
        text_number(session, number=contact.mobile, text=text, unit_id=unit_id, kind=kind, urgent=True,
                    key=f"{key}:{contact.mobile}", person_id=contact.person_id, instance_id=instance_id)
    tell(session, holders(session, role, unit_id), text, kind=kind, reason=reason, instance_id=instance_id, key=key,
         urgent=True, channels=[name for name in CHANNELS if name != "sms"] if numbers else None)
    return numbers
