"""Mail: notices reach a person's mailbox through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import dataclasses
import email
import re
import socket
import threading
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from engine.background import MAX_ATTEMPTS, backoff, deliver_outbox
from engine.models import AuditEvent, Outbox, OutboxStatus, Person
from handlers.notifications import tell as notifications
from handlers.notifications.models import Notification
from tests.support import csrf_token, logged_in, require

try:
    from aiosmtpd.controller import Controller
except ImportError:  # required below: skipped here, a failure under CI
    Controller = None

PUBLIC = "https://gongwen.example.gov.cn"


class LocalSmtp:
    """A real SMTP server on a loopback port that can be stopped and started again on the same port."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self._lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's name for the DATA hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [m for rcpt, m in self.received if address in rcpt]


@pytest.fixture
def smtp():
    require(Controller is not None, "aiosmtpd (pip install -e '.[test]')")
    server = LocalSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, request):
    """Mail goes to the test's SMTP server when the test takes ``smtp``; otherwise none is configured."""
    environ = {**settings.environ, "GONGWEN_PUBLIC_URL": PUBLIC + "/"}
    if "smtp" in request.fixturenames:
        environ["GONGWEN_SMTP_URL"] = f"smtp://127.0.0.1:{request.getfixturevalue('smtp').port}"
    return dataclasses.replace(settings, environ=environ)


def _set_email(gongwen, login: str, address: str) -> Person:
    with gongwen.db.write() as db:
        person = db.scalar(select(Person).where(Person.login == login))
        person.email = address
        return person


def _tell(gongwen, person, text, *, key, urgent=False, kind="chase", reason="发文单位催签"):
    with gongwen.db.write() as db:
        (note,) = notifications.tell(db, [person.id], text, kind=kind, reason=reason, key=key, urgent=urgent)
        db.flush()
        return note.id


def _mail_item(gongwen, notice_id):
    with gongwen.db.session() as db:
        return next(i for i in db.scalars(select(Outbox).where(Outbox.topic == "tell"))
                    if i.payload == {"notification_id": notice_id, "channel": "mail"})


def test_a_notice_arrives_by_mail_with_its_text_reason_time_and_link(gongwen, org, app, smtp):
    # The clerk gives her address on her settings page, as a person would.
    client = logged_in(app, "lyg.clerk")
    saved = client.post("/settings/notices", data={"email": " Zhang.San@Example.GOV.cn ", "channel": ["mail"],
                                                   "csrf_token": csrf_token(client, "/settings/notices")})
    assert saved.status_code == 302
    clerk = org.person("lyg.clerk")

    notice = _tell(gongwen, clerk, "《关于做好冬季安全生产工作的通知》尚未签收，请尽快签收", key="mail-1")

    (mail,) = smtp.mails_to("Zhang.San@example.gov.cn")
    assert mail["To"].addresses[0].addr_spec == "Zhang.San@example.gov.cn"
    assert mail["To"].addresses[0].display_name == clerk.name
    assert str(mail["Subject"]) == "【公文系统】催签"
    assert mail["From"].addresses[0].addr_spec == "gongwen@localhost"
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert "《关于做好冬季安全生产工作的通知》尚未签收，请尽快签收" in body
    assert "原因：发文单位催签" in body
    assert "时间：2026-11-23 09:00（北京时间）" in body
    assert f"查看：{PUBLIC}/notices/{notice}" in body  # the configured public address, without a doubled slash

    # A crash after sending but before the commit: the same item goes out again, recognisably the same mail.
    with gongwen.db.write() as db:
        db.get(Outbox, _mail_item(gongwen, notice).id).status = OutboxStatus.PENDING
    deliver_outbox(gongwen)
    first, again = smtp.mails_to("Zhang.San@example.gov.cn")
    assert again["Message-ID"] == first["Message-ID"] and re.fullmatch(r"<[0-9a-f]{40}\.notice@localhost>",
                                                                        first["Message-ID"])
    other = _tell(gongwen, clerk, "另一条通知", key="mail-2")
    assert smtp.mails_to("Zhang.San@example.gov.cn")[-1]["Message-ID"] != first["Message-ID"] and other


def test_who_unticked_mail_gets_no_mail_but_an_urgent_notice_still_arrives(gongwen, org, app, smtp):
    head = _set_email(gongwen, "lyg.head", "lyg.head@example.gov.cn")
    client = logged_in(app, "lyg.head")
    page = client.get("/settings/notices").get_data(as_text=True)
    assert re.search(r'name="channel" value="mail" checked', page)  # mail is on by default
    client.post("/settings/notices", data={"email": "lyg.head@example.gov.cn",
                                           "csrf_token": csrf_token(client, "/settings/notices")})  # mail unticked
    assert not re.search(r'name="channel" value="mail" checked', client.get("/settings/notices").get_data(True))

    _tell(gongwen, head, "请于今日内办理请假审批", key="quiet", kind="remind_handle", reason="待办提醒")
    deliver_outbox(gongwen)
    assert smtp.mails_to("lyg.head@example.gov.cn") == []

    _tell(gongwen, head, "特急公文《关于防汛抢险的紧急通知》已到达，请立即签收", key="loud", urgent=True,
          kind="urgent_arrival", reason="特急公文须即时签收")
    (mail,) = smtp.mails_to("lyg.head@example.gov.cn")
    assert str(mail["Subject"]) == "【紧急】【公文系统】特急公文到达"
    assert "特急公文《关于防汛抢险的紧急通知》已到达，请立即签收" in mail.get_content()


def test_a_mail_server_that_is_down_is_retried_then_shown_and_redelivered_once_back(
        gongwen, org, app, smtp, fixed_clock):
    clerk = _set_email(gongwen, "cz.clerk", "cz.clerk@example.gov.cn")
    smtp.stop()  # the mail server is down from the start
    notice = _tell(gongwen, clerk, "《财政预算调整方案》请签收", key="down")

    item = _mail_item(gongwen, notice)
    assert (item.status, item.attempts) == (OutboxStatus.FAILED, 1)
    assert "Connection refused" in item.last_error
    assert item.not_before == fixed_clock.now() + backoff(1)

    deliver_outbox(gongwen)  # not due yet: the server is not hammered
    assert _mail_item(gongwen, notice).attempts == 1

    admin = logged_in(app, "sysadmin")
    page = admin.get("/admin/deliveries").get_data(as_text=True)
    retrying = page[page.index('id="retrying"'):]
    assert f'id="delivery-{item.id}"' in retrying and clerk.name in retrying and "连云港市财政局" in retrying

    waits = []
    while (item := _mail_item(gongwen, notice)).attempts < MAX_ATTEMPTS:
        waits.append(item.not_before - fixed_clock.now())
        fixed_clock.set(item.not_before)
        deliver_outbox(gongwen)
        assert _mail_item(gongwen, notice).attempts == item.attempts + 1
    assert waits == sorted(waits) and waits[-1] > waits[0]  # backing off
    fixed_clock.advance(timedelta(days=2))
    deliver_outbox(gongwen)
    assert _mail_item(gongwen, notice).attempts == MAX_ATTEMPTS  # the last attempt was the last

    admin = logged_in(app, "sysadmin")  # hours have passed: the earlier session timed out
    page = admin.get("/admin/deliveries").get_data(as_text=True)
    given_up = page[page.index('id="given-up"'):page.index('id="retrying"')]
    row = re.search(rf'<tr id="delivery-{item.id}">.*?</tr>', given_up, re.S).group(0)
    assert "邮件" in row and clerk.name in row and "连云港市财政局" in row and "Connection refused" in row
    assert f"<td>{MAX_ATTEMPTS}</td>" in row
    assert "财政预算调整方案" not in page  # 三员分立: never the notice's words

    smtp.start()  # the server is back
    token = csrf_token(admin, "/admin/deliveries")
    answer = admin.post(f"/admin/deliveries/{item.id}/retry", data={"csrf_token": token}, follow_redirects=True)
    answer = answer.get_data(as_text=True)
    assert "已重新投递，发送成功" in answer and f'id="delivery-{item.id}"' not in answer
    (mail,) = smtp.mails_to("cz.clerk@example.gov.cn")
    assert "《财政预算调整方案》请签收" in mail.get_content()
    with gongwen.db.session() as db:
        assert db.get(Outbox, item.id).status == OutboxStatus.DONE
        (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.redeliver")).all()
        assert event.actor_id == org.person("sysadmin").id and event.detail["attempts"] == MAX_ATTEMPTS

    # Without the form's token, nothing is redelivered.
    assert admin.post(f"/admin/deliveries/{item.id}/retry").status_code == 400


def test_without_a_mail_server_a_notice_is_kept_and_shown_as_not_sent(gongwen, org, app):
    clerk = _set_email(gongwen, "dh.clerk", "dh.clerk@example.gov.cn")
    notice = _tell(gongwen, clerk, "《东海县防汛预案》请签收", key="unconfigured")
    item = _mail_item(gongwen, notice)
    assert (item.status, item.last_error) == (OutboxStatus.DEAD, "未配置邮件服务器")
    with gongwen.db.session() as db:
        assert db.get(Notification, notice).read_at is None  # still in the app, unread

    page = logged_in(app, "sysadmin").get("/admin/deliveries").get_data(as_text=True)
    row = re.search(rf'<tr id="delivery-{item.id}">.*?</tr>', page, re.S).group(0)
    assert "未配置邮件服务器" in row and clerk.name in row and "东海县人民政府办公室" in row
    assert "东海县防汛预案" not in page
