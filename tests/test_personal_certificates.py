"""Personal signing certificates (个人签名证书): applied for, issued by the security officer, reported lost,
lifted, revoked."""

from __future__ import annotations

import pytest
from cryptography import x509
from sqlalchemy import select

from engine import organisation
from engine.background import deliver_outbox
from engine.errors import Refused
from engine.models import AuditEvent
from handlers.seals import personal
from handlers.seals.models import CertificateAuthority, CertificateStatus, PersonalCertificate
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

