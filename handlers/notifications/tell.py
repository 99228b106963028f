"""Telling people: ``tell()`` is the one way a notice leaves Gongwen.

It records the notice in the app (a ``Notification`` row per person, in the caller's
transaction, so a step that rolls back tells nobody) and queues its delivery on every
registered channel (SMS, mail, ...) through the outbox, at least once, under an
idempotency key: delivering the same item twice sends nothing twice. A channel is an
object with a ``name`` and ``send(session, notification, key)``; the in-app channel is the
row itself and needs no delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.background import JobContext, consumer
from engine.messages import after_commit
from engine.models import Outbox, Role
from engine.organisation import holders
from engine.registry import HandlerContext, handler

from .models import Notification

__all__ = ["CHANNELS", "Channel", "latest", "notify", "register_channel", "tell"]


class Channel(Protocol):
    """A way to reach a person outside the app. ``send`` may raise: the outbox retries it."""

    name: str

    def send(self, session: Session, notification: Notification, key: str) -> None:
        """Send ``notification``; ``key`` is the same on every attempt, for the gateway to drop repeats."""


CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> Channel:
    """Deliver every notice from now on through ``channel`` too."""
    CHANNELS[channel.name] = channel
    return channel


def tell(session: Session, people: Iterable[int], text: str, *, kind: str, reason: str = "",
         instance_id: int | None = None, key: str) -> list[Notification]:
    """Tell ``people`` ``text``: in the app now, on every registered channel after the commit.

    ``key`` names this notice (e.g. ``chase:{receipt}:{time}``): it makes each delivery idempotent.
    """
    now = clock.now()
    notes = [Notification(person_id=p, kind=kind, text=text, reason=reason, instance_id=instance_id, created_at=now)
             for p in dict.fromkeys(people)]
    session.add_all(notes)
    if CHANNELS and notes:
        session.flush()
        session.add_all(Outbox(topic="tell", key=f"tell:{key}:{n.person_id}:{name}", created_at=now,
                               payload={"notification_id": n.id, "channel": name}, source_instance_id=instance_id)
                        for n in notes for name in CHANNELS)
        after_commit(session, "deliver_outbox")
    return notes


@consumer("tell")
def deliver(job: JobContext, session: Session, item: Outbox) -> None:
    """Send one notice on one channel (a channel since unregistered is skipped, not failed)."""
    channel = CHANNELS.get(item.payload["channel"])
    if channel is not None:
        channel.send(session, session.get(Notification, item.payload["notification_id"]), item.key)


@handler("notify")
def notify(ctx: HandlerContext, text: str, *, person: int | None = None, role: str | None = None,
           unit: int | None = None, department: int | None = None, reason: str = "",
           kind: str = "reminder") -> dict:
    """The diagram's way to tell one person, or everyone holding ``role`` in ``unit`` (default: the owning unit).

    With ``department``, holders of the role in that department are told, or, if
    nobody holds it there, every holder in the unit.
    """
    if person is not None:
        recipients = [person]
    elif role is not None:
        recipients = holders(ctx.session, Role(role), unit or ctx.owning_unit_id, department)
    else:
        raise ValueError("notify needs a person or a role")
    tell(ctx.session, recipients, text, kind=kind, reason=reason, instance_id=ctx.instance_id,
         key=f"notify:{ctx.instance_id}:{ctx.task_name}:{ctx.now().isoformat()}")
    ctx.audit("notify", kind=kind, recipients=recipients, reason=reason)
    return {"notified": recipients, "at": ctx.now().isoformat()}


def latest(session: Session, person_id: int, limit: int = 10) -> list[Notification]:
    """The person's latest notices, newest first."""
    return list(session.scalars(select(Notification).where(Notification.person_id == person_id)
                                .order_by(Notification.id.desc()).limit(limit)))
