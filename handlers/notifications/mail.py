"""Mail: notices sent over SMTP to a person's email address.

Configured by ``GONGWEN_SMTP_URL`` (``smtp://[user:pass@]host:port``, ``smtp+starttls://…`` or
``smtps://…``) and ``GONGWEN_MAIL_FROM``; the link in each mail points at ``GONGWEN_PUBLIC_URL``.
Without a server, a notice for mail is kept and shown to the system administrator as
"未配置邮件服务器", never silently dropped. Each mail carries a ``Message-ID`` derived from the
outbox item's idempotency key, so a mail sent again after a crash is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from engine import clock
from engine.background import JobContext
from engine.config import ConfigError, option
from engine.models import Person

from .models import Notification
from .tell import Undeliverable, register_channel

__all__ = ["MAIL_FROM", "PUBLIC_URL", "SMTP_URL", "MailChannel", "SmtpServer", "compose", "kind_label",
           "normalise_email", "parse_smtp_url"]

_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
SMTP_TIMEOUT_S = 20.0  # a server that hangs fails the attempt (retried later) instead of holding the worker

# What each kind of notice is called in a subject line and in the notification centre.
KIND_LABELS = {
    "urgent_arrival": "特急公文到达",
    "chase": "催签",
    "unsigned_24h": "公文未签收",
    "escalation": "逾期督办",
    "overdue": "办理逾期",
    "remind_sign": "签收提醒",
    "remind_handle": "办理提醒",
    "seal_done": "印章办理结果",
    "reminder": "提醒",
    "contact_change": "联系人变更",
}


def kind_label(kind: str) -> str:
    """The short Chinese name of a notice's kind (通知 for a kind without one)."""
    return KIND_LABELS.get(kind, "通知")


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes. The password is never part of its text, so logging it reveals nothing."""

    scheme: str
    host: str
    port: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{who}{self.host}:{self.port}"


def parse_smtp_url(text: str) -> SmtpServer:
    """``smtp://[user:pass@]host[:port]`` (also ``smtp+starttls://``, ``smtps://``) as an :class:`SmtpServer`.

    A malformed URL raises ``ConfigError`` with a message that repeats no credentials (the generic
    "invalid value" message of the settings would print the whole URL, password included).
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("GONGWEN_SMTP_URL 格式应为 smtp://[用户名:密码@]主机:端口（端口须为数字）") from None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ConfigError("GONGWEN_SMTP_URL 应以 smtp://、smtp+starttls:// 或 smtps:// 开头并写明主机，"
                          "如 smtp+starttls://user:pass@mail.example.gov.cn:587")
    if parts.password is not None and parts.scheme == "smtp":
        # Credentials in clear over an unencrypted connection: refuse rather than leak them.
        raise ConfigError("GONGWEN_SMTP_URL 带用户名和密码时须用 smtp+starttls:// 或 smtps://，以免密码明文传输")
    return SmtpServer(parts.scheme, parts.hostname, port or _SCHEMES[parts.scheme],
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password is not None else None)


def _parse_sender(text: str) -> str:
    address = normalise_email(text)
    if address is None:
        raise ValueError("应为一个电子邮箱地址，如 gongwen@example.gov.cn")
    return address


def _parse_public_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("应为 http:// 或 https:// 开头的地址，如 https://gongwen.example.gov.cn")
    return text.strip().rstrip("/")


SMTP_URL = option("smtp_url", "GONGWEN_SMTP_URL", parse_smtp_url, None)
MAIL_FROM = option("mail_from", "GONGWEN_MAIL_FROM", _parse_sender, "gongwen@localhost")
# Where people reach Gongwen, for links in mail (and any other message that leaves the app).
PUBLIC_URL = option("public_url", "GONGWEN_PUBLIC_URL", _parse_public_url, "http://127.0.0.1:5000")

# Deliberately plain: an ASCII local part and a dotted domain of letters, digits and hyphens. Mail
# servers in government networks vary in what else they accept; this is what all of them take.
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}|"
                    r"[A-Za-z0-9._%+-]+@localhost")
EMAIL_MAX = 200  # the column's width (Person.email)


def normalise_email(text: str | None) -> str | None:
    """The address as stored (trimmed, domain in lower case), or None if it is not a plausible address."""
    text = (text or "").strip()
    if len(text) > EMAIL_MAX or not _EMAIL.fullmatch(text):
        return None
    local, domain = text.rsplit("@", 1)
    if len(local) > 64:
        return None
    return f"{local}@{domain.lower()}"


def _message_id(key: str, sender: str) -> str:
    """The same ``Message-ID`` for every attempt at the same outbox item."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<{digest}.notice@{sender.rsplit('@', 1)[1]}>"


def compose(notification: Notification, person: Person, key: str, *, sender: str, public_url: str) -> EmailMessage:
    """The mail telling ``person`` of ``notification``: plain UTF-8 text with a link to the notice."""
    subject = f"【公文系统】{kind_label(notification.kind)}"
    if notification.urgent:
        subject = f"【紧急】{subject}"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = Address("公文系统", addr_spec=sender)
    message["To"] = Address(person.name, addr_spec=person.email)
    message["Date"] = format_datetime(clock.local(notification.created_at))
    message["Message-ID"] = _message_id(key, sender)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a system sender
    lines = [f"{person.name}：", "", notification.text, ""]
    if notification.reason:
        lines.append(f"原因：{notification.reason}")
    lines += [f"时间：{clock.local(notification.created_at):%Y-%m-%d %H:%M}（北京时间）",
              f"查看：{public_url}/notices/{notification.id}", "",
              "—— 公文系统（本邮件由系统自动发送，请勿直接回复）"]
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    return message


def _deliver(server: SmtpServer, message: EmailMessage) -> None:
    """Hand ``message`` to ``server``; a permanent refusal of the recipient is :class:`Undeliverable`."""
    if server.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT_S,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_S)
    with smtp:
        if server.scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        if server.user:
            smtp.login(server.user, server.password or "")
        try:
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as err:
            # 5xx: the server will never take this address (no such mailbox); 4xx is worth another try.
            codes = [code for code, _ in err.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise Undeliverable(f"邮件服务器拒收该地址（{codes[0]}）") from None
            raise


class MailChannel:
    """Notices by mail, to the address in the person's notice settings."""

    name = "mail"
    label = "邮件"
    default = True

    def reaches(self, person: Person) -> bool:
        """Whether the person has an email address."""
        return bool(person.email)

    def send(self, job: JobContext, session: Session, notification: Notification, key: str) -> None:
        """Send one mail; SMTP errors propagate (retried with back-off), a missing server ends the attempts."""
        server = job.settings.option(SMTP_URL)
        if server is None:
            raise Undeliverable("未配置邮件服务器")
        person = session.get(Person, notification.person_id)
        if person is None or not person.email:
            raise Undeliverable("收件人未登记电子邮箱")
        sender = job.settings.option(MAIL_FROM)
        message = compose(notification, person, key, sender=sender, public_url=job.settings.option(PUBLIC_URL))
        _deliver(server, message)


register_channel(MailChannel())
