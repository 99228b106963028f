"""The seal lifecycle as a process, and what revocation does to documents already sealed."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid, Refused
from handlers.seals import pki
from handlers.seals.models import CertificateAuthority, Seal, SealStatus
from handlers.seals.register import verify
from tests.outgoing_support import NOTICE, act, document, start, task_of

pytestmark = pytest.mark.usefixtures("deployed")


HEADS = {"dh.drafter": "dh.leader", "cz.clerk": "cz.signer", "lyg.sealer": "lyg.signer"}  # the units' principals


def _apply(gongwen, org, keeper_login: str, request: dict):
    """Apply for a seal as ``keeper_login`` and have the unit's head approve it, up to the issuing office."""
    keeper = org.person(keeper_login)
    gongwen.runtime.start("seal", owning_unit_id=keeper.unit_id, initiator_id=keeper.id)
    act(gongwen, keeper, "填写印章申请", request)
    act(gongwen, org.person(HEADS[keeper_login]), "单位负责人审核", {"decision": "approve"})


def _seals(gongwen, unit) -> list[Seal]:
    with gongwen.db.session() as session:
        return session.scalars(select(Seal).where(Seal.unit_id == unit.id).order_by(Seal.id)).all()


def _crl_serials(gongwen, ca_id) -> set[int]:
    with gongwen.db.session() as session:
        crl = pki.load_crl(session.get(CertificateAuthority, ca_id).crl_der)
    return {entry.serial_number for entry in crl}


def test_a_county_seal_is_applied_for_approved_by_the_province_issued_revoked_and_reissued(gongwen, org):
    county = org.unit("donghai_office")
    _apply(gongwen, org, "dh.drafter", {"action": "apply", "explanation": "新设电子印章"})
    approval = task_of(gongwen, org.person("js.leader"), "签发单位审批")  # the provincial office approves
    assert approval.candidate_unit_id == org.unit("province_office").id
    assert _seals(gongwen, county) == []
    act(gongwen, org.person("js.leader"), "签发单位审批", {"decision": "approve"})
    (seal,) = _seals(gongwen, county)
    assert seal.status == SealStatus.ACTIVE and seal.diameter_mm == 42.0
    certificate = pki.load_certificate(seal.certificate_pem.encode())
    with gongwen.db.session() as session:
        ca = session.get(CertificateAuthority, seal.ca_id)
    assert ca.unit_id == org.unit("province_office").id
    assert pki.unit_name_of(certificate) == "东海县人民政府办公室"
    key_usage = certificate.extensions.get_extension_for_class(pki.x509.KeyUsage).value
    assert key_usage.content_commitment and key_usage.digital_signature
    assert b"PRIVATE KEY" not in seal.key_blob

    _apply(gongwen, org, "dh.drafter", {"action": "reissue", "seal_code": seal.code, "reason": "lost",
                                        "explanation": "印章介质遗失"})
    act(gongwen, org.person("js.leader"), "签发单位审批", {"decision": "approve"})
    old, new = _seals(gongwen, county)
    assert (old.status, old.revoke_reason, new.status, new.replaces_id) == (
        SealStatus.REVOKED, "lost", SealStatus.ACTIVE, old.id)
    assert int(old.serial, 16) in _crl_serials(gongwen, old.ca_id)  # published at once


def test_a_city_department_seal_is_issued_by_the_city_office(gongwen, org):
    _apply(gongwen, org, "cz.clerk", {"action": "apply", "explanation": "新设"})
    act(gongwen, org.person("lyg.leader"), "签发单位审批", {"decision": "approve"})
    (seal,) = _seals(gongwen, org.unit("finance"))
    with gongwen.db.session() as session:
        assert session.get(CertificateAuthority, seal.ca_id).unit_id == org.unit("city_office").id


def test_applications_that_make_no_sense_are_refused(gongwen, org):
    with pytest.raises(FormInvalid) as invalid:
        _apply(gongwen, org, "dh.drafter", {"action": "return", "explanation": "x"})
    assert set(invalid.value.errors) == {"seal_code"}
    keeper = org.person("dh.drafter")
    with pytest.raises(FormInvalid) as invalid:  # not a seal of the unit in use: not offered
        act(gongwen, keeper, "填写印章申请", {"action": "renew", "seal_code": "GW-404", "explanation": "x"})
    assert invalid.value.errors == {"seal_code": ["不是可选的值"]}


def _seal_a_notice(gongwen, org) -> bytes:
    """A notice of the city office drafted, signed off and sealed: its sealed PDF."""
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve"})
    act(gongwen, drafter, "校对", {"decision": "ok"})
    act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})
    return gongwen.files.get(document(gongwen, doc.id).sealed_sha256)


def test_documents_sealed_before_a_revocation_keep_verifying_unless_the_key_was_distrusted_earlier(
        gongwen, org, fixed_clock):
    from web import demo

    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office"])
    pdf = _seal_a_notice(gongwen, org)
    with gongwen.db.session() as session:
        assert verify(session, pdf, ["连云港市人民政府办公室"]).ok
        wrong = verify(session, pdf, ["连云港市财政局"])  # signed by a unit other than the one named
    assert wrong.reason == ("签章单位与发文机关一致：缺少连云港市财政局的签章；"
                            "有非发文机关的签章：连云港市人民政府办公室")

    (seal,) = _seals(gongwen, org.unit("city_office"))
    _apply(gongwen, org, "lyg.sealer", {"action": "reissue", "seal_code": seal.code, "reason": "damaged",
                                        "explanation": "介质损坏"})
    act(gongwen, org.person("js.leader"), "签发单位审批", {"decision": "approve"})
    fixed_clock.advance(timedelta(minutes=1))
    with gongwen.db.session() as session:
        report = verify(session, pdf, ["连云港市人民政府办公室"])
    # Sealed (by its timestamp) before the seal was revoked: it keeps its legal force.
    assert report.ok, report.reason
    assert "早于吊销时间" in next(c.detail for c in report.checks if c.key == "revocation")

    # A lost seal whose key is distrusted from before the document was sealed takes the document with it.
    from handlers.seals.register import revoke_seal

    (_, replacement) = _seals(gongwen, org.unit("city_office"))
    lost_pdf = _seal_a_notice(gongwen, org)
    fixed_clock.advance(timedelta(days=2))
    with gongwen.db.write() as session:
        revoke_seal(session, gongwen.settings, session.get(Seal, replacement.id), "lost",
                    invalid_since=replacement.valid_from)
    with gongwen.db.session() as session:
        lost = verify(session, lost_pdf, ["连云港市人民政府办公室"])
        still = verify(session, pdf, ["连云港市人民政府办公室"])
    assert not lost.ok and lost.reason.startswith("未被吊销") and "起不再可信" in lost.reason
    assert still.ok, still.reason


def test_renewal_and_renaming_supersede_without_revoking_and_an_expired_seal_cannot_seal(gongwen, org, fixed_clock):
    from engine.models import Unit
    from handlers.seals.register import active_seal

    _apply(gongwen, org, "cz.clerk", {"action": "apply", "explanation": "新设"})
    act(gongwen, org.person("lyg.leader"), "签发单位审批", {"decision": "approve"})
    (first,) = _seals(gongwen, org.unit("finance"))
    _apply(gongwen, org, "cz.clerk", {"action": "renew", "seal_code": first.code, "explanation": "到期换发"})
    act(gongwen, org.person("lyg.leader"), "签发单位审批", {"decision": "approve"})
    _apply(gongwen, org, "cz.clerk", {"action": "rename", "seal_code": _seals(gongwen, org.unit("finance"))[1].code,
                                      "name": "连云港市财政局（国资）", "explanation": "单位更名"})
    act(gongwen, org.person("lyg.leader"), "签发单位审批", {"decision": "approve"})
    renewed_old, renamed_old, current = _seals(gongwen, org.unit("finance"))
    # Neither is revoked: what they sealed keeps verifying, and no CRL lists them.
    assert (renewed_old.status, renamed_old.status, renamed_old.revoke_reason) == (
        SealStatus.SUPERSEDED, SealStatus.SUPERSEDED, None)
    assert _crl_serials(gongwen, current.ca_id) == set()
    assert (current.name, current.status, current.replaces_id) == (
        "连云港市财政局（国资）", SealStatus.ACTIVE, renamed_old.id)

    fixed_clock.advance(timedelta(days=5 * 365 + 2))
    with pytest.raises(Refused, match="已过期，不能用印"), gongwen.db.session() as session:
        active_seal(session, session.get(Unit, org.unit("finance").id))


def _seal_a_notice_with_a_new_seal(gongwen, org) -> bytes:
    from engine.models import Unit
    from handlers.seals.register import issue_seal

    with gongwen.db.write() as session:
        issue_seal(session, gongwen.settings, session.get(Unit, org.unit("city_office").id))
    return _seal_a_notice(gongwen, org)


def test_a_kept_verification_gives_way_to_a_revocation_and_to_an_outdated_crl(gongwen, org, fixed_clock):
    from handlers.seals.register import revoke_seal
    from web import demo

    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office"])
    pdf = _seal_a_notice(gongwen, org)
    city = ["连云港市人民政府办公室"]
    with gongwen.db.session() as session:
        first, again = verify(session, pdf, city), verify(session, pdf, city)
    assert first.ok and again is first  # the second recipient got the kept report

    with gongwen.db.write() as session:
        (seal,) = _seals(gongwen, org.unit("city_office"))
        revoke_seal(session, gongwen.settings, session.get(Seal, seal.id), "lost", invalid_since=seal.valid_from)
    with gongwen.db.session() as session:
        revoked = verify(session, pdf, city)
    assert not revoked.ok and "起不再可信" in revoked.reason

    other = _seal_a_notice_with_a_new_seal(gongwen, org)
    with gongwen.db.session() as session:
        assert verify(session, other, city).ok
    fixed_clock.advance(timedelta(days=8))  # past the CRLs' next update, none republished
    with gongwen.db.session() as session:
        stale = verify(session, other, city)
    assert not stale.ok and "吊销列表" in stale.reason
