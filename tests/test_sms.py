"""Texts (SMS) through a real Kannel: bearerbox, smsbox and Kannel's fake SMS centre on loopback.

Gongwen sends through Kannel's sendsms interface; the fake SMS centre's output shows what each
phone got, and Kannel calls Gongwen's delivery-report route, served on a real loopback port, as
it would in production. The fake SMS centre reports each text as accepted by the SMSC (type 8) and
then as delivered to the phone (type 1): a text ends DELIVERED.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from lxml import html
from sqlalchemy import func, select
from werkzeug.serving import make_server

from engine.background import MAX_ATTEMPTS, backoff, deliver_outbox
from engine.models import AuditEvent, Outbox, OutboxStatus, Person
from engine.periods import Period
from handlers.notifications.models import ChannelChoice, Notification, TextingOff, TextMessage, TextStatus
from handlers.notifications.sms import DLR_PATH, parse_gateway, quiet_until, report_token, segments, text_number
from handlers.notifications.tell import tell
from handlers.notifications.texts_report import cost_report, payer_of, paying_units, switch_texting
from tests.kannel import Received, free_port, kannel_fixture  # noqa: F401  (the fixture "kannel")
from tests.support import csrf_token, logged_in

SENDER = "10690001"
Q4 = Period.quarter("2026Q4")
MONDAY_23H = datetime.fromisoformat("2026-11-23T23:00:00+08:00")
TUESDAY_0730 = datetime.fromisoformat("2026-11-24T07:30:00+08:00")
ARRIVAL = "特急公文《关于做好寒潮天气防范应对工作的紧急通知》已到达，请立即登录公文系统签收。"


class _Late:
    """A WSGI app that forwards to the test's Flask app once there is one (the server starts before it),
    counting the delivery reports it answered."""

    target = None
    reports = 0

    def __call__(self, environ, start_response):
        answer = self.target(environ, start_response)
        if environ.get("PATH_INFO", "").startswith(DLR_PATH):
            self.reports += 1
        return answer


@pytest.fixture
def live():
    """A real HTTP server on a loopback port, for Kannel to call the delivery-report route on."""
    late = _Late()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    late.url = f"http://127.0.0.1:{server.server_port}"
    yield late
    server.shutdown()
    server.server_close()  # from now on Kannel's late reports are refused at once, not left hanging
    thread.join(5)


@pytest.fixture
def reports(live, app, gongwen):
    """The test's app answering Kannel's delivery reports on the live server.

    Afterwards it waits for the fake SMS centre's two reports of every text sent: a report still on its
    way when the server closes would meet a reset connection, which Kannel 1.4.5's smsbox does not survive.
    """
    live.target = app
    yield live
    with gongwen.db.session() as db:
        sent = db.scalar(select(func.count()).select_from(TextMessage).where(TextMessage.sent_at.is_not(None)))
    deadline = time.monotonic() + 20
    while live.reports < 2 * sent and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def down_gateway() -> str:
    """A sendsms URL where nothing listens: a gateway that is down."""
    return f"http://gongwen:down-口令@127.0.0.1:{free_port()}/cgi-bin/sendsms"


@pytest.fixture
def settings(settings, request):
    """Texts go to the module's Kannel when the test takes ``kannel``, to a dead port with ``down_gateway``;
    otherwise no gateway is configured. Delivery reports come to ``live`` when the test takes it."""
    environ = {**settings.environ, "GONGWEN_SMS_FROM": SENDER}
    if "kannel" in request.fixturenames:
        gateway = request.getfixturevalue("kannel")
        gateway.forget()  # the gateway serves the module: each test counts only its own texts
        environ["GONGWEN_SMS_URL"] = gateway.sendsms_url
    if "down_gateway" in request.fixturenames:
        environ["GONGWEN_SMS_URL"] = request.getfixturevalue("down_gateway")
    if "live" in request.fixturenames:
        environ["GONGWEN_PUBLIC_URL"] = request.getfixturevalue("live").url
    return dataclasses.replace(settings, environ=environ)


def _mobile(gongwen, person: Person, number: str) -> Person:
    with gongwen.db.write() as db:
        db.get(Person, person.id).mobile = number
    return person


def _texts(gongwen, **where) -> list[TextMessage]:
    with gongwen.db.session() as db:
        return list(db.scalars(select(TextMessage).filter_by(**where).order_by(TextMessage.id)))


def _eventually(check, timeout: float = 20.0):
    """``check()``'s first true answer, asked again until ``timeout`` (Kannel answers on its own time)."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)
    return answer


def _sms_item(gongwen, text_id: int) -> Outbox:
    with gongwen.db.session() as db:
        return db.scalars(select(Outbox).where(Outbox.key == f"sms:{text_id}")).one()


def _text(gongwen, org, unit: str, number: str, words: str, key: str, urgent: bool = True) -> TextMessage:
    with gongwen.db.write() as db:
        return text_number(db, number=number, text=words, unit_id=org.unit(unit).id, kind="urgent_arrival",
                           key=key, urgent=urgent)


# -- sending through Kannel -------------------------------------------------------------------------------

def test_an_urgent_text_reaches_the_phone_at_night_and_its_delivery_report_comes_back(
        gongwen, org, kannel, reports, fixed_clock):
    fixed_clock.set(MONDAY_23H)  # quiet hours: an urgent text goes all the same
    clerk = _mobile(gongwen, org.person("dh.clerk"), "13900000101")

    with gongwen.db.write() as db:
        tell(db, [clerk.id], ARRIVAL, kind="urgent_arrival", key="arrival:1", urgent=True)

    assert kannel.wait_for("13900000101") == [Received(SENDER, "13900000101", ARRIVAL)]
    [text] = _eventually(lambda: _texts(gongwen, number="13900000101", status=TextStatus.DELIVERED))
    assert text.person_id == clerk.id and text.unit_id == org.unit("donghai_office").id
    assert text.payer_unit_id == org.unit("donghai").id  # the county pays for its office
    assert text.sent_at == MONDAY_23H and text.delivered_at == MONDAY_23H
    assert (text.segments, text.cost) == (1, Decimal("0.05"))
    assert text.report.startswith("已送达手机")

    # Told again under the same key, and the outbox run again: the phone gets nothing more.
    with gongwen.db.write() as db:
        again = text_number(db, number="13900000101", text=ARRIVAL, unit_id=text.unit_id, kind="urgent_arrival",
                            key=text.key, urgent=True)
    assert again.id == text.id
    with gongwen.db.write() as db:
        db.scalars(select(Outbox).where(Outbox.key == f"sms:{text.id}")).one().status = OutboxStatus.PENDING
    deliver_outbox(gongwen)
    _text(gongwen, org, "donghai_office", "13900000102", "到此为止", "marker")
    kannel.wait_for("13900000102")  # sent after the repeat: had the repeat gone out, it would be there by now
    assert len(kannel.wait_for("13900000101")) == 1


def test_a_non_urgent_text_told_at_night_waits_for_half_past_seven(gongwen, org, kannel, reports, fixed_clock, app):
    fixed_clock.set(MONDAY_23H)
    chose = _mobile(gongwen, org.person("lyg.clerk"), "13900000201")
    did_not = _mobile(gongwen, org.person("lyg.head"), "13900000202")
    with gongwen.db.write() as db:
        db.add(ChannelChoice(person_id=chose.id, channel="sms", enabled=True))

    with gongwen.db.write() as db:
        tell(db, [chose.id, did_not.id], "您有一件待办：请阅办《市财政局关于报送年度预算执行情况的函》",
             kind="reminder", key="remind:1")

    [text] = _texts(gongwen, number="13900000201")
    assert text.status == TextStatus.QUEUED and not _texts(gongwen, number="13900000202")  # texts only if chosen
    assert _sms_item(gongwen, text.id).not_before == TUESDAY_0730
    assert deliver_outbox(gongwen) == 0  # nothing is due before the morning
    page = logged_in(app, "sysadmin").get("/admin/texts").get_data(as_text=True)
    assert "待发送（静默时段，11-24 07:30 发出）" in page
    [entry] = html.fromstring(page).xpath("//nav[@id='menu']//a[@href='/admin/texts']")  # in the menu
    assert entry.text_content().strip() == "短信"

    fixed_clock.set(TUESDAY_0730)
    assert deliver_outbox(gongwen) == 1
    assert kannel.wait_for("13900000201")[0].text.startswith("您有一件待办")
    [text] = _texts(gongwen, number="13900000201")
    assert text.sent_at == TUESDAY_0730 and text.status in (TextStatus.SENT, TextStatus.DELIVERED)
    with gongwen.db.session() as db:  # both were told in the app
        assert len(db.scalars(select(Notification).where(Notification.kind == "reminder")).all()) == 2


def test_a_county_with_texting_off_gets_no_texts_and_pays_nothing(gongwen, org, kannel, reports, app, run):
    admin = logged_in(app, "sysadmin")
    token = csrf_token(admin, "/admin/texts")

    def switch(unit: str, action: str, reason: str = "") -> str:
        answer = admin.post("/admin/texts/switch", data={"unit_id": org.unit(unit).id, "action": action,
                                                          "reason": reason, "csrf_token": token},
                            follow_redirects=True)
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    assert "不是短信付费单位" in switch("donghai_office", "off", "县办申请")  # the county pays, not its office
    assert "须写明原因" in switch("donghai", "off")
    assert "已关闭短信" in switch("donghai", "off", "东海县政府办 2026 年 11 月 20 日来函申请，改用系统内通知")
    clerk = _mobile(gongwen, org.person("dh.clerk"), "13900000301")

    with gongwen.db.write() as db:
        tell(db, [clerk.id], ARRIVAL, kind="urgent_arrival", key="arrival:3", urgent=True)
    _text(gongwen, org, "donghai_office", "13900000302", ARRIVAL, "duty:dh")
    _text(gongwen, org, "guanyun_office", "13900000303", ARRIVAL, "duty:gy")

    kannel.wait_for("13900000303")  # Guanyun's went out, after Donghai's two were settled
    assert not [r for r in kannel.received() if r.number in ("13900000301", "13900000302")]
    donghai = _texts(gongwen, payer_unit_id=org.unit("donghai").id)
    assert [(t.status, t.cost, t.sent_at) for t in donghai] == [(TextStatus.SWITCHED_OFF, 0, None)] * 2
    with gongwen.db.session() as db:  # the clerk was still told in the app
        assert db.scalar(select(Notification).where(Notification.person_id == clerk.id)) is not None
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "sms.texting_off")).unit_id == \
            org.unit("donghai").id
        report = {p.unit_id: p for p in cost_report(db, gongwen.settings, Q4).payers}
    off, on = report[org.unit("donghai").id], report[org.unit("guanyun").id]
    assert (off.messages, off.segments, off.cost, off.unsent, off.off.reason[:3]) == (0, 0, 0, 2, "东海县")
    assert (on.messages, on.segments, on.cost, on.unsent) == (1, 1, Decimal("0.05"), 0)
    page = admin.get("/admin/texts").get_data(as_text=True)
    assert "已关闭（" in page and "东海县政府办 2026 年 11 月 20 日来函申请" in page

    assert "东海县人民政府：已恢复短信" in run("sms", "on", "东海县人民政府").output
    assert "东海县人民政府：已关闭短信" in run("sms", "off", "东海县人民政府", "--reason", "再次申请").output
    assert "东海县人民政府：短信本已关闭" in run("sms", "off", "东海县人民政府", "--reason", "再次申请").output
    assert run("sms", "on", "东海县人民政府").exit_code == 0
    _text(gongwen, org, "donghai_office", "13900000304", ARRIVAL, "duty:dh:2")
    kannel.wait_for("13900000304")  # switched on again: the county's units are texted


def test_the_cost_report_adds_up_per_county_and_unit(gongwen, org, kannel, fixed_clock, app, tmp_path, run):
    fixed_clock.set(datetime.fromisoformat("2026-09-30T23:00:00+08:00"))  # the last hour of Q3
    _text(gongwen, org, "donghai_office", "13900000400", "三季度的一条", "q3")
    fixed_clock.set(datetime.fromisoformat("2026-11-23T09:00:00+08:00"))
    texts = {  # unit: [(number, words, segments)]
        "donghai_office": [("13900000401", "请签收", 1), ("13900000402", "急" * 71, 2)],
        "guanyun_office": [("13900000403", "Please sign for document 12 " * 5 + "x" * 21, 2),
                           ("13900000404", "签" * 70, 1)],
        "finance": [("13900000405", "财" * 140, 3)],
    }
    for unit, sent in texts.items():
        for number, words, count in sent:
            assert segments(words) == count
            _text(gongwen, org, unit, number, words, f"cost:{number}")
    for sent in texts.values():
        for number, words, _ in sent:
            assert kannel.wait_for(number)[0].text == words  # long texts arrive whole, in their parts

    with gongwen.db.session() as db:
        report = cost_report(db, gongwen.settings, Q4)
    price = Decimal("0.05")
    payers = {p.unit_id: p for p in report.payers}
    expected = {"donghai": ("donghai_office", 2, 3), "guanyun": ("guanyun_office", 2, 3), "city": ("finance", 1, 3)}
    for payer, (unit, messages, count) in expected.items():
        row = payers[org.unit(payer).id]
        assert (row.messages, row.segments, row.cost) == (messages, count, count * price)
        assert [(u.unit_id, u.messages, u.segments, u.cost) for u in row.units] == \
            [(org.unit(unit).id, messages, count, count * price)]
    assert payers[org.unit("guannan").id].messages == 0  # every paying county is listed
    assert (report.total.messages, report.total.segments, report.total.cost) == (5, 9, 9 * price)

    from openpyxl import load_workbook

    export = logged_in(app, "sysadmin").get("/admin/texts.xlsx?quarter=2026Q4")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(export.data))["按付费单位"]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["东海县人民政府"] == ("开启", 2, 3, pytest.approx(0.15), 0)
    assert rows["合计"][1:4] == (5, 9, pytest.approx(0.45))
    third = logged_in(app, "sysadmin").get("/admin/texts.xlsx?quarter=2026Q3")
    assert {r[0]: r[2] for r in load_workbook(io.BytesIO(third.data))["按付费单位"].iter_rows(
        min_row=3, values_only=True)}["东海县人民政府"] == 1

    admin = logged_in(app, "sysadmin")
    november = admin.get("/admin/texts?since=2026-11-01&until=2026-11-30").get_data(as_text=True)
    assert "2026-11-01 至 2026-11-30" in november
    assert "<th>合计</th><th></th><th>5</th><th>9</th><th>0.45</th>" in november
    wrong = admin.get("/admin/texts?quarter=2026Q9", follow_redirects=True).get_data(as_text=True)
    assert "统计期间无效" in wrong and "2026 年第四季度" in wrong  # this quarter instead

    out = run("sms", "report", "--quarter", "2026Q4", "--xlsx", str(tmp_path / "q4.xlsx"))
    assert out.exit_code == 0, out.output
    assert "东海县人民政府\t小计\t2\t3\t0.15\t0" in out.output and "合计\t\t5\t9\t0.45\t0" in out.output
    units = load_workbook(tmp_path / "q4.xlsx")["按单位"]
    assert ("连云港市人民政府", "连云港市财政局", 1, 3, pytest.approx(0.15), 0) in \
        list(units.iter_rows(min_row=2, values_only=True))
    assert run("sms", "report", "--quarter", "2026Q5").exit_code == 2
    september = run("sms", "report", "--since", "2026-09-01", "--until", "2026-09-30").output
    assert "东海县人民政府\t小计\t1\t1\t0.05\t0" in september and "合计\t\t1\t1\t0.05\t0" in september


# -- failures and their display ---------------------------------------------------------------------------

def test_a_gateway_that_is_down_is_retried_with_back_off_and_then_shown_failed(
        gongwen, org, down_gateway, fixed_clock, app):
    clerk = _mobile(gongwen, org.person("gy.clerk"), "13900000501")
    with gongwen.db.write() as db:
        tell(db, [clerk.id], ARRIVAL, kind="urgent_arrival", key="arrival:5", urgent=True)
    [text] = _texts(gongwen, number="13900000501")
    admin = logged_in(app, "sysadmin")

    for attempt in range(1, MAX_ATTEMPTS):
        item = _sms_item(gongwen, text.id)
        assert (item.status, item.attempts) == (OutboxStatus.FAILED, attempt)
        assert item.not_before == fixed_clock.now() + backoff(attempt)  # 30 s, 1 min, 2 min ... at most an hour
        assert "无法连接" in item.last_error and "口令" not in item.last_error
        fixed_clock.advance(backoff(attempt) - timedelta(seconds=1))
        assert deliver_outbox(gongwen) == 0  # not before its time
        if attempt == 3:
            assert "重试中（已失败 3 次）" in admin.get("/admin/texts").get_data(as_text=True)
        fixed_clock.advance(timedelta(seconds=1))
        assert deliver_outbox(gongwen) == 1

    [text] = _texts(gongwen, number="13900000501")
    item = _sms_item(gongwen, text.id)
    assert (text.status, text.sent_at, text.cost) == (TextStatus.FAILED, None, 0)
    assert (item.status, item.attempts) == (OutboxStatus.DEAD, MAX_ATTEMPTS)
    fixed_clock.advance(timedelta(days=1))
    assert deliver_outbox(gongwen) == 0  # the last attempt was the last
    page = logged_in(app, "sysadmin").get("/admin/texts").get_data(as_text=True)  # a day later: a new session
    row = page[page.index(f'data-text="{text.id}"'):][:600]
    assert "发送失败" in row and "灌云县人民政府办公室" in row and clerk.name in row and "特急公文到达" in row
    assert "无法连接" in row and "口令" not in page
    assert "寒潮" not in page  # never the words of a text: titles are document content


def test_kannel_refusing_a_text_fails_the_attempt_with_its_answer(gongwen, org, kannel, settings):
    wrong = kannel.sendsms_url.replace("kannel-test", "wrong")
    gongwen.settings = dataclasses.replace(settings, environ={**settings.environ, "GONGWEN_SMS_URL": wrong})
    text = _text(gongwen, org, "guannan_office", "13900000601", ARRIVAL, "refused")
    item = _sms_item(gongwen, text.id)
    assert item.status == OutboxStatus.FAILED and "HTTP 403" in item.last_error
    assert "wrong" not in item.last_error and "口令" not in item.last_error


def test_the_gateway_s_credentials_may_come_from_their_own_settings(gongwen, org, kannel, settings):
    url = kannel.sendsms_url
    bare = url[:url.index("//") + 2] + url[url.index("@") + 1:]
    user, password = url[url.index("//") + 2:url.index("@")].split(":")
    gongwen.settings = dataclasses.replace(settings, environ={
        **settings.environ, "GONGWEN_SMS_URL": bare, "GONGWEN_SMS_USER": user,
        "GONGWEN_SMS_PASSWORD": unquote(password)})
    _text(gongwen, org, "guannan_office", "13900000651", ARRIVAL, "own-settings")
    assert kannel.wait_for("13900000651")[0].text == ARRIVAL


def test_without_a_gateway_texts_are_kept_and_shown_as_not_sent(gongwen, org, app):
    clerk = _mobile(gongwen, org.person("gn.clerk"), "13900000701")
    with gongwen.db.write() as db:
        tell(db, [clerk.id], ARRIVAL, kind="urgent_arrival", key="arrival:7", urgent=True)
    [text] = _texts(gongwen, number="13900000701")
    item = _sms_item(gongwen, text.id)
    assert (text.status, text.cost) == (TextStatus.NO_GATEWAY, 0)
    assert item.status == OutboxStatus.DEAD and "未配置短信网关" in item.last_error
    page = logged_in(app, "sysadmin").get("/admin/texts").get_data(as_text=True)
    row = page[page.index(f'data-text="{text.id}"'):][:600]
    assert "未发送：未配置短信网关" in row and clerk.name in row and "寒潮" not in page
    with gongwen.db.session() as db:
        report = {p.unit_id: p for p in cost_report(db, gongwen.settings, Q4).payers}
    assert (report[org.unit("guannan").id].messages, report[org.unit("guannan").id].unsent) == (0, 1)


# -- delivery reports -------------------------------------------------------------------------------------

def test_forged_delivery_reports_are_refused_and_genuine_ones_never_move_a_text_back(
        gongwen, org, kannel, reports, app):
    text = _text(gongwen, org, "donghai_office", "13900000801", ARRIVAL, "dlr")
    _eventually(lambda: _texts(gongwen, id=text.id, status=TextStatus.DELIVERED))
    client = app.test_client()
    good = report_token(gongwen.settings.secret_key, text.id)

    assert client.get(f"/sms/dlr/{text.id}?type=2&token={'0' * 32}").status_code == 403
    assert client.get(f"/sms/dlr/{text.id}?type=2").status_code == 403
    assert client.get(f"/sms/dlr/{text.id}?type=2&token={report_token('another key', text.id)}").status_code == 403
    assert client.get(f"/sms/dlr/{text.id}?type=3&token={good}").status_code == 400
    assert client.get(f"/sms/dlr/{text.id}?type=x&token={good}").status_code == 400
    unknown = client.get(f"/sms/dlr/999999?type=1&token={report_token(gongwen.settings.secret_key, 999999)}")
    assert unknown.status_code == 404 and "没有这条短信" in unknown.get_data(as_text=True)
    assert client.get("/sms/dlr/99999999999?type=1&token=x").status_code == 404
    # A repeat, or a late "accepted by the SMSC", changes nothing: delivered stays delivered.
    assert client.get(f"/sms/dlr/{text.id}?type=8&token={good}&answer=ACK%2F").status_code == 200
    assert client.get(f"/sms/dlr/{text.id}?type=1&token={good}").status_code == 200
    [after] = _texts(gongwen, id=text.id)
    assert after.status == TextStatus.DELIVERED
    with gongwen.db.session() as db:
        refusals = db.scalars(select(AuditEvent).where(AuditEvent.action == "sms.report_refused")).all()
    assert len(refusals) == 6 and all(good not in str(e.detail) for e in refusals)


def test_a_report_for_a_text_whose_acceptance_was_never_recorded_stops_it_being_sent_again(
        gongwen, org, down_gateway, app):
    text = _text(gongwen, org, "donghai_office", "13900000901", ARRIVAL, "crash")  # first attempt failed
    token = report_token(gongwen.settings.secret_key, text.id)
    answer = app.test_client().get(f"/sms/dlr/{text.id}?type=1&token={token}")
    assert answer.status_code == 200
    [text] = _texts(gongwen, id=text.id)
    assert (text.status, text.cost) == (TextStatus.DELIVERED, Decimal("0.05"))  # it went out, so it is paid


# -- the page is the system administrator's ---------------------------------------------------------------

@pytest.mark.parametrize("login", ["dh.clerk", "lyg.leader", "secadmin", "auditor"])
def test_only_the_system_administrator_sees_texts(gongwen, org, app, login):
    client = logged_in(app, login)
    for path in ("/admin/texts", "/admin/texts.xlsx?quarter=2026Q4"):
        answer = client.get(path)
        assert answer.status_code == 403 and "没有权限" in answer.get_data(as_text=True)
    token = csrf_token(client, "/password")
    answer = client.post("/admin/texts/switch", data={"unit_id": org.unit("donghai").id, "action": "off",
                                                       "reason": "冒充", "csrf_token": token})
    assert answer.status_code == 403
    with gongwen.db.session() as db:
        assert db.get(TextingOff, org.unit("donghai").id) is None
        refusals = db.scalars(select(AuditEvent).where(AuditEvent.action == "request.refused")).all()
    assert sorted(e.detail["path"] for e in refusals) == ["/admin/texts", "/admin/texts.xlsx", "/admin/texts/switch"]


# -- the rules --------------------------------------------------------------------------------------------

def test_each_county_pays_for_its_units_and_the_city_payer_for_the_rest(gongwen, org, settings):
    with gongwen.db.session() as db:
        assert payer_of(db, org.unit("donghai_office").id) == org.unit("donghai").id
        assert payer_of(db, org.unit("finance").id) == org.unit("city").id
        assert payer_of(db, org.unit("city_office").id) == org.unit("city").id
        assert payer_of(db, org.unit("province_office").id) == org.unit("province").id  # above any city
        payer = org.unit("city_office").id
        assert payer_of(db, org.unit("finance").id, payer) == payer
        assert payer_of(db, org.unit("guannan_office").id, payer) == org.unit("guannan").id
        configured = dataclasses.replace(settings, environ={"GONGWEN_SMS_CITY_PAYER": str(payer)})
        assert {u.id for u in paying_units(db, configured)} == {payer} | {
            org.unit(c).id for c in ("donghai", "guanyun", "guannan")}
    with gongwen.db.write() as db:
        assert switch_texting(db, payer, True, "网信办统一安排", None, settings=configured)
        with pytest.raises(Exception, match="不是短信付费单位"):
            switch_texting(db, org.unit("city").id, True, "x", None, settings=configured)


def test_segments_and_quiet_hours():
    assert [segments("特" * n) for n in (1, 70, 71, 134, 135)] == [1, 1, 2, 2, 3]
    assert [segments("a" * n) for n in (160, 161, 306, 307)] == [1, 2, 2, 3]
    assert segments("{" * 80) == 1 and segments("€" * 81) == 2  # extension characters take two septets
    assert segments("😀" * 35) == 1 and segments("😀" * 36) == 2  # outside the BMP: two UCS-2 units
    hours = (datetime.fromisoformat("2026-01-01T22:00").time(), datetime.fromisoformat("2026-01-01T07:30").time())
    at = lambda text: datetime.fromisoformat(f"{text}+08:00")  # noqa: E731
    assert quiet_until(at("2026-11-23T21:59"), hours) is None
    assert quiet_until(at("2026-11-23T22:00"), hours) == at("2026-11-24T07:30")
    assert quiet_until(at("2026-11-24T03:00"), hours) == at("2026-11-24T07:30")
    assert quiet_until(at("2026-11-24T07:30"), hours) is None
    assert quiet_until(at("2026-11-24T03:00"), None) is None


def test_the_gateway_s_credentials_never_appear_in_its_text():
    gateway = parse_gateway("http://gongwen:s%40cret@127.0.0.1:13013/cgi-bin/sendsms")
    assert (gateway.user, gateway.password) == ("gongwen", "s@cret")
    assert "s@cret" not in f"{gateway} {gateway!r}" and str(gateway) == "http://127.0.0.1:13013/cgi-bin/sendsms"
    with pytest.raises(Exception) as refused:
        parse_gateway("ftp://gongwen:s3cret@host/")
    assert "s3cret" not in str(refused.value)


# -- the notices' clocks, end to end ------------------------------------------------------------------------

FRIDAY_20H = datetime.fromisoformat("2026-12-04T20:00:00+08:00")


def _to(kannel, number: str) -> list[Received]:
    return [r for r in kannel.received() if r.number == number]


def _duty_mobiles(gongwen, org, unit: str) -> list[str]:
    from handlers.contacts.models import Duty
    from handlers.contacts.register import current

    with gongwen.db.session() as db:
        return [c.mobile for c in current(db, org.unit(unit).id, Duty.CLERK)]


@pytest.mark.usefixtures("deployed")
def test_an_urgent_document_sent_on_a_friday_evening_texts_the_duty_staff_at_once_and_is_due_at_22(
        gongwen, sealed, kannel, reports, fixed_clock):
    from handlers.exchange.models import Receipt
    from tests.outgoing_support import send

    org = sealed
    fixed_clock.set(FRIDAY_20H)
    (duty,) = _duty_mobiles(gongwen, org, "donghai_office")
    sent = send(gongwen, org, main_to=("donghai_office",), urgency="urgent")

    (arrived,) = kannel.wait_for(duty)
    assert arrived.text == f"加急公文到达（非办公时间到达），请于12月04日22:00前签收：{sent.title}"
    with gongwen.db.session() as db:
        receipt = db.scalars(select(Receipt).where(Receipt.document_id == sent.id)).one()
    assert receipt.due_at == FRIDAY_20H + timedelta(hours=2)
    [text] = _eventually(lambda: _texts(gongwen, number=duty, status=TextStatus.DELIVERED))
    assert text.urgent and text.sent_at == FRIDAY_20H and text.kind == "urgent_arrival"

    # Nobody signs: a reminder half-way (21:00), the deadline's text at 22:00, the 分管领导 at 23:00.
    from handlers.contacts.models import Duty
    from handlers.contacts.register import current

    with gongwen.db.session() as db:
        (leader,) = current(db, org.unit("donghai_office").id, Duty.LEADER_IN_CHARGE)
    for hours, count, words in ((1, 2, "请尽快签收来文"), (2, 3, "来文已超过签收时限")):
        fixed_clock.set(FRIDAY_20H + timedelta(hours=hours, minutes=1))
        gongwen.runtime.fire_due_timers()
        assert kannel.wait_for(duty, count)[-1].text.startswith(words)
    assert not _to(kannel, leader.mobile)
    fixed_clock.set(FRIDAY_20H + timedelta(hours=3, minutes=1))
    gongwen.runtime.fire_due_timers()
    assert kannel.wait_for(leader.mobile)[0].text.startswith("本单位来文逾期仍未签收")
    _text(gongwen, org, "donghai_office", "13900000902", "到此为止", "marker:urgent")
    kannel.wait_for("13900000902")
    assert len(_to(kannel, duty)) == 3  # one reminder only: none past the deadline


@pytest.mark.usefixtures("deployed")
def test_a_normal_document_sent_on_a_friday_evening_texts_nobody_and_counts_from_monday(
        gongwen, sealed, kannel, reports, fixed_clock):
    from handlers.exchange.models import Receipt
    from tests.outgoing_support import send

    org = sealed
    fixed_clock.set(FRIDAY_20H)
    marker = "13900000901"
    sent = send(gongwen, org, main_to=("donghai_office",))
    _text(gongwen, org, "donghai_office", marker, "到此为止", "marker:normal")
    kannel.wait_for(marker)  # sent after the arrival: a text about the arrival would be there by now
    assert not any(_to(kannel, m) for m in _duty_mobiles(gongwen, org, "donghai_office"))
    with gongwen.db.session() as db:
        receipt = db.scalars(select(Receipt).where(Receipt.document_id == sent.id)).one()
    assert receipt.due_at == datetime.fromisoformat("2026-12-08T09:00:00+08:00")  # from Monday 09:00


@pytest.mark.usefixtures("deployed")
def test_an_urgent_document_to_a_county_with_texting_off_reaches_it_in_the_app_only(
        gongwen, sealed, kannel, reports, fixed_clock):
    from handlers.notifications.texts_report import switch_texting
    from tests.outgoing_support import send

    org = sealed
    with gongwen.db.write() as db:
        switch_texting(db, org.unit("guanyun").id, True, "县财政未列支短信费用", None)
    fixed_clock.set(FRIDAY_20H)
    send(gongwen, org, main_to=("guanyun_office",), urgency="extra_urgent")
    (duty,) = _duty_mobiles(gongwen, org, "guanyun_office")
    [text] = _texts(gongwen, number=duty)
    assert text.status == TextStatus.SWITCHED_OFF and text.cost == 0
    assert not _to(kannel, duty)
    with gongwen.db.session() as db:  # the clerk still finds it in the app
        assert db.scalars(select(Notification).where(Notification.person_id == org.person("gy.clerk").id,
                                                     Notification.kind == "urgent_arrival")).one()


def test_forged_delivery_reports_are_rate_limited_but_the_gateway_s_own_never_are(gongwen, org, app):
    text = _text(gongwen, org, "donghai_office", "13900000811", ARRIVAL, "dlr:limit")
    good = report_token(gongwen.settings.secret_key, text.id)
    gateway, forger = app.test_client(), app.test_client()
    # Two reports a text, at the gateway's pace: none is counted against it.
    assert {gateway.get(f"/sms/dlr/{text.id}?type=8&token={good}").status_code for _ in range(80)} == {200}
    forged = [forger.get(f"/sms/dlr/{text.id}?type=1&token={'0' * 32}",
                         environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code for _ in range(61)]
    assert forged == [403] * 60 + [429]
    assert gateway.get(f"/sms/dlr/{text.id}?type=1&token={good}").status_code == 200
    with gongwen.db.session() as db:  # the audit trail holds the 60 refusals, not the flood
        assert db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "sms.report_refused")) == 60
