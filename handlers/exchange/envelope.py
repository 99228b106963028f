"""The exchange boundary: what a dispatch hands over (an envelope) and who carries it (a transport).

Dispatch builds one ``Envelope`` per recipient: the sealed file, its metadata, the
attachments, the sender, the recipient and the process that receives it there. A
``Transport`` carries envelopes, and the recipients' ``Reply`` objects back (see :mod:`.replies`);
``LocalTransport`` starts the receiving process in this installation and applies replies at once.
A receiver never writes the sender's rows itself, so a transport to another installation (or a
meeting notice's reply slips) plugs in here without touching either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

from .replies import Reply, apply_reply

if TYPE_CHECKING:
    from engine.runtime import Runtime

__all__ = ["TRANSPORTS", "Envelope", "LocalTransport", "Transport", "transport_for"]


@dataclass(frozen=True)
class Envelope:
    """One document on its way to one recipient unit."""

    document_id: int               # the sender's document (and the correlation of every reply)
    version: int                   # a corrected re-dispatch is a new version
    sender_unit_id: int
    recipient_unit_id: int
    receiving_process: str         # the process the recipient runs on arrival, e.g. "incoming"
    copy: bool                     # 抄送 rather than 主送
    title: str
    doc_number: str | None
    urgency: str
    priority: int
    sealed_sha256: str             # the sealed file, stored by its hash on both sides
    attachments: list[str] = field(default_factory=list)  # stored files' hashes, in order
    window: dict = field(default_factory=dict)            # the sign-for window (deadlines.SignForWindow)

    def process_data(self) -> dict:
        """What the receiving process starts with."""
        return {"document_id": self.document_id, "copy": self.copy, "window": self.window,
                "version": self.version, "sender_unit_id": self.sender_unit_id}

    def correlation(self) -> dict:
        """How every reply names this delivery: document, recipient and version."""
        return {"document_id": self.document_id, "unit_id": self.recipient_unit_id, "version": self.version}


class Transport(Protocol):
    """Carries envelopes to their recipients. Called inside the sender's delivery transaction;
    a transport that leaves the database must make a second call with the same envelope harmless."""

    name: str

    def deliver(self, session: Session, envelopes: list[Envelope]) -> list[int | None]:
        """Hand over ``envelopes``; returns the receiving instance of each where it is local, else None."""

    def reply(self, session: Session, reply: Reply) -> int | None:
        """Carry a recipient's reply back to the sender; the sender's receipt id if it is known here."""


class LocalTransport:
    """Recipients in this installation: start their receiving process in the same transaction."""

    name = "local"

    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def reply(self, session: Session, reply: Reply) -> int | None:
        return apply_reply(self.runtime, session, reply)

    def deliver(self, session: Session, envelopes: list[Envelope]) -> list[int | None]:
        with self.runtime.batch(session, len(envelopes)):
            return [self.runtime.start(e.receiving_process, owning_unit_id=e.recipient_unit_id,
                                       data=e.process_data(), correlation=e.correlation(), title=e.title,
                                       priority=e.priority, session=session)
                    for e in envelopes]


# name -> factory(runtime); another installation's transport registers beside "local".
TRANSPORTS: dict[str, type] = {"local": LocalTransport}


def transport_for(runtime: Runtime, unit_id: int | None) -> Transport:
    """The transport that reaches ``unit_id`` (None: the sender of a reply): every unit is local today."""
    return TRANSPORTS["local"](runtime)
