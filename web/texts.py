"""Texts (SMS): Kannel's delivery reports, and the system administrator's page of costs and failures.

``GET /sms/dlr/<id>`` is Kannel's ``dlr-url`` callback: public (Kannel has no session), checked by
the HMAC token Gongwen put into the URL when it sent the text, so nobody else can mark a text
delivered or failed. A forged or unknown report gets a plain 4xx and an audit event, never a 500.

``/admin/texts`` is the system administrator's: messages, segments and cost per paying unit and per
unit for a quarter or a date range (with an XLSX export), the switch of each paying unit, and the
texts that did not reach their phones, without their words (三员分立: titles are content).
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, flash, g, redirect, render_template, request, send_file, url_for

from engine.errors import Forbidden, GongwenError, NotFound
from handlers.notifications.sms import DLR_PATH, REPORT_TYPES, record_report
from handlers.notifications.texts_report import (
    cost_report,
    money,
    report_xlsx,
    switch_texting,
    undelivered,
)

from . import current_gongwen
from .admin import system_admin
from .errors import refused
from .params import as_id, period_from_args, recent_quarters

bp = Blueprint("texts", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answer(text: str, status: int = 200) -> Response:
    # "Connection: close": Kannel 1.4.5's smsbox keeps connections to the dlr-url open and crashes
    # (conn_unregister: assertion failed) when it writes to one the web server has since closed, as
    # any server does when it restarts. A connection per report costs little and keeps Kannel up.
    return Response(text, status=status, mimetype="text/plain", headers={"Connection": "close"})


@bp.get(f"{DLR_PATH}/<int:text_id>")
def delivery_report(text_id: int) -> Response:
    """Kannel reports what became of text ``text_id`` (``type`` is its %d, ``answer`` the SMSC's %A)."""
    kind = as_id(request.args.get("type"))
    if kind not in REPORT_TYPES:
        refused("sms.report_refused", text_id=text_id, why="unknown type")
        return _answer("未知的投递报告类型", 400)
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            record_report(db, gongwen.settings, text_id, kind, request.args.get("token", "")[:100],
                          request.args.get("answer", "")[:150])
    except (Forbidden, NotFound) as err:
        refused("sms.report_refused", text_id=text_id, why=str(err))  # the token is not recorded
        return _answer(str(err), err.status)
    return _answer("OK")


@bp.route("/admin/texts")
@system_admin
def overview():
    """The cost report, the switch per paying unit, and the texts not delivered."""
    period, args = period_from_args()
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        report = cost_report(db, gongwen.settings, period)
        failures = undelivered(db, period)
    return render_template("admin/texts.html", report=report, failures=failures, args=args, money=money,
                           quarters=recent_quarters())


@bp.route("/admin/texts.xlsx")
@system_admin
def export():
    """The report of the page's period as an Excel workbook."""
    period, _ = period_from_args()
    gongwen = current_gongwen()
    with gongwen.db.session() as db:
        content = report_xlsx(cost_report(db, gongwen.settings, period))
    name = f"短信费用-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.post("/admin/texts/switch")
@system_admin
def switch():
    """Switch texting off (with the county's reason) or on again for a paying unit."""
    form = request.form
    unit_id, off = as_id(form.get("unit_id")), form.get("action") == "off"
    if unit_id is None or form.get("action") not in ("off", "on"):
        flash("未生效：请检查填写的内容")
        return redirect(url_for("texts.overview") + "#switch")
    gongwen = current_gongwen()
    try:
        with gongwen.db.write() as db:
            changed = switch_texting(db, unit_id, off, form.get("reason", ""), g.person.id,
                                     settings=gongwen.settings)
        flash(("已关闭短信：由该单位付费的各单位此后只收到系统内通知" if off else "已恢复短信") if changed
              else "无变化：短信本已是这个状态")
    except GongwenError as err:
        flash(f"未生效：{err}")
    return redirect(url_for("texts.overview") + "#switch")
