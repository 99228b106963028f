"""Personal signing certificates (个人签名证书): applied for, issued by the security officer, reported lost,
lifted, revoked; 签发 and 批示 signed with them and verified in the opinion trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from sqlalchemy import select, update

from engine import clock, organisation
from engine.background import deliver_outbox
from engine.errors import Refused
from engine.models import AuditEvent, Task, TaskState
from handlers.seals import detached, personal, pki
from handlers.seals.models import CertificateAuthority, CertificateStatus, OpinionSignature, PersonalCertificate
from handlers.seals.tsa import LocalTimeStamper, TimestampingKey
from tests.outgoing_support import NOTICE, act, start, task_of
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")
NEEDS = "您还没有个人签名证书，不能签发或批示"


def _certificate(gongwen, login_id: int) -> PersonalCertificate | None:
    with gongwen.db.session() as db:
        return personal.current(db, login_id)


def _crl_entry(gongwen, certificate: PersonalCertificate) -> x509.RevokedCertificate | None:
    with gongwen.db.session() as db:
        crl = x509.load_der_x509_crl(db.get(CertificateAuthority, certificate.ca_id).crl_der)
    return crl.get_revoked_certificate_by_serial_number(int(certificate.serial, 16))


def _to_sign_off(gongwen, org):
    """A city-office notice waiting at 签发 for lyg.signer."""
    drafter = org.person("lyg.drafter")
    start(gongwen, drafter)
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    return task_of(gongwen, org.person("lyg.signer"), "签发")


def _trail_page(app, login: str, task_id) -> str:
    return logged_in(app, login).get(f"/tasks/{task_id}").get_data(as_text=True)


def _revoke_own(gongwen, login_id: int) -> None:
    with gongwen.db.write() as db:
        personal.revoke(db, gongwen.settings, personal.current(db, login_id), "other")


def test_a_signer_without_a_certificate_applies_is_issued_one_and_the_trail_shows_the_verified_signature(
        gongwen, org, app):
    signer = org.person("lyg.signer")
    _revoke_own(gongwen, signer.id)
    task = _to_sign_off(gongwen, org)
    client = logged_in(app, "lyg.signer")
    page = client.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(client, f"/tasks/{task.id}"),
                                                  "decision": "approve", "opinion": "同意印发"}).get_data(as_text=True)
    assert NEEDS in page and "申请" in page
    with gongwen.db.session() as db:
        assert db.get(Task, task.id).state == TaskState.READY
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "task.refused",
                                                     AuditEvent.actor_id == signer.id))

    applied = client.post("/certificate/apply", data={"csrf_token": csrf_token(client, "/certificate")},
                          follow_redirects=True).get_data(as_text=True)
    assert "已提交申请" in applied and "已申请，待签发" in applied
    officer = logged_in(app, "secadmin")
    listing = officer.get("/admin/security/certificates").get_data(as_text=True)
    assert "lyg.signer" in listing and "已申请，待签发" in listing and "同意印发" not in listing
    issued = officer.post("/admin/security/certificates/issue", follow_redirects=True,
                          data={"csrf_token": csrf_token(officer, "/admin/security/certificates"),
                                "login": "lyg.signer"}).get_data(as_text=True)
    certificate = _certificate(gongwen, signer.id)
    assert f"已为 {signer.name} 签发个人签名证书（序列号 {certificate.serial}）" in issued
    cert = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == signer.name
    assert cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == "连云港市人民政府办公室"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment

    act(gongwen, signer, "签发", {"decision": "approve", "opinion": "同意印发"})
    proofread = task_of(gongwen, org.person("lyg.drafter"), "校对")
    trail = _trail_page(app, "lyg.drafter", proofread.id)
    stamped = f"{clock.local(clock.now()):%Y-%m-%d %H:%M:%S}"  # the fixed clock: the TSA stamped this time
    verified = f"已签名（证书 {certificate.serial}，时间戳 {stamped}，验证通过）"
    assert f"同意印发 <span class=\"ok\">{verified}</span>" in trail
    assert trail.count("已签名") == 1  # 部门审核 and 核稿 are not signed steps


def test_a_changed_opinion_or_signature_fails_verification_in_the_trail(gongwen, org, app):
    task = _to_sign_off(gongwen, org)
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve", "opinion": "同意印发"})
    proofread = task_of(gongwen, org.person("lyg.drafter"), "校对")
    with gongwen.db.write() as db:  # someone with database access rewrites the leader's words
        db.execute(update(Task).where(Task.id == task.id).values(
            form_data={**db.get(Task, task.id).form_data, "opinion": "不同意"}))
    assert "签名验证未通过：意见记录与签名内容不一致" in _trail_page(app, "lyg.drafter", proofread.id)
    with gongwen.db.write() as db:
        db.execute(update(Task).where(Task.id == task.id).values(
            form_data={**db.get(Task, task.id).form_data, "opinion": "同意印发"}))
        row = db.scalar(select(OpinionSignature).where(OpinionSignature.task_id == task.id))
        row.signature = bytes(row.signature[:-8]) + b"\x00" * 8
    assert "签名验证未通过：签名" in _trail_page(app, "lyg.drafter", proofread.id)
    with gongwen.db.write() as db:
        db.scalar(select(OpinionSignature).where(OpinionSignature.task_id == task.id)).signature = b"\x30\x03junk"
    assert "签名验证未通过：签名数据已损坏" in _trail_page(app, "lyg.drafter", proofread.id)


def test_a_lost_certificate_is_suspended_at_once_its_earlier_signatures_stand_and_lifting_restores_it(
        gongwen, org, app, fixed_clock):
    signer = org.person("lyg.signer")
    _to_sign_off(gongwen, org)
    act(gongwen, signer, "签发", {"decision": "approve", "opinion": "同意"})
    proofread = task_of(gongwen, org.person("lyg.drafter"), "校对")
    fixed_clock.advance(timedelta(hours=1))

    client = logged_in(app, "lyg.signer")
    lost = client.post("/certificate/report-lost", data={"csrf_token": csrf_token(client, "/certificate")},
                       follow_redirects=True).get_data(as_text=True)
    assert "证书已挂失，即时停止使用" in lost
    certificate = _certificate(gongwen, signer.id)
    assert "验证通过" in _trail_page(app, "lyg.drafter", proofread.id)  # signed an hour before the loss

    second = _to_sign_off(gongwen, org)
    with pytest.raises(Refused, match="已挂失"):
        act(gongwen, signer, "签发", {"decision": "approve"})
    officer = logged_in(app, "secadmin")
    lifted = officer.post(f"/admin/security/certificates/{certificate.id}/lift", follow_redirects=True,
                          data={"csrf_token": csrf_token(officer, "/admin/security/certificates")})
    assert "已解除挂失" in lifted.get_data(as_text=True)
    assert _crl_entry(gongwen, certificate) is None
    act(gongwen, signer, "签发", {"decision": "approve"})
    with gongwen.db.session() as db:
        assert db.get(Task, second.id).state == TaskState.COMPLETED


def test_a_signature_is_judged_at_the_time_its_timestamp_proves_not_the_time_recorded(gongwen, org, app,
                                                                                        fixed_clock):
    """A revocation after the proven time leaves the signature valid, whatever time the record claims."""
    signer = org.person("lyg.signer")
    task = _to_sign_off(gongwen, org)
    act(gongwen, signer, "签发", {"decision": "approve", "opinion": "同意"})
    proofread = task_of(gongwen, org.person("lyg.drafter"), "校对")
    fixed_clock.advance(timedelta(minutes=5))
    _revoke_own(gongwen, signer.id)
    assert "验证通过" in _trail_page(app, "lyg.drafter", proofread.id)
    with gongwen.db.write() as db:  # the recorded time moved past the revocation: the timestamp still rules
        row = db.scalar(select(OpinionSignature).where(OpinionSignature.task_id == task.id))
        row.signed_at += timedelta(minutes=10)
    assert "验证通过" in _trail_page(app, "lyg.drafter", proofread.id)


def test_a_signature_timestamped_after_its_certificate_was_revoked_fails() -> None:
    now = clock.now().replace(microsecond=0)
    root = pki.create_root_ca("根", now - timedelta(days=1))
    issuing = pki.create_issuing_ca(root, "签发中心", now - timedelta(days=1), None)
    person = pki.issue_seal_certificate(issuing, "连云港市人民政府办公室", "GW-P-1", now - timedelta(days=1),
                                        now + timedelta(days=30))
    tsa = pki.issue_tsa_certificate(root, "时间戳服务", now - timedelta(days=1))
    crls = [pki.build_crl(issuing, [(person.certificate.serial_number, now - timedelta(hours=1), "other")], 2, now,
                          now + timedelta(days=7)),
            pki.build_crl(root, [], 2, now, now + timedelta(days=7))]
    chain = [issuing.certificate, root.certificate]
    stamper = LocalTimeStamper(TimestampingKey(tsa.private_key, tsa.certificate), lambda: now)
    # The record claims a time before the revocation; the timestamp proves the signature came after it.
    signature = detached.sign(b"opinion", person.private_key, person.certificate, chain, now - timedelta(hours=2),
                              stamper)

    problem, proven = detached.check(b"opinion", signature, person.certificate, chain, crls,
                                     now - timedelta(hours=2), now, [tsa.certificate])

    assert proven == now and problem is not None and "吊销" in problem


def test_a_holder_reports_a_lost_certificate_it_is_suspended_at_once_and_the_officer_lifts_it(gongwen, org, app):
    signer = org.person("lyg.signer")
    client = logged_in(app, "lyg.signer")
    lost = client.post("/certificate/report-lost", data={"csrf_token": csrf_token(client, "/certificate")},
                       follow_redirects=True).get_data(as_text=True)
    assert "证书已挂失，即时停止使用" in lost and "已挂失（暂停使用）" in lost
    certificate = _certificate(gongwen, signer.id)
    assert certificate.status == CertificateStatus.SUSPENDED
    entry = _crl_entry(gongwen, certificate)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.certificate_hold
    with gongwen.db.session() as db, pytest.raises(Refused, match="已挂失"):
        personal.signing_certificate(db, signer.id)
    officer = logged_in(app, "secadmin")
    listing = officer.get("/admin/security/certificates").get_data(as_text=True)
    assert "已挂失（暂停使用）" in listing and "解除挂失" in listing
    lifted = officer.post(f"/admin/security/certificates/{certificate.id}/lift", follow_redirects=True,
                          data={"csrf_token": csrf_token(officer, "/admin/security/certificates")})
    assert "已解除挂失" in lifted.get_data(as_text=True)
    assert _crl_entry(gongwen, certificate) is None
    assert _certificate(gongwen, signer.id).status == CertificateStatus.ACTIVE


def test_freezing_or_moving_a_person_revokes_their_certificate_and_the_crl_follows(gongwen, org):
    leader, signer = org.person("dh.leader"), org.person("cz.signer")
    with gongwen.db.write() as db:
        organisation.set_frozen(db, db.get(type(leader), leader.id), True)
        organisation.move_person(db, db.get(type(signer), signer.id), db.get(type(org.unit("education")),
                                                                              org.unit("education").id))
    deliver_outbox(gongwen)
    with gongwen.db.session() as db:
        gone = db.scalars(select(PersonalCertificate).where(
            PersonalCertificate.person_id.in_([leader.id, signer.id]))).all()
    assert {(c.status, c.reason) for c in gone} == {(CertificateStatus.REVOKED, "left")}
    for certificate in gone:
        entry = _crl_entry(gongwen, certificate)
        assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
            x509.ReasonFlags.cessation_of_operation
    with gongwen.db.write() as db:
        organisation.set_frozen(db, db.get(type(leader), leader.id), False)
    with gongwen.db.session() as db, pytest.raises(Refused, match=NEEDS):
        personal.signing_certificate(db, leader.id)  # thawing does not bring it back: apply again


def test_an_instruction_is_signed_and_refused_without_a_certificate(gongwen, sealed):
    from tests.outgoing_support import send

    org = sealed
    send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id,
                                               "deadline_days": 3})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "呈领导"})
    leader = org.person("dh.leader")
    act(gongwen, org.person("dh.handler"), "承办人决定下一步", {"next": "instruct", "leader": leader.id})
    _revoke_own(gongwen, leader.id)
    with pytest.raises(Refused, match=NEEDS):
        act(gongwen, leader, "领导批示", {"instruction": "请抓紧落实"})
    with gongwen.db.write() as db:
        personal.issue(db, gongwen.settings, db.get(type(leader), leader.id))
    act(gongwen, leader, "领导批示", {"instruction": "请抓紧落实"})
    with gongwen.db.session() as db:
        signed = db.scalars(select(OpinionSignature)).all()
    assert any("请抓紧落实".encode() in bytes(s.payload) for s in signed)


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "lyg.drafter", "lyg.signer"])
def test_only_the_security_officer_manages_certificates(gongwen, org, app, who):
    certificate = _certificate(gongwen, org.person("lyg.signer").id)
    client = logged_in(app, who)
    assert client.get("/admin/security/certificates").status_code == 403
    token = csrf_token(client, "/certificate")
    for action in ("suspend", "revoke", "decline", "lift"):
        assert client.post(f"/admin/security/certificates/{certificate.id}/{action}",
                           data={"csrf_token": token, "reason": "other"}).status_code == 403
    assert client.post("/admin/security/certificates/issue", data={"csrf_token": token, "login": who}
                       ).status_code == 403
    assert _certificate(gongwen, org.person("lyg.signer").id).status == CertificateStatus.ACTIVE


def test_administrators_hold_no_certificate_and_strangers_are_sent_to_log_in(gongwen, org, app):
    for admin in ("sysadmin", "secadmin", "auditor"):
        client = logged_in(app, admin)
        page = client.post("/certificate/apply", data={"csrf_token": csrf_token(client, "/certificate")},
                           follow_redirects=True).get_data(as_text=True)
        assert "未申请：三员分立" in page
    officer = logged_in(app, "secadmin")
    page = officer.post("/admin/security/certificates/issue", follow_redirects=True,
                        data={"csrf_token": csrf_token(officer, "/admin/security/certificates"),
                              "login": "auditor"}).get_data(as_text=True)
    assert "未签发：三员分立" in page
    with gongwen.db.session() as db:
        assert db.scalar(select(PersonalCertificate.id).where(
            PersonalCertificate.person_id.in_([org.person(a).id for a in ("sysadmin", "secadmin", "auditor")]))) \
            is None
        assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "personal_certificate.issue_refused"))
    anonymous = app.test_client()
    for path in ("/certificate", "/admin/security/certificates"):
        assert anonymous.get(path).status_code == 302
    assert anonymous.post("/certificate/report-lost").status_code in (302, 400)


def test_hostile_requests_are_refused_in_chinese_and_change_nothing(gongwen, org, app):
    signer = org.person("lyg.signer")
    before = _certificate(gongwen, signer.id)
    officer = logged_in(app, "secadmin")
    token = csrf_token(officer, "/admin/security/certificates")
    for reason in ("", "suspended", "left' OR 1=1", "<script>", "x" * 10_000):
        page = officer.post(f"/admin/security/certificates/{before.id}/revoke", follow_redirects=True,
                            data={"csrf_token": token, "reason": reason})
        assert page.status_code == 200 and "未办理：吊销原因应为" in page.get_data(as_text=True)
    for login in ("nobody", "lyg.signer\x00", "x" * 10_000, "lyg.signer"):
        page = officer.post("/admin/security/certificates/issue", follow_redirects=True,
                            data={"csrf_token": token, "login": login})
        assert page.status_code in (200, 400)
        assert page.status_code == 400 or "未签发" in page.get_data(as_text=True)
    for path in ("/admin/security/certificates/999999/lift", "/admin/security/certificates/0/revoke",
                 "/admin/security/certificates/-1/revoke", "/admin/security/certificates/99999999999999999999/lift",
                 "/admin/security/certificates/abc/lift", f"/admin/security/certificates/{before.id}/delete"):
        assert officer.post(path, data={"csrf_token": token, "reason": "other"}).status_code == 404
    twice = officer.post(f"/admin/security/certificates/{before.id}/lift", follow_redirects=True,
                         data={"csrf_token": token}).get_data(as_text=True)
    assert "未办理：证书有效，不能解除挂失" in twice
    client = logged_in(app, "lyg.drafter")  # has none: nothing to report lost, nothing of anyone else's
    page = client.post("/certificate/report-lost", data={"csrf_token": csrf_token(client, "/certificate"),
                                                         "certificate_id": before.id}, follow_redirects=True)
    assert "未挂失：您没有可挂失的个人签名证书" in page.get_data(as_text=True)
    after = _certificate(gongwen, signer.id)
    assert (after.status, after.serial) == (CertificateStatus.ACTIVE, before.serial)


def test_a_name_too_long_for_a_certificate_is_cut_and_a_unit_name_too_long_is_refused(gongwen, org, app):
    with gongwen.db.write() as db:
        long_unit = organisation.create_unit(db, "连云港市" + "某" * 70 + "局", org.unit("finance").kind,
                                             parent=db.get(type(org.unit("city")), org.unit("city").id))
        organisation.create_person(db, "long.unit", "王芳", "Gongwen-Demo-9", unit=long_unit)
        organisation.create_person(db, "long.name", "欧阳" * 25, "Gongwen-Demo-9",
                                   unit=db.get(type(org.unit("finance")), org.unit("finance").id))
    officer = logged_in(app, "secadmin")
    token = csrf_token(officer, "/admin/security/certificates")
    refused = officer.post("/admin/security/certificates/issue", data={"csrf_token": token, "login": "long.unit"},
                           follow_redirects=True)
    assert refused.status_code == 200 and "未签发：证书中的单位名称须为 1 至 64 个字" in refused.get_data(as_text=True)
    issued = officer.post("/admin/security/certificates/issue", data={"csrf_token": token, "login": "long.name"},
                          follow_redirects=True)
    assert "已为 " + "欧阳" * 25 + " 签发个人签名证书" in issued.get_data(as_text=True)


def test_two_requests_racing_leave_one_certificate_and_a_clear_refusal(gongwen, org, app, monkeypatch):
    """A double click: the second request does not see the first's row yet; the database keeps one."""
    officer = logged_in(app, "secadmin")
    token = csrf_token(officer, "/admin/security/certificates")
    before = _certificate(gongwen, org.person("lyg.signer").id)
    monkeypatch.setattr(personal, "current", lambda session, person_id: None)
    page = officer.post("/admin/security/certificates/issue", data={"csrf_token": token, "login": "lyg.signer"},
                        follow_redirects=True)
    assert page.status_code == 200 and "未签发：该人员已有申请中或有效的个人签名证书" in page.get_data(as_text=True)
    client = logged_in(app, "lyg.signer")
    page = client.post("/certificate/apply", data={"csrf_token": csrf_token(client, "/certificate")},
                       follow_redirects=True)
    assert page.status_code == 200 and "未申请：该人员已有申请中或有效的个人签名证书" in page.get_data(as_text=True)
    with gongwen.db.session() as db:
        rows = db.scalars(select(PersonalCertificate).where(
            PersonalCertificate.person_id == org.person("lyg.signer").id)).all()
    assert [(r.serial, r.status) for r in rows] == [(before.serial, CertificateStatus.ACTIVE)]


def test_the_api_refuses_a_sign_off_without_a_certificate_and_changes_nothing(gongwen, org, app):
    signer = org.person("lyg.signer")
    _revoke_own(gongwen, signer.id)
    task = _to_sign_off(gongwen, org)
    client = app.test_client()
    bearer = client.post("/api/v1/auth/token", json={"login": "lyg.signer", "password": "gongwen-demo"}).get_json()
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"decision": "approve"},
                           headers={"Authorization": f"Bearer {bearer['token']}"})
    assert 400 <= response.status_code < 500 and NEEDS in response.get_json()["message"]
    with gongwen.db.session() as db:
        assert db.get(Task, task.id).state == TaskState.READY
        assert db.scalar(select(OpinionSignature.id)) is None

