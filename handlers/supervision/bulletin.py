"""The bulletin that writes itself (生成通报): a draft 通报 of the supervising office, filled from a period.

:func:`draft_bulletin` starts an ordinary outgoing document in the supervisor's unit, exactly as the
drafting page does (:func:`handlers.documents.drafting.start_outgoing`: the supervisor must be one of
the unit's 拟稿人), and fills it: a 通报 titled for the period, addressed to the units directly under
the area's government, its body the office's template with the figures put in, and the three
attachment tables as XLSX attachments. The supervisor's 拟稿 task then opens with all of it, to be
edited and sent on: reviewed, signed off, numbered, typeset, sealed and dispatched like any document.

The body template is the office's own text (:class:`.models.BulletinTemplate`, one per unit, edited by
its 督查员); :data:`DEFAULT_TEMPLATE`, modelled on Pingliang's quarterly notice, holds until then.
Placeholders are written ``{签收率}``; :data:`PLACEHOLDERS` lists them, and a template naming any other
is refused when it is saved.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.config import Settings, option
from engine.errors import Refused
from engine.models import Person, Role, RoleGrant, Unit, UnitKind, UnitStatus
from engine.periods import Period
from engine.text import clean

from ..documents.attachments import ATTACHMENT_MAX_BYTES, add_attachment
from ..documents.drafting import start_outgoing, unit_names
from ..documents.models import Direction, DocType, Document
from .figures import IN_TIME_BELOW, AreaFigures, UnitFigures, area_figures, area_root
from .models import BulletinTemplate
from .workbook import bulletin_tables, percent, table_xlsx

if TYPE_CHECKING:
    from engine.core import Gongwen

__all__ = ["DEFAULT_TEMPLATE", "LOW_ARCHIVE_RATE", "PLACEHOLDERS", "PRAISE_ARCHIVE_RATE", "PRAISE_INSIDE",
           "bulletin_values", "draft_bulletin", "fill", "save_template", "template_of"]

# Praised: units that handled at least this many documents inside (内部办文) ...
PRAISE_INSIDE = option("bulletin_praise_inside", "GONGWEN_BULLETIN_PRAISE_INSIDE", int, 200)
# ... and archived at least this share of those they handled (Pingliang: 200 and 95%).
PRAISE_ARCHIVE_RATE = option("bulletin_praise_archive_rate", "GONGWEN_BULLETIN_PRAISE_ARCHIVE_RATE", float, 0.95)
# Named: units that archived less than this share of the documents they handled.
LOW_ARCHIVE_RATE = option("bulletin_low_archive_rate", "GONGWEN_BULLETIN_LOW_ARCHIVE_RATE", float, 0.8)

NAMED_AT_MOST = 10  # units named in a sentence; the attachments list them all
TEMPLATE_MAX = 10_000
_AREA_WORDS = {UnitKind.PROVINCE: "全省", UnitKind.CITY: "全市", UnitKind.COUNTY: "全县（区）"}
_PLACEHOLDER = re.compile(r"\{([^{}\n]{1,20})\}")

PLACEHOLDERS = {
    "发文机关": "督查员所在单位（通报的发文机关）",
    "区域": "全市、全县（区）等",
    "期间": "如 2026年第四季度",
    "上期": "上一期间",
    "截止日期": "期间的最后一天，如 2026年12月31日",
    "单位数": "区域内的单位数",
    "人数": "区域内的人员数",
    "发文数": "各单位发出的公文件数",
    "收文数": "各单位收到的公文份数",
    "签收率": "已签收份数占收文份数的比例",
    "按时签收率": "在签收时限内签收的比例",
    "平均签收用时": "从分发到签收的平均时长",
    "逾期未签收数": "目前已过签收时限仍未签收的份数",
    "内部办文数": "收文登记与拟稿件数之和",
    "内部办文较上期": "如 增长5.0%、减少3.0%",
    "归档率": "办结公文中已归档的比例",
    "未归档数": "办结后尚未归档的公文件数",
    "短信条数": "发送的提醒短信条数",
    "日均在线人数": "每天登录的人数（平均）",
    "登录次数": "累计登录次数",
    "表扬单位": "内部办文和归档率均达到表扬标准的单位",
    "表扬办文标准": "表扬所需的内部办文件数",
    "表扬归档标准": "表扬所需的归档率",
    "未发文单位": "本期未向外发文的单位",
    "无内部办文单位": "本期没有内部办文的单位",
    "签收不及时单位": "按时签收率低于标准的单位",
    "及时签收标准": "按时签收率的标准",
    "归档率低单位": "归档率低于标准的单位",
    "归档率标准": "归档率的标准",
    "普发单位": "向大部分单位普发公文的单位",
    "未启用单位": "本期无人登录的单位",
}

DEFAULT_TEMPLATE = """\
{期间}，{区域}电子公文系统运行总体平稳，在提高办文效率、节约行政成本上发挥了良好作用。现将有关情况通报如下：
一、应用情况
截至{截止日期}，电子公文系统共录入单位{单位数}个，干部职工{人数}人。{期间}，各单位之间发送公文{发文数}件，\
送达{收文数}份，签收率{签收率}，按时签收率{按时签收率}，平均签收用时{平均签收用时}；单位内部办理公文{内部办文数}件，\
较{上期}{内部办文较上期}；发送提醒短信{短信条数}条；每天在线{日均在线人数}人，累计登录{登录次数}次。
内部办文在{表扬办文标准}件以上、办结归档率在{表扬归档标准}以上，应用规范，予以通报表扬的单位：{表扬单位}。
二、存在问题
（一）个别单位电子公文收发出现停滞。本期向外发送电子公文数量为零的单位：{未发文单位}。
（二）一些单位内部无纸化办公推进缓慢。本期没有内部办文的单位：{无内部办文单位}。
（三）部分单位签收不及时。按时签收率低于{及时签收标准}的单位：{签收不及时单位}；目前仍有{逾期未签收数}份公文逾期未签收。
（四）公文办结后归档不及时。{区域}办结公文归档率为{归档率}，尚有{未归档数}件办结公文未归档；归档率低于{归档率标准}的单位：{归档率低单位}。
（五）发文范围随意。不按发文范围选择收文单位、通过组织架构向大部分单位普发公文的单位：{普发单位}。
（六）本期无人登录系统的单位：{未启用单位}。
三、工作要求
（一）全面加强应用。请未启用和未开展内部无纸化办公的单位切实转变观念，领导带头应用，尽快实现内部无纸化办公全覆盖。
（二）规范操作应用。要及时签收电子公文，严格按照发文范围发文，公文办理结束后及时归档。
（三）强化督促考核。{发文机关}将继续对各地、各单位电子公文应用情况进行通报，加大督促力度。
"""


# -- the template -------------------------------------------------------------------------------------------

def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{placeholder}`` replaced by its value. A name without a value stays as
    written (a template saved before a placeholder was withdrawn still fills)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)


def template_of(session: Session, unit_id: int) -> str:
    """The unit's body template: its own if its 督查员 saved one, else the default."""
    saved = session.get(BulletinTemplate, unit_id)
    return saved.text if saved is not None else DEFAULT_TEMPLATE


def save_template(session: Session, unit_id: int, person: Person, text: str | None) -> None:
    """Store ``text`` as the unit's body template (None: go back to the default); only a 督查员 of the
    unit may, and a placeholder not in :data:`PLACEHOLDERS` is refused. Audited."""
    _ensure_supervisor(session, person, unit_id)
    saved = session.get(BulletinTemplate, unit_id)
    if text is None:
        if saved is not None:
            session.delete(saved)
    else:
        text = clean(text, field="通报正文模板", max_length=TEMPLATE_MAX, lines=True)
        unknown = sorted({m[1] for m in _PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))
        if unknown:
            raise Refused(f"通报正文模板中有未知的占位符：{'、'.join('{' + u + '}' for u in unknown)}")
        if saved is None:
            saved = BulletinTemplate(unit_id=unit_id)
            session.add(saved)
        saved.text, saved.updated_by_id, saved.updated_at = text, person.id, clock.now()
    audit.record(session, "bulletin.template", actor_id=person.id, unit_id=unit_id, reset=text is None)


def _ensure_supervisor(session: Session, person: Person, unit_id: int) -> None:
    grant = session.scalar(select(RoleGrant.id).where(RoleGrant.person_id == person.id,
                                                      RoleGrant.role == Role.SUPERVISOR,
                                                      RoleGrant.unit_id == unit_id).limit(1))
    if grant is None:
        unit = session.get(Unit, unit_id)
        raise Refused(f"{person.name}不是{unit.name if unit else '该单位'}的督查员，不能生成通报或修改通报模板")


# -- the values ---------------------------------------------------------------------------------------------

def _names(units: list[UnitFigures]) -> str:
    if not units:
        return "无"
    shown = "、".join(u.name for u in units[:NAMED_AT_MOST])
    return shown if len(units) <= NAMED_AT_MOST else f"{shown}等 {len(units)} 个单位"


def _day(period: Period) -> str:
    return f"{period.last.year}年{period.last.month}月{period.last.day}日"


def _change(now: int, before: int) -> str:
    if before == 0:
        return "无可比数据"
    change = (now - before) / before
    return "持平" if abs(change) < 0.0005 else f"{'增长' if change > 0 else '减少'}{abs(change) * 100:.1f}%"


def bulletin_values(settings: Settings, figures: AreaFigures, previous: AreaFigures, issuer: Unit) -> dict[str, str]:
    """Every placeholder's value for ``figures`` (``previous``: the period before, to compare with)."""
    total, units = figures.total, figures.units
    inside, archive_rate = settings.option(PRAISE_INSIDE), settings.option(PRAISE_ARCHIVE_RATE)
    low = settings.option(LOW_ARCHIVE_RATE)
    praised = [u for u in units if u.handled_inside >= inside and (u.archive_rate or 0) >= archive_rate]
    late = [u for u in units if u.in_time.rate is not None and u.in_time.rate < IN_TIME_BELOW]
    hours = total.average_sign_hours
    return {
        "发文机关": issuer.name,
        "区域": _AREA_WORDS.get(figures.root.kind, figures.root.name),
        "期间": figures.period.label.replace(" ", ""),
        "上期": previous.period.label.replace(" ", ""),
        "截止日期": _day(figures.period),
        "单位数": str(total.units),
        "人数": str(total.people),
        "发文数": str(total.sent),
        "收文数": str(total.received),
        "签收率": percent(total.sign_rate),
        "按时签收率": percent(total.in_time.rate),
        "平均签收用时": "—" if hours is None else f"{hours:.1f}小时",
        "逾期未签收数": str(total.overdue_now),
        "内部办文数": str(total.handled_inside),
        "内部办文较上期": _change(total.handled_inside, previous.total.handled_inside),
        "归档率": percent(total.archive_rate),
        "未归档数": str(total.backlog),
        "短信条数": str(total.texts),
        "日均在线人数": f"{figures.online_per_day(total):.0f}",
        "登录次数": str(total.logins),
        "表扬单位": _names(praised),
        "表扬办文标准": str(inside),
        "表扬归档标准": percent(archive_rate),
        "未发文单位": _names(figures.sent_nothing),
        "无内部办文单位": _names(figures.no_internal_work),
        "签收不及时单位": _names(late),
        "及时签收标准": percent(IN_TIME_BELOW),
        "归档率低单位": _names([u for u in units if u.archive_rate is not None and u.archive_rate < low]),
        "归档率标准": percent(low),
        "普发单位": _names([u for u in units if u.wide]),
        "未启用单位": _names(figures.not_using),
    }


# -- the draft ----------------------------------------------------------------------------------------------

def draft_bulletin(gongwen: Gongwen, session: Session, person: Person, period: Period) -> Document:
    """A 通报 of ``person``'s unit on its area's ``period``, its outgoing process started and waiting at
    the person's 拟稿 task. Refused (in Chinese) unless the person is a 督查员 and a 拟稿人 of that unit."""
    if person.unit_id is None:
        raise Refused(f"{person.name}不属于任何单位，不能生成通报")
    _ensure_supervisor(session, person, person.unit_id)
    document = start_outgoing(gongwen.runtime, session, person)
    issuer, root = session.get(Unit, person.unit_id), area_root(session, person.unit_id)
    figures = area_figures(session, root, period)
    previous = area_figures(session, root, period.previous())
    values = bulletin_values(gongwen.settings, figures, previous, issuer)
    main_to = list(session.scalars(select(Unit.id).where(Unit.parent_id == root.id, Unit.id != issuer.id,
                                                         Unit.status == UnitStatus.ACTIVE).order_by(Unit.id)))
    document.doc_type, document.direction = DocType.CIRCULAR, Direction.DOWNWARD
    document.title = f"{issuer.name}关于{values['期间']}{values['区域']}电子公文系统应用情况的通报"
    document.main_to, document.main_to_text = main_to, unit_names(session, main_to)
    document.body = [line.strip() for line in fill(template_of(session, issuer.id), values).splitlines()
                     if line.strip()]
    tables = [t for t in bulletin_tables(figures) if t.rows]
    for number, table in enumerate(tables, start=1):
        add_attachment(session, gongwen.files, document, name=table.title,
                       filename=f"附件{number}-{table.title}.xlsx",
                       content=table_xlsx(table, f"附件{number}：{table.title}（{values['期间']}）"),
                       max_bytes=gongwen.settings.option(ATTACHMENT_MAX_BYTES))
    audit.record(session, "bulletin.draft", actor_id=person.id, unit_id=issuer.id, document_id=document.id,
                 period=figures.period.label)
    return document
