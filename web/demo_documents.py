"""The demo's documents: five real documents, driven through the real processes, in five states.

Contract of :func:`seed_documents`: call it once, right after the demo organisation
(:func:`web.demo.seed`) was created and committed, without seals, on a database with
``workflows/`` deployed and no documents. It issues the seals itself at the beginning of
the story, since a seal must predate the documents it seals. Every step is a task
completed through :meth:`engine.runtime.Runtime.complete` by the demo person who holds
it, so numbers, PDFs, seals, receipts, opinion trails and the audit chain are exactly
what people would have produced by hand. When it returns:

1. 拟稿中 — lyg.head returned the draft with an opinion; lyg.drafter's 拟稿 task waits,
   the draft saved.
2. 待签发 — countersigned by 秘书二处 (lyg.head2), reviewed; 签发 waits for lyg.signer.
3. 已分发 — sent to the three county offices: 东海 signed for it (dh.clerk now has 分办),
   灌云 has not yet (gy.clerk has 签收), 灌南 returned it with a reason (lyg.drafter has
   处理退文).
4. 逾期未签收 — sent on an earlier working day to 市财政局 and 市教育局: 财政局 signed,
   教育局's receipt is past its sign-for window (jy.clerk's 签收 is overdue, its leaders
   were told).
5. 已归档 — received by 东海县人民政府办公室 on that earlier day, handled after a leader's
   instruction and archived (dh.handler's 办结 view).

Each document's steps happen on a story clock, a fixed clock a few minutes on per step and
never later than the moment seeding began; documents 4 and 5 happen on the latest working
day whose sign-for window has closed by then. Whenever the story moves on, and at last to
the moment seeding began, it sweeps at each timer's due time as a running server would
have: reminders go out, the overdue receipt is marked at its deadline and its unit's
leaders are told, CRLs older than a day are renewed. Then the previous clock is restored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from engine import clock
from engine.background import InProcess, sweep
from engine.calendar import WorkCalendar
from engine.core import Gongwen
from engine.errors import NotFound
from engine.inbox import ready_tasks
from engine.models import Person, Task, Timer
from handlers.documents.drafting import start_outgoing
from handlers.documents.models import Document, Urgency
from handlers.exchange.deadlines import sign_for_window

from .demo import DemoOrg, issue_personal_certificates, issue_seals

PACE = timedelta(minutes=10)  # between two steps of one document's story
# How long after a timer falls due the story sweeps: ``gongwen serve`` sweeps every 10 s, and
# SpiffWorkflow fires a timer only once its time has passed.
SWEEP_LAG = timedelta(seconds=10)
COUNTIES = ("donghai_office", "guanyun_office", "guannan_office")
STATES = ("拟稿中", "待签发", "已分发", "逾期未签收", "已归档")  # in the order the summary lists them


def start_draft(gongwen: Gongwen, drafter: Person) -> Document:
    """Start an outgoing document drafted by ``drafter``; its 拟稿 task waits for them."""
    with gongwen.db.write() as session:
        return start_outgoing(gongwen.runtime, session, session.get(Person, drafter.id))


def task_of(gongwen: Gongwen, person: Person, name: str | None = None) -> Task:
    """The one ready task named ``name`` (any name if None) in ``person``'s inbox; NotFound otherwise."""
    with gongwen.db.session() as session:
        tasks = [t for t in ready_tasks(session, person.id) if name is None or t.name == name]
    if len(tasks) != 1:
        found = "、".join(t.name for t in tasks) or "无"
        raise NotFound(f"{person.login} 的待办中应有一件“{name or '任意事项'}”，实有：{found}")
    return tasks[0]


def act(gongwen: Gongwen, person: Person, name: str, data: dict) -> None:
    """Complete ``person``'s one ready task ``name`` with form ``data``, as the web page would."""
    gongwen.runtime.complete(task_of(gongwen, person, name).id, person.id, data)


@dataclass
class _Story:
    """Drives documents as the demo's people, on a fixed clock that moves on after each step."""

    gongwen: Gongwen
    org: DemoOrg
    clock: clock.FixedClock
    until: datetime

    def begin(self, at: datetime) -> None:
        """Move the story on to ``at``, sweeping at each timer's due time as a running server would."""
        at, swept = min(at, self.until), None
        while (due := self._next_due()) is not None and due < at and due != swept:  # a failed timer stays due
            self.clock.set(min(max(due + SWEEP_LAG, self.clock.now()), at))
            sweep(self.gongwen)
            swept = due
        self.clock.set(at)
        sweep(self.gongwen)

    def _next_due(self) -> datetime | None:
        """When the soonest waiting timer of any instance falls due."""
        with self.gongwen.db.session() as session:
            return session.scalar(select(func.min(Timer.due_at)))

    def act(self, login: str, name: str, data: dict) -> None:
        """``login`` completes their task ``name``; the story's clock moves on by one pace."""
        act(self.gongwen, self.org.person(login), name, data)
        self.clock.set(min(self.clock.now() + PACE, self.until))

    def draft(self, login: str, values: dict) -> Document:
        """``login`` starts a document and submits its draft with ``values``."""
        document = start_draft(self.gongwen, self.org.person(login))
        self.act(login, "拟稿", values)
        return document

    def to_dispatch(self, values: dict) -> Document:
        """The city office's usual road for ``values``, from 拟稿 through 用印; dispatch follows at once."""
        document = self.draft("lyg.drafter", values)
        self.act("lyg.head", "部门审核", {"decision": "approve", "opinion": "同意"})
        self.act("lyg.reviewer", "办公室核稿", {"decision": "approve", "opinion": "格式规范，同意"})
        self.act("lyg.signer", "签发", {"decision": "approve", "opinion": "同意印发"})
        self.act("lyg.drafter", "校对", {"decision": "ok"})
        self.act("lyg.sealer", "用印", {"confirm": True})
        return document

    def units(self, *keys: str) -> list[int]:
        """The ids of the demo units with these keys."""
        return [self.org.unit(k).id for k in keys]


def _notice(title: str, body: str, main_to: list[int], **more: object) -> dict:
    """The city office's draft of a downward, unclassified, ordinary notice."""
    return {"doc_type": "notice", "direction": "downward", "urgency": "normal", "classification": "非密",
            "title": title, "body": body, "main_to": main_to, **more}


def _drafting(story: _Story) -> None:
    """1. Returned by the department head: back at lyg.drafter's 拟稿, the draft saved."""
    story.draft("lyg.drafter", _notice(
        "连云港市人民政府办公室关于进一步加强城镇燃气安全管理的通知",
        "为切实保障人民群众生命财产安全，经市政府同意，现就进一步加强城镇燃气安全管理有关事项通知如下。\n"
        "一、全面开展隐患排查。各地要对辖区内燃气经营企业、餐饮场所和老旧小区燃气管线开展拉网式排查。\n"
        "二、严格落实企业主体责任。燃气经营企业要健全安全管理制度，定期开展入户安检。",
        story.units(*COUNTIES)))
    story.act("lyg.head", "部门审核", {"decision": "return", "opinion": "请补充隐患排查的完成时限和报送要求"})


def _awaiting_sign_off(story: _Story) -> None:
    """2. Reviewed and countersigned: at 签发, for lyg.signer."""
    story.draft("lyg.drafter", _notice(
        "连云港市人民政府办公室关于印发《连云港市政务信息报送工作规范》的通知",
        "《连云港市政务信息报送工作规范》已经市政府同意，现印发给你们，请认真贯彻执行。\n"
        "各地各部门要明确专人负责政务信息报送，突发事件信息须在事发后1小时内电话报告、2小时内书面报告。",
        story.units(*COUNTIES, "finance", "education"),
        countersign_departments=[story.org.departments["secretariat_2"].id]))
    story.act("lyg.head", "部门审核", {"decision": "approve", "opinion": "同意"})
    story.act("lyg.head2", "会签", {"decision": "agree", "opinion": "同意，建议明确紧急信息的报送渠道"})
    story.act("lyg.reviewer", "办公室核稿", {"decision": "approve", "opinion": "格式规范，同意"})


def _dispatched(story: _Story) -> None:
    """3. Sent to the three counties: 东海 signs, 灌南 returns it with a reason, 灌云 has yet to answer."""
    story.to_dispatch(_notice(
        "连云港市人民政府办公室关于开展农村饮用水安全专项检查的通知",
        "为保障农村群众饮水安全，市政府决定在全市开展农村饮用水安全专项检查。\n"
        "一、检查范围：各县区农村集中供水工程和水源地保护区。\n"
        "二、时间安排：各地于本月底前完成自查，市里组织抽查。",
        story.units(*COUNTIES)))
    story.act("dh.clerk", "签收", {"decision": "sign"})
    story.act("gn.clerk", "签收", {"decision": "return",
                                 "opinion": "正文未注明自查结果的报送联系人和联系方式，请补充后重新印发"})


def _overdue(story: _Story) -> None:
    """4. Sent to 市财政局 and 市教育局: 财政局 signs, 教育局 does not (overdue once its window closes)."""
    story.to_dispatch(_notice(
        "连云港市人民政府办公室关于报送政府信息公开工作年度报告的通知",
        "根据《中华人民共和国政府信息公开条例》规定，请各部门认真编制本部门政府信息公开工作年度报告。\n"
        "年度报告经本部门主要负责人审定后，按要求向社会公布，并报市政府办公室备案。",
        story.units("finance", "education")))
    story.act("cz.clerk", "签收", {"decision": "sign"})


def _archived(story: _Story) -> None:
    """5. Sent to 东海 alone, which signs, handles it after its leader's instruction and archives it."""
    story.to_dispatch(_notice(
        "连云港市人民政府办公室关于做好防汛防旱物资储备工作的通知",
        "为做好防汛防旱各项准备，请东海县人民政府办公室督促有关部门对防汛防旱物资开展清点。\n"
        "物资不足的，应于汛期前补充到位，并将储备情况报市政府办公室。",
        story.units("donghai_office")))
    leader = story.org.person("dh.leader").id
    story.act("dh.clerk", "签收", {"decision": "sign"})
    story.act("dh.clerk", "分办", {"lead_department": story.org.departments["donghai_general"].id, "deadline_days": 3})
    story.act("dh.head", "拟办", {"proposal": "建议呈县政府办领导阅示后由综合股办理"})
    story.act("dh.handler", "承办人决定下一步", {"next": "instruct", "leader": leader})
    story.act("dh.leader", "领导批示", {"instruction": "请综合股会同县应急管理局抓紧落实"})
    story.act("dh.handler", "办理", {"result": "已会同县应急管理局完成物资清点，储备情况已报市政府办公室"})
    story.act("dh.handler", "归档", {"retention": "D30"})


def _earlier_working_day(gongwen: Gongwen, now: datetime) -> date:
    """The latest working day before ``now`` on which a 平件 sent by evening was due for sign-for by ``now``."""
    with gongwen.db.session() as session:
        calendar = WorkCalendar(session, gongwen.settings.office_hours, gongwen.runtime.calendar_data)
        day = clock.local(now).date()
        while True:
            day -= timedelta(days=1)
            evening = datetime.combine(day, time(18), clock.SHANGHAI)
            if calendar.is_workday(day) and sign_for_window(session, calendar, Urgency.NORMAL, evening).due < now:
                return day


@contextmanager
def _story_clock(gongwen: Gongwen, now: datetime) -> Iterator[clock.FixedClock]:
    """A fixed clock and in-process background work for the stories; both restored afterwards.

    In-process, so that each step's dispatch and messages have happened (on the story's
    clock) before the next step looks for its task, even where a broker is configured.
    """
    previous_clock, previous_background = clock.get_clock(), gongwen.background
    story_clock = clock.FixedClock(now)
    clock.set_clock(story_clock)
    gongwen.background = InProcess(gongwen)
    try:
        yield story_clock
    finally:
        clock.set_clock(previous_clock)
        gongwen.background = previous_background


def seed_documents(gongwen: Gongwen, org: DemoOrg) -> dict[str, int]:
    """Create the five demo documents (see the module's docstring); returns how many are in each state."""
    now = clock.now()
    earlier = _earlier_working_day(gongwen, now)
    # In the order they happened, so that document numbers follow the days.
    stories = (("已归档", _archived, datetime.combine(earlier, time(9), clock.SHANGHAI)),
               ("逾期未签收", _overdue, datetime.combine(earlier, time(14, 30), clock.SHANGHAI)),
               ("已分发", _dispatched, now - timedelta(hours=3)),
               ("待签发", _awaiting_sign_off, now - timedelta(hours=1, minutes=30)),
               ("拟稿中", _drafting, now - timedelta(minutes=30)))
    counts = dict.fromkeys(STATES, 0)
    with _story_clock(gongwen, now) as story_clock:
        story = _Story(gongwen, org, story_clock, until=now)
        story.begin(datetime.combine(earlier, time(8, 30), clock.SHANGHAI))
        with gongwen.db.write() as session:
            issue_seals(session, gongwen.settings, org)
            issue_personal_certificates(session, gongwen.settings, org)
        for state, tell, at in stories:
            story.begin(at)
            tell(story)
            counts[state] += 1
        story.begin(now)
    return counts


def summary(counts: dict[str, int]) -> str:
    """The line ``gongwen demo`` prints, e.g. 已创建演示公文 5 件：拟稿中 1、待签发 1、……"""
    return f"已创建演示公文 {sum(counts.values())} 件：" + "、".join(f"{state} {n}" for state, n in counts.items())
