"""The exchange boundary: envelopes on a transport, replies applied on the sender's side, recorded signers."""

from typing import ClassVar

import pytest
from sqlalchemy import func, select

from engine.models import Outbox
from handlers.exchange import envelope
from handlers.exchange.models import Receipt, ReceiptStatus
from handlers.exchange.replies import ReplyKind, apply_reply
from handlers.seals.signing import SIGNERS
from tests.outgoing_support import act, send

pytestmark = pytest.mark.usefixtures("deployed")


class RecordingTransport(envelope.LocalTransport):
    """The local transport, keeping every envelope and reply it carried."""

    carried: ClassVar[list] = []
    replies: ClassVar[list] = []

    def deliver(self, session, envelopes):
        RecordingTransport.carried.extend(envelopes)
        return super().deliver(session, envelopes)

    def reply(self, session, reply):
        RecordingTransport.replies.append(reply)
        super().reply(session, reply)


@pytest.fixture
def recording(monkeypatch):
    RecordingTransport.carried, RecordingTransport.replies = [], []
    monkeypatch.setitem(envelope.TRANSPORTS, "local", RecordingTransport)
    return RecordingTransport


def test_dispatch_hands_each_recipient_an_envelope_with_the_sealed_file_and_the_receiving_process(
        gongwen, sealed, recording):
    org = sealed
    sent = send(gongwen, org, main_to=("donghai_office",), cc=[org.unit("guanyun_office").id])
    by_unit = {e.recipient_unit_id: e for e in recording.carried}
    assert set(by_unit) == {org.unit("donghai_office").id, org.unit("guanyun_office").id}
    main, copy = by_unit[org.unit("donghai_office").id], by_unit[org.unit("guanyun_office").id]
    assert (main.copy, copy.copy) == (False, True)
    assert main.sealed_sha256 == sent.sealed_sha256 and main.receiving_process == "incoming"
    assert main.sender_unit_id == org.unit("city_office").id and main.doc_number == sent.doc_number
    assert main.window["sign_due"] and main.version == 1


def test_a_recipients_answer_reaches_the_sender_as_a_reply_applied_once(gongwen, sealed, recording):
    org = sealed
    sent = send(gongwen, org, main_to=("donghai_office", "guanyun_office"))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    assert [r.kind for r in recording.replies] == [ReplyKind.SIGNED]
    with gongwen.db.session() as session:
        receipt = session.scalar(select(Receipt).where(Receipt.document_id == sent.id,
                                                       Receipt.unit_id == org.unit("donghai_office").id))
    assert receipt.status == ReceiptStatus.SIGNED and receipt.verification["ok"]

    # Applied again (a transport may deliver twice): nothing changes, no message goes out again.
    act(gongwen, org.person("gy.clerk"), "签收", {"decision": "sign"})
    messages = _count(gongwen, Outbox.topic == "message")
    with gongwen.db.write() as session:
        for reply in recording.replies:
            apply_reply(gongwen.runtime, session, reply)
    with gongwen.db.session() as session:
        again = session.get(Receipt, receipt.id)
        assert (again.status, again.signed_at) == (ReceiptStatus.SIGNED, receipt.signed_at)
    assert _count(gongwen, Outbox.topic == "message") == messages


def test_the_sealed_file_records_the_signers_algorithm_and_format(gongwen, sealed):
    sent = send(gongwen, sealed)
    signer = SIGNERS["pades-ecdsa-p256"]
    assert (sent.seal_algorithm, sent.sealed_format) == (signer.algorithm, signer.format) == \
        ("ECDSA-P256-SHA256", "PAdES-B-LT")


def _count(gongwen, *where) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(Outbox).where(*where))
