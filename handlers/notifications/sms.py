"""Texts (SMS) through Kannel's ``sendsms`` HTTP interface, and their delivery reports.

Every text is a :class:`TextMessage` row written in the caller's transaction with an outbox item
(topic ``sms``) that sends it after the commit, at least once, under its key. Notices told with
``tell()`` reach a person's mobile through :class:`SmsChannel`; the duty staff of the register, who
may have no account, are texted with :func:`text_number`. Both go the same way:

- the paying unit (:func:`payer_of`: the county, else the city's payer) may have texting switched
  off: the text is kept as SWITCHED_OFF, costs nothing and is not sent;
- without ``GONGWEN_SMS_URL`` the text is kept as NO_GATEWAY and shown to the system administrator;
- a non-urgent text in quiet hours (``GONGWEN_SMS_QUIET_HOURS``, Beijing time) waits for the
  morning; an urgent one goes at once, day or night;
- Kannel answering anything but 2xx, or not at all, fails the attempt (retried with back-off);
  after the last attempt the text is FAILED and its outbox item dead.

A text the gateway accepted is SENT and costs its segments (:func:`segments`) at
``GONGWEN_SMS_PRICE``; Kannel's delivery reports (:func:`record_report`) come back to the
``dlr-url`` with an HMAC token, so a report cannot be forged.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from http.client import HTTPException
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.background import MAX_ATTEMPTS, Deferred, JobContext, consumer
from engine.config import ConfigError, Settings, option
from engine.daily import add_to_day
from engine.db import is_sqlite
from engine.errors import Forbidden, GongwenError, NotFound
from engine.messages import after_commit
from engine.models import Outbox, OutboxStatus, Person

from .mail import PUBLIC_URL
from .models import Notification, TextMessage, TextStatus
from .tell import Undeliverable, register_channel
from .texts_report import CITY_PAYER, PRICE, payer_of, switched_off

__all__ = ["DLR_PATH", "QUIET_HOURS", "REPORT_TYPES", "SMS_FROM", "SMS_URL", "Gateway", "GatewayError",
           "SmsChannel", "deliver_text", "parse_gateway", "quiet_until", "record_report", "report_token", "segments",
           "send_text", "text_number"]

GATEWAY_TIMEOUT_S = 15.0  # a gateway that hangs fails the attempt instead of holding the worker
DLR_PATH = "/sms/dlr"     # + /<text id>; the route is web.texts.delivery_report
DLR_MASK = 31             # every report Kannel has: delivered, failed, buffered, SMSC accepted, SMSC rejected
NO_GATEWAY_REASON = "未配置短信网关（GONGWEN_SMS_URL）"
_NUMBER = re.compile(r"\+?[0-9]{3,20}")  # what a gateway takes: digits, an optional + (no spaces, no dashes)


# -- settings ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Gateway:
    """Kannel's sendsms URL; the credentials are never part of its text, so logging it reveals nothing."""

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.url


def parse_gateway(text: str) -> Gateway:
    """``http://[user:pass@]host:port/cgi-bin/sendsms`` as a :class:`Gateway` (credentials taken out of the URL).

    A malformed URL raises ``ConfigError`` with a message that repeats no credentials.
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("GONGWEN_SMS_URL 格式应为 http://[用户名:密码@]主机:端口/cgi-bin/sendsms") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("GONGWEN_SMS_URL 应以 http:// 或 https:// 开头并写明主机，"
                          "如 http://gongwen:口令@127.0.0.1:13013/cgi-bin/sendsms")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{port}" if port else host
    return Gateway(urlunsplit((parts.scheme, netloc, parts.path or "/cgi-bin/sendsms", "", "")),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password is not None else None)


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``22:00-07:30`` (may span midnight); empty or ``off`` for no quiet hours."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    try:
        start, end = (time.fromisoformat(x.strip()) for x in text.split("-"))
    except ValueError:
        raise ValueError("格式应为 22:00-07:30，或 off 表示不设静默时段") from None
    if start == end:
        raise ValueError("静默时段的开始与结束不能相同")
    return start, end


SMS_URL = option("sms_url", "GONGWEN_SMS_URL", parse_gateway, None)
SMS_USER = option("sms_user", "GONGWEN_SMS_USER", str, "")
SMS_PASSWORD = option("sms_password", "GONGWEN_SMS_PASSWORD", str, "")
SMS_FROM = option("sms_from", "GONGWEN_SMS_FROM", str.strip, "")
QUIET_HOURS = option("sms_quiet_hours", "GONGWEN_SMS_QUIET_HOURS", parse_quiet_hours, (time(22), time(7, 30)))


# -- size, payer, quiet hours -----------------------------------------------------------------------------

# GSM 03.38: the default alphabet (one septet each) and its extension table (two septets each).
_GSM_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    """Whether the text is written in the GSM 7-bit alphabet only (then 160 characters fit in one text)."""
    return all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text)


def segments(text: str) -> int:
    """How many texts the network sends (and charges) for ``text``.

    Chinese (UCS-2): 70 characters in one text, 67 per part when split; GSM 7-bit text: 160, or 153
    per part. A character outside the BMP takes two UCS-2 units, an extension character two septets.
    """
    if is_gsm7(text):
        size, one, part = sum(2 if c in _GSM_EXTENDED else 1 for c in text), 160, 153
    else:
        size, one, part = len(text.encode("utf-16-be")) // 2, 70, 67
    return 1 if size <= one else math.ceil(size / part)


def quiet_until(at: datetime, hours: tuple[time, time] | None) -> datetime | None:
    """The end of the quiet hours ``at`` falls in (UTC), or None when it is not in them."""
    if hours is None:
        return None
    start, end = hours
    local = clock.local(at)
    now = local.time()
    if start < end:
        inside, day = start <= now < end, local.date()
    else:  # spans midnight: 22:00-07:30
        inside = now >= start or now < end
        day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    return datetime.combine(day, end, tzinfo=clock.SHANGHAI).astimezone(clock.UTC)


# -- writing a text ---------------------------------------------------------------------------------------

def text_number(session: Session, *, number: str, text: str, unit_id: int, kind: str, key: str, urgent: bool,
                person_id: int | None = None, notification_id: int | None = None,
                instance_id: int | None = None) -> TextMessage:
    """Text ``number`` (which may belong to no account) after the caller's transaction commits.

    One text per ``key``: asking again returns the text already written and sends nothing more.
    ``unit_id`` is the unit reached (its payer pays). The payer here is provisional: the sending
    settles it with the installation's ``GONGWEN_SMS_CITY_PAYER``.
    """
    existing = session.scalar(select(TextMessage).where(TextMessage.key == key))
    if existing is not None:
        return existing
    message = TextMessage(key=key, number=number.strip(), text=text[:500], kind=kind, urgent=urgent,
                          person_id=person_id, unit_id=unit_id, payer_unit_id=payer_of(session, unit_id),
                          notification_id=notification_id, segments=segments(text[:500]), cost=Decimal(0),
                          status=TextStatus.QUEUED, created_at=clock.now())
    try:
        with session.begin_nested():  # two transactions writing the same key: the second takes the first's
            session.add(message)
            session.flush()
    except IntegrityError:
        return session.scalars(select(TextMessage).where(TextMessage.key == key)).one()
    session.add(Outbox(topic="sms", key=f"sms:{message.id}", payload={"text_id": message.id},
                       status=OutboxStatus.PENDING, source_instance_id=instance_id, created_at=message.created_at))
    add_to_day(session, unit_id, message.created_at, texts=1)
    after_commit(session, "deliver_outbox")
    return message


class SmsChannel:
    """Notices by text to the person's mobile. Off by default for non-urgent notices: texts cost money."""

    name = "sms"
    label = "短信"
    default = False

    def reaches(self, person: Person) -> bool:
        """Whether the person has a mobile number."""
        return bool((person.mobile or "").strip())

    def send(self, job: JobContext, session: Session, notification: Notification, key: str) -> None:
        """Write the notice's text (once per ``key``); its own outbox item sends it, or holds it for the morning."""
        person = session.get(Person, notification.person_id)
        if person is None or not self.reaches(person):
            raise Undeliverable("此人没有手机号码")
        unit_id = person.unit_id or payer_of(session, None, job.settings.option(CITY_PAYER))
        text_number(session, number=person.mobile, text=notification.text, unit_id=unit_id, kind=notification.kind,
                    key=key, urgent=notification.urgent, person_id=person.id, notification_id=notification.id,
                    instance_id=notification.instance_id)


register_channel(SmsChannel())


# -- sending ----------------------------------------------------------------------------------------------

class GatewayError(GongwenError):
    """Kannel refused the text or could not be reached; the message names no credentials."""


def report_token(secret_key: str, text_id: int) -> str:
    """The token a delivery report for text ``text_id`` must carry: only Gongwen and its gateway know it."""
    return hmac.new(secret_key.encode(), f"gongwen-sms-dlr:{text_id}".encode(), hashlib.sha256).hexdigest()[:32]


def _submit(settings: Settings, gateway: Gateway, message: TextMessage) -> str:
    """Hand the text to Kannel; its answer (``0: Accepted for delivery``) or a :class:`GatewayError`."""
    gsm = is_gsm7(message.text)
    params = {"username": gateway.user or settings.option(SMS_USER),
              "password": gateway.password if gateway.password is not None else settings.option(SMS_PASSWORD),
              "to": message.number, "text": message.text, "charset": "UTF-8", "coding": "0" if gsm else "2"}
    if sender := settings.option(SMS_FROM):
        params["from"] = sender
    if public := settings.option(PUBLIC_URL):
        # Kannel fills in %d (the report's type) and %A (the SMSC's answer) when it calls back.
        params["dlr-mask"] = str(DLR_MASK)
        params["dlr-url"] = (f"{public}{DLR_PATH}/{message.id}?type=%d&token="
                             f"{report_token(settings.secret_key, message.id)}&answer=%A")
    request = urllib.request.Request(f"{gateway.url}?{urlencode(params)}", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=GATEWAY_TIMEOUT_S) as answer:
            return answer.read(500).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as err:  # read before URLError: an HTTPError is one
        body = err.read(200).decode("utf-8", "replace").strip()
        raise GatewayError(f"短信网关 {gateway} 拒绝：HTTP {err.code} {body}"[:300]) from None
    except (urllib.error.URLError, OSError, HTTPException, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise GatewayError(f"短信网关 {gateway} 无法连接：{reason}"[:300]) from None


def send_text(job: JobContext, session: Session, message: TextMessage, *, last_attempt: bool) -> None:
    """Send one queued text now, or settle why it is not sent; idempotent (a settled text is left as it is).

    Raises ``Deferred`` in quiet hours (non-urgent), :class:`GatewayError` for the outbox to retry,
    and on the last attempt marks the text FAILED and raises ``Undeliverable``.
    """
    if message.status != TextStatus.QUEUED:
        return
    settings = job.settings
    if city_payer := settings.option(CITY_PAYER):  # without one, the payer written with the text stands
        message.payer_unit_id = payer_of(session, message.unit_id, city_payer)
    if switched_off(session, message.payer_unit_id):
        message.status, message.report = TextStatus.SWITCHED_OFF, "付费单位已关闭短信"
        add_to_day(session, message.unit_id, message.created_at, texts=-1)  # counted when written; never sent
        return
    gateway = settings.option(SMS_URL)
    if gateway is None:
        message.status, message.report = TextStatus.NO_GATEWAY, NO_GATEWAY_REASON
        raise Undeliverable(NO_GATEWAY_REASON)
    if not _NUMBER.fullmatch(message.number):
        message.status, message.report = TextStatus.FAILED, "手机号码格式不正确"
        raise Undeliverable("手机号码格式不正确")
    if not message.urgent and (until := quiet_until(clock.now(), settings.option(QUIET_HOURS))):
        raise Deferred(until)
    try:
        answer = _submit(settings, gateway, message)
    except GatewayError as err:
        if not last_attempt:
            raise
        message.status, message.report = TextStatus.FAILED, str(err)[:200]
        audit.record(session, "sms.failed", unit_id=message.unit_id, text_id=message.id, kind=message.kind)
        raise Undeliverable(str(err)) from None
    _accepted(session, settings, message)
    message.report = f"网关：{answer}"[:200]


def _accepted(session: Session, settings: Settings, message: TextMessage) -> None:
    """The gateway took the text: from now on it is sent, and paid for."""
    message.status, message.sent_at = TextStatus.SENT, clock.now()
    message.cost = message.segments * settings.option(PRICE)
    add_to_day(session, message.unit_id, message.created_at, text_segments=message.segments, text_cost=message.cost)


@consumer("sms")
def deliver_text(job: JobContext, session: Session, item: Outbox) -> None:
    """The outbox's way to send a text (``text_number``); a text that can never go leaves its item dead."""
    query = select(TextMessage).where(TextMessage.id == item.payload["text_id"])
    if not is_sqlite(session):  # a delivery report that arrives before this commits waits for it
        query = query.with_for_update()
    message = session.scalar(query)
    if message is None:
        return
    try:
        send_text(job, session, message, last_attempt=item.attempts >= MAX_ATTEMPTS)
    except Undeliverable as err:
        item.status, item.last_error = OutboxStatus.DEAD, str(err)


# -- delivery reports -------------------------------------------------------------------------------------

# Kannel's report types (its %d): the status each means and what the administrator reads.
REPORT_TYPES: dict[int, tuple[TextStatus | None, str]] = {
    1: (TextStatus.DELIVERED, "已送达手机"),
    2: (TextStatus.FAILED, "未送达手机"),
    4: (None, "短信中心已缓存，待投递"),
    8: (None, "短信中心已接收"),
    16: (TextStatus.FAILED, "短信中心拒收"),
}
_FINAL = (TextStatus.DELIVERED, TextStatus.FAILED)


def record_report(session: Session, settings: Settings, text_id: int, kind: int, token: str,
                  answer: str = "") -> TextMessage:
    """Apply Kannel's delivery report ``kind`` for text ``text_id``; idempotent, never moving back.

    Reports arrive in any order (an SMSC's "accepted" may come after the phone's "delivered"): the
    first final report (delivered, failed) stays, an intermediate one only updates a text still on its
    way. Raises ``Forbidden`` for a wrong token (a forged report), ``NotFound`` for an unknown text
    and ``ValueError`` for an unknown type.
    """
    if not hmac.compare_digest(token.encode(), report_token(settings.secret_key, text_id).encode()):
        raise Forbidden("投递报告的校验码不正确")
    if kind not in REPORT_TYPES:
        raise ValueError(f"unknown delivery report type {kind}")
    query = select(TextMessage).where(TextMessage.id == text_id)
    message = session.scalar(query if is_sqlite(session) else query.with_for_update())
    if message is None:
        raise NotFound("没有这条短信")
    status, label = REPORT_TYPES[kind]
    if message.status in _FINAL or message.status not in (TextStatus.QUEUED, TextStatus.SENT):
        return message  # settled: a repeat or a late intermediate report changes nothing
    if message.status == TextStatus.QUEUED:
        # The gateway took it but its acceptance was never committed (a crash after sending): the
        # report proves it was sent, and the text is not sent a second time.
        _accepted(session, settings, message)
    message.report = f"{label}{'：' + answer if answer else ''}"[:200]
    if status is not None:
        message.status = status
    if status == TextStatus.DELIVERED:
        message.delivered_at = clock.now()
    return message
