"""Benchmark of supervision at Pingliang's scale: the quarter's bulletin, one unit's page and a clerk's inbox.

Run it from the repository root::

    .venv/bin/python bench/supervision.py               # Pingliang's quarter: about 20 minutes
    .venv/bin/python bench/supervision.py --scale 0.05  # a twentieth of everything, under a minute

What it builds: what Pingliang's bulletin reports for the first quarter of 2018 (issue 12, "At
Pingliang's scale") and, for the comparison with the previous period and for the figures counted
over all time (backlog, overdue now, people who never logged in), the quarter before it (5% less
work inside units, 5% less of the rest):

- 1,027 units: the city government, its office, 150 city-level departments and bodies, and seven
  counties, each with its government, its office and 123 units; 36,100 people, each unit's clerk
  (收发员), leader and staff with their roles, and a 督查员 in the city's 网信办;
- 285,597 receipts between units: about 28,500 documents of about ten recipients each, issued as
  governments, offices and departments do (downward to a county or to all of it, upward, to peers,
  a few to a large share of all units), 2% urgent and part of those after hours; most signed
  within hours, some late, 3% never (all of a few units nobody uses), 0.4% returned;
- 233,682 documents handled inside units: received documents registered (收文登记) and documents
  drafted; handling and archive items for about three quarters of the handled ones;
- 1.65 million texts (each text to a person with its in-app notice), 4.58 million logins as person-days
  (about 7,000 people a day), the clerks' looks at their inbox, duty-watch reminders among the notices.

The 2,768 meeting notices, approvals and announcements are left out: Gongwen has no meeting module
yet (issue 13). The rows, 11 million, are written straight into the tables in bulk (COPY on
PostgreSQL, executemany through the columns' types on SQLite) after migrating a temporary SQLite
file and a temporary PostgreSQL database ``gongwen_bench_*`` (on ``GONGWEN_BENCH_PG``, default
``postgresql+psycopg://postgres@127.0.0.1:5432``), both at once and both removed afterwards: the
benchmark measures reading, not the processes that wrote the rows. Each process is there as its
``process_instance`` row (state ``'{}'``) with its tasks (签收 for every receipt, ready while
unsigned; 分办 and 办理 for every registered document; the outgoing steps of every document), so
the inbox query reads a task table of the right size.
PostgreSQL is then vacuumed and analysed, as autovacuum would have done; SQLite is left as Gongwen
leaves it (no ANALYZE).

What it times, on each database, with the clock at the bulletin's date (2018-04-13 09:00):

1. the quarter's bulletin: ``area_figures`` for the quarter and for the one before, ``monthly()``,
   the three charts and the workbook with the bulletin's attachment tables; the median of three
   runs. Targets: ≤ 2 s on PostgreSQL, ≤ 5 s on SQLite;
2. one unit's page: what /supervision/unit/<id> computes, the unit's own figures beside the
   previous period's (``area_figures(only=...)``) and its rank in the area (``rank_of``, which counts
   only what the order reads); the median of three runs. Target ≤ 200 ms;
3. a clerk's inbox: ``engine.inbox.ready_tasks`` for the clerk with the most waiting tasks, each call
   in its own session as a request has it, p95 over 200 calls. Target ≤ 10 ms.

The figures read back are checked against what was written. The figures' slowest statements are
shown with their plans (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite). The last line
(unit page and inbox: the worse of the two databases; documents: between units, one per recipient,
as Pingliang counts them)::

    RESULT units=... people=... documents=... pg_bulletin_s=... sqlite_bulletin_s=... unit_page_ms=... inbox_p95_ms=...
"""

# ruff: noqa: E402  (the path is fixed before the project's imports, as in bench/dispatch.py)

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import functools
import json
import math
import random
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy
import psycopg
from sqlalchemy import JSON, Connection, create_engine, event, func, select
from sqlalchemy.orm import Session

from bench.common import (
    configure_process,
    exit_on_sigterm,
    gongwen_on,
    median,
    ms,
    percentile,
    postgres_database,
    sqlite_database,
    timed,
)
from engine import clock
from engine.calendar import DEFAULT_OFFICE_HOURS, WorkCalendar
from engine.core import Gongwen
from engine.daily import COUNTERS as DAY_COUNTERS
from engine.db import make_engine
from engine.deploy import collect, deploy
from engine.inbox import ready_tasks
from engine.models import (
    InboxLook,
    InstanceStatus,
    LoginDay,
    Person,
    PersonStatus,
    ProcessDefinition,
    ProcessInstance,
    Role,
    RoleGrant,
    Task,
    TaskState,
    Unit,
    UnitDay,
    UnitKind,
    UnitStatus,
)
from engine.organisation import area_root
from engine.periods import Period
from handlers.archive.models import ArchiveItem, Retention
from handlers.documents.models import Direction, DocStatus, DocType, Document, DocumentIssuer, Urgency
from handlers.exchange.deadlines import sign_class, sign_for_window
from handlers.exchange.dispatch import WIDE_DISPATCH_SHARE
from handlers.exchange.models import DeadlineRule, Receipt, ReceiptDay, ReceiptStatus, SentDay, SignClass
from handlers.incoming.models import IncomingRecord
from handlers.notifications.models import Notification, TextMessage, TextStatus
from handlers.supervision.charts import groups_png, ranking_png, trend_png
from handlers.supervision.figures import AreaFigures, area_figures, monthly, rank_of
from handlers.supervision.workbook import bulletin_tables, figures_xlsx

PINGLIANG = {"units": 1027, "people": 36_100, "receipts": 285_597, "internal": 233_682, "texts": 1_650_000,
             "logins": 4_580_000, "online": 7_000}
QUARTER = Period.quarter("2018Q1")
BULLETIN_AT = datetime(2018, 4, 13, 9, tzinfo=clock.SHANGHAI)   # the day Pingliang's bulletin is dated
PREVIOUS_SHARE = 1 / 1.05                                        # "+5% on the previous quarter", for all
COUNTIES = ("崆峒区", "泾川县", "灵台县", "崇信县", "华亭县", "庄浪县", "静宁县")
CITY_LEVEL, COUNTY_UNITS = 150, 123                              # 2 + 150 + 7 × (2 + 123) = 1,027
CITY_BODIES = (
    "市网信办", "市委办公室", "市人大常委会办公室", "市政协办公室", "市纪委监委", "市委组织部", "市委宣传部",
    "市委统战部", "市委政法委", "市委政研室", "市委保密办", "市中级人民法院", "市人民检察院", "市发展和改革委员会",
    "市教育局", "市科学技术局", "市工业和信息化局", "市公安局", "市民政局", "市司法局", "市财政局",
    "市人力资源和社会保障局", "市自然资源局", "市生态环境局", "市住房和城乡建设局", "市交通运输局", "市水务局",
    "市农业农村局", "市商务局", "市文化和旅游局", "市卫生健康委员会", "市退役军人事务局", "市应急管理局", "市审计局",
    "市市场监督管理局", "市统计局", "市医疗保障局", "市林业和草原局", "市信访局", "市地震局", "市气象局",
    "市人民医院", "市妇联", "市总工会", "市招商局", "市运管局", "市规划局", "市农科院", "市委党校", "市工业园区管委会",
)
COUNTY_BODIES = (
    "县委办公室", "人大办", "政协办", "纪委监委", "组织部", "宣传部", "发展和改革局", "教育局", "公安局", "民政局",
    "司法局", "财政局", "人力资源和社会保障局", "自然资源局", "住房和城乡建设局", "交通运输局", "水务局", "农业农村局",
    "商务局", "文化和旅游局", "卫生健康局", "审计局", "市场监督管理局", "统计局", "林业和草原局", "应急管理局",
    "信访局", "医疗保障局", "人民法院", "人民检察院",
)
NEVER_SIGNED, RETURNED, URGENT, AFTER_HOURS = 0.03, 0.004, 0.02, 0.12
IDLE_UNITS, NO_INTERNAL_UNITS, SILENT_UNITS = 0.012, 0.033, 0.05   # nobody uses it; no internal work; sends nothing
DRAFTS_SHARE = 0.06                   # of the internal documents: drafts never dispatched
BATCH = 200_000                       # rows held before writing
TARGETS = {"PostgreSQL": 2.0, "SQLite": 5.0}
UNIT_PAGE_TARGET_MS, INBOX_TARGET_MS, INBOX_CALLS, RUNS = 200.0, 10.0, 200, 3
TEXT_KINDS = {                        # kind: (share, text)
    "overdue": (35, "【公文系统】您单位有公文已超过签收时限，请立即登录签收。"),
    "unsigned_24h": (20, "【公文系统】您单位有公文分发已满24小时仍未签收，请及时签收。"),
    "chase": (15, "【公文系统】发文单位催请您单位签收公文，请登录签收。"),
    "urgent_arrival": (10, "【公文系统】您单位收到加急公文，请立即登录签收。"),
    "escalation": (10, "【公文系统】您分管单位有公文逾期仍未签收，请督促办理。"),
    "duty_watch": (6, "【公文系统】值班提醒：已两小时未查看待办，请登录查看。"),
    "half_day_watch": (4, "【公文系统】请在本半日内签收已到达的来文。"),
}
URGENT_KINDS = {"urgent_arrival", "escalation", "duty_watch"}

# (spec name, task name, form key, lane, role) of the tasks the rows stand for, as in workflows/
SIGN_FOR = ("sign_for", "签收", "incoming_sign_for", "收发员", Role.CLERK)
ROUTE = ("route", "分办", "incoming_route", "收发员", Role.CLERK)
HANDLE = ("handle", "办理", "incoming_handle", "承办人", Role.HANDLER)
DRAFT = ("draft", "拟稿", "outgoing_draft", "拟稿人", Role.DRAFTER)
REVIEW = ("office_review", "办公室核稿", "outgoing_review", "核稿人", Role.REVIEWER)
SIGN_OFF = ("sign_off", "签发", "outgoing_sign_off", "签发人", Role.SIGNING_LEADER)
SEAL = ("seal", "用印", "outgoing_seal", "印章管理员", Role.SEAL_KEEPER)
DRAFT_STAGES = ((DocStatus.DRAFTING, DRAFT), (DocStatus.REVIEWING, REVIEW), (DocStatus.AWAITING_SIGN_OFF, SIGN_OFF),
                (DocStatus.SIGNED_OFF, SEAL))


# -- writing rows -------------------------------------------------------------------------------------------

class Writer:
    """Rows held per table and written, in foreign-key order, to every database at once.

    PostgreSQL gets them by COPY (JSON values as text), SQLite by one executemany a table, each value
    through its column's type as Core would send it. Ids are given here, counted from 1: the databases
    are new.
    """

    ORDER = (Unit, Person, RoleGrant, ProcessInstance, Document, DocumentIssuer, Receipt, Task, IncomingRecord,
             ArchiveItem, Notification, TextMessage, LoginDay, InboxLook, UnitDay, ReceiptDay, SentDay)

    def __init__(self, urls: list[str]):
        self.postgres = [psycopg.connect(u.replace("+psycopg", "")) for u in urls if u.startswith("postgresql")]
        self.sqlite = [make_engine(u) for u in urls if u.startswith("sqlite")]
        self.rows: dict[type, list[dict]] = {model: [] for model in self.ORDER}
        self.held = 0
        self.written: Counter[str] = Counter()
        self._ids: Counter[type] = Counter()

    def id(self, model: type) -> int:
        self._ids[model] += 1
        return self._ids[model]

    def add(self, model: type, **row: Any) -> None:
        self.rows[model].append(row)
        self.held += 1
        if self.held >= BATCH:
            self.flush()

    def flush(self) -> None:
        for conn in self.postgres:
            conn.execute("SET synchronous_commit = off")
            for model in self.ORDER:
                if self.rows[model]:
                    _copy(conn, model.__table__, self.rows[model])
            conn.commit()
        for engine in self.sqlite:
            with engine.begin() as conn:
                for model in self.ORDER:
                    if self.rows[model]:
                        _insert(conn, model.__table__, self.rows[model])
        for model, rows in self.rows.items():
            self.written[model.__tablename__] += len(rows)
            rows.clear()
        self.held = 0

    def finish(self) -> None:
        """Write what is held; give PostgreSQL's id sequences their next values, then vacuum and analyse."""
        self.flush()
        for conn in self.postgres:
            for model, last in self._ids.items():
                name = model.__tablename__
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {last})")
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM (ANALYZE)")
            conn.close()
        for engine in self.sqlite:
            engine.dispose()


def _insert(conn: Connection, table: Any, rows: list[dict]) -> None:
    """One executemany of the rows, each value through its column type's bind processor (as Core would)."""
    columns = list(rows[0])
    values = itemgetter(*columns)
    dialect = conn.dialect
    processors = [(i, p) for i, name in enumerate(columns)
                  if (p := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))]
    records = []
    for row in rows:
        record = list(values(row))
        for i, process in processors:
            record[i] = process(record[i])
        records.append(tuple(record))
    quoted = ", ".join(f'"{name}"' for name in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join('?' * len(columns))})", records)


def _copy(conn: psycopg.Connection, table: Any, rows: list[dict]) -> None:
    columns = list(rows[0])
    values = itemgetter(*columns)
    as_json = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    quoted = ", ".join(f'"{name}"' for name in columns)
    with conn.cursor().copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            record = values(row)
            if as_json:
                record = list(record)
                for i in as_json:
                    record[i] = None if record[i] is None else json.dumps(record[i])
            copy.write_row(record)


# -- the area -----------------------------------------------------------------------------------------------

@dataclass
class Organ:
    """A unit of the area as the builder sees it: its people (clerk first, then leader) and its habits."""

    id: int
    kind: UnitKind
    county: int | None                  # its county's government (itself for one); None at city level
    people: list[int] = field(default_factory=list)
    using: bool = True                  # somebody logs in (the others leave every receipt unsigned)
    internal: bool = True               # registers and drafts documents
    sends: bool = True
    weight: float = 1.0                 # how many documents it issues, relatively
    slowness: float = 1.0               # how long its clerk takes to sign for one, relatively
    archiving: float = 0.74             # the share of its handled documents it archives

    @property
    def clerk(self) -> int:
        return self.people[0]

    @property
    def leader(self) -> int:
        return self.people[1]


@dataclass
class Area:
    """Pingliang as written: the city, its units, the counties' units, and who logs in how often."""

    organs: dict[int, Organ]
    city: int
    offices: dict[int, int]             # a government -> its office
    city_level: list[int]
    counties: dict[int, list[int]]      # a county government -> its office and units
    watchdog: int                       # the 网信办, whose 督查员 reads the bulletin
    login_pool: tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]   # person ids, their units, probabilities
    counters: Counter[tuple] = field(default_factory=Counter)          # 发文字号, 收文号 and 件号 sequences

    def government(self, organ: Organ) -> int:
        return organ.county or self.city


def _names(prefix: str, bodies: tuple[str, ...], spare: str, count: int) -> list[str]:
    return [prefix + (bodies[i] if i < len(bodies) else f"{spare}{i - len(bodies) + 1:03d}") for i in range(count)]


def build_area(w: Writer, scale: float, rng: random.Random) -> Area:
    """Write the units, people and role grants; decide each unit's habits."""
    organs: dict[int, Organ] = {}

    def unit(name: str, kind: UnitKind, parent: int | None, county: int | None, short: str | None = None) -> int:
        uid = w.id(Unit)
        w.add(Unit, id=uid, name=name, short_name=short, kind=kind, parent_id=parent, issuer_code=f"PL{uid:04d}",
              status=UnitStatus.ACTIVE, merged_into_id=None, fonds_code=f"{uid:04d}", principal_id=None)
        organs[uid] = Organ(uid, kind, county if kind != UnitKind.COUNTY else uid)
        return uid

    city = unit("平凉市人民政府", UnitKind.CITY, None, None, "平凉市")
    offices = {city: unit("平凉市人民政府办公室", UnitKind.OFFICE, city, None, "市政府办")}
    bodies = _names("平凉", CITY_BODIES, "市直属单位", max(2, round(CITY_LEVEL * scale)))
    city_level = [unit(name, UnitKind.DEPARTMENT if i < len(CITY_BODIES) else UnitKind.DIRECT_BODY, city, None)
                  for i, name in enumerate(bodies)]
    counties: dict[int, list[int]] = {}
    for name in COUNTIES:
        government = unit(f"{name}人民政府", UnitKind.COUNTY, city, None, name)
        offices[government] = unit(f"{name}人民政府办公室", UnitKind.OFFICE, government, government)
        counties[government] = [offices[government]] + [
            unit(body, UnitKind.DEPARTMENT, government, government)
            for body in _names(name, COUNTY_BODIES, "基层单位", max(2, round(COUNTY_UNITS * scale)))]

    # Governments and their offices issue most of what goes to many units; a department, a few a week.
    leading = {city: 30.0, offices[city]: 60.0} | {g: 33.0 for g in counties} | {offices[g]: 66.0 for g in counties}
    for organ in organs.values():
        organ.weight = leading.get(organ.id) or rng.lognormvariate(math.log(6 if organ.county is None else 3), 0.8)
        organ.slowness = rng.lognormvariate(0, 0.5)
        organ.archiving = 0.97 if rng.random() < 0.08 else min(1.0, max(0.05, rng.normalvariate(0.75, 0.2)))
    ordinary = [o for o in organs.values() if o.kind not in (UnitKind.CITY, UnitKind.COUNTY, UnitKind.OFFICE)
                and o.id != city_level[0]]
    rng.shuffle(ordinary)
    shares = [max(1, round(share * len(organs))) for share in (IDLE_UNITS, NO_INTERNAL_UNITS, SILENT_UNITS)]
    for i, organ in enumerate(ordinary[:sum(shares)]):
        organ.using, organ.internal, organ.sends = i >= shares[0], i >= shares[0] + shares[1], False
    _people(w, organs, round(PINGLIANG["people"] * scale), rng)
    supervisor = organs[city_level[0]].people[2]
    w.add(RoleGrant, id=w.id(RoleGrant), person_id=supervisor, role=Role.SUPERVISOR, unit_id=city_level[0],
          department_id=None, granted_at=BULLETIN_AT - timedelta(days=400))
    return Area(organs, city, offices, city_level, counties, city_level[0], _login_pool(organs, rng))


def _people(w: Writer, organs: dict[int, Organ], count: int, rng: random.Random) -> None:
    """``count`` people over the units (at least three each), with the roles their place gives them."""
    sizes = {uid: (60 if o.kind in (UnitKind.CITY, UnitKind.COUNTY, UnitKind.OFFICE) else 40 if o.county is None
                   else 30) * rng.lognormvariate(0, 0.4) for uid, o in organs.items()}
    scale = count / sum(sizes.values())
    counts = {uid: max(3, round(size * scale)) for uid, size in sizes.items()}
    counts[max(counts, key=counts.get)] += count - sum(counts.values())
    hired = BULLETIN_AT - timedelta(days=500)
    roles = ((Role.CLERK, Role.SEAL_KEEPER, Role.ARCHIVIST), (Role.LEADER, Role.SIGNING_LEADER),
             (Role.REVIEWER, Role.DRAFTER))
    for uid, n in counts.items():
        for i in range(n):
            pid = w.id(Person)
            w.add(Person, id=pid, login=f"pl{pid:06d}", name=f"职工{pid:05d}", unit_id=uid, department_id=None,
                  password_hash="!", status=PersonStatus.ACTIVE, failed_logins=0, locked_until=None,
                  session_generation=0, created_at=hired, mobile=f"139{pid:08d}", email=None)
            for role in roles[i] if i < len(roles) else (Role.DRAFTER, Role.HANDLER):
                w.add(RoleGrant, id=w.id(RoleGrant), person_id=pid, role=role, unit_id=uid, department_id=None,
                      granted_at=hired)
            organs[uid].people.append(pid)


def _login_pool(organs: dict[int, Organ], rng: random.Random) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Everyone with how likely they are to log in on a given day: clerks most; 7% never; nobody of an idle unit."""
    people, units, weights = [], [], []
    for organ in organs.values():
        for i, pid in enumerate(organ.people):
            people.append(pid)
            units.append(organ.id)
            weights.append(0.0 if not organ.using or (i > 1 and rng.random() < 0.07) else
                           8.0 if i == 0 else 3.0 if i == 1 else rng.uniform(0.3, 2.0))
    p = numpy.array(weights)
    return numpy.array(people), numpy.array(units), p / p.sum()


# -- a quarter ----------------------------------------------------------------------------------------------

OFFICE_MINUTES = [m for start, end in DEFAULT_OFFICE_HOURS
                  for m in range(start.hour * 60 + start.minute, end.hour * 60 + end.minute)]
AFTER_MINUTES = [*range(7 * 60, 9 * 60), *range(17 * 60 + 30, 23 * 60)]
PRICE = Decimal("0.05")
BODY = "为做好有关工作，现将有关事项通知如下。"
NUMBERING = ("doc_number", "number_code", "number_year", "number_seq", "signing_date", "printed_on", "pdf_sha256",
             "sealed_sha256", "sealed_format", "seal_algorithm")   # a document's, once numbered, typeset and sealed


class DayCalendar(WorkCalendar):
    """The working-day calendar with each day's answer kept: the builder asks about the same 180 days millions of
    times."""

    @functools.cache  # noqa: B019  (one calendar per quarter, kept for the run)
    def is_workday(self, day: date) -> bool:
        return super().is_workday(day)


@dataclass
class Planned:
    """A document between units: who issued it, how urgent, when dispatched, to whom, and by when to sign."""

    issuer: Organ
    urgency: Urgency
    at: datetime
    due: datetime
    sign_class: SignClass
    recipients: list[int]
    outcomes: list[tuple[ReceiptStatus, datetime | None]] = field(default_factory=list)


class Quarter:
    """One quarter's rows: documents with their receipts and the work they caused, drafts, texts, logins, looks.

    ``expected`` holds what ``area_figures`` must count for the quarter once written.
    """

    def __init__(self, w: Writer, area: Area, period: Period, targets: dict[str, int], rng: random.Random,
                 np_rng: numpy.random.Generator, rules: Session, definitions: dict[str, int]):
        self.w, self.area, self.period, self.targets = w, area, period, targets
        self.rng, self.np_rng, self.rules, self.definitions = rng, np_rng, rules, definitions
        self.calendar = DayCalendar(None)
        self.start, self.end = period.bounds()
        self.now = clock.now()
        self.days = [period.first + timedelta(days=d) for d in range(period.day_count)]
        self.workdays = [d for d in self.days if self.calendar.is_workday(d)]
        self.expected: Counter[str] = Counter()
        # What the transactions add to each unit's day counters (engine.daily) as they log in, look, remind, text.
        self.unit_days: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
        # And what dispatch and the recipients' answers add to the receipts' (handlers.exchange.counters).
        self.receipt_days: dict[tuple[int, date, SignClass], Counter[str]] = defaultdict(Counter)
        # And the dispatch step to its issuer's (wide: to more than the default share of all units).
        self.sent_days: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
        self.wide_above = WIDE_DISPATCH_SHARE.default * len(area.organs)

    def build(self) -> Counter[str]:
        documents = self._plan()
        drafts = round(DRAFTS_SHARE * self.targets["internal"])
        registered = self._registered(documents, self.targets["internal"] - len(documents) - drafts)
        for d, doc in enumerate(documents):
            self._exchange(doc, registered, d)
        self._drafts(drafts)
        self._texts(documents)
        self._logins()
        self._looks()
        for (unit, day), counts in self.unit_days.items():
            self.w.add(UnitDay, unit_id=unit, day=day, **{name: counts[name] for name in DAY_COUNTERS})
        for (unit, day), counts in self.sent_days.items():
            self.w.add(SentDay, unit_id=unit, day=day, sent=counts["sent"], wide=counts["wide"])
        for (unit, day, klass), counts in self.receipt_days.items():
            self.w.add(ReceiptDay, unit_id=unit, day=day, sign_class=klass, **{name: counts[name] for name in (
                "received", "due", "signed", "on_time", "returned", "sign_seconds", "worst_sign_seconds")})
        self.expected.update(internal=self.targets["internal"], sent=len(documents))
        return self.expected

    def _count(self, unit: int, at: datetime | date, **counts: int | Decimal) -> None:
        self.unit_days[unit, at if isinstance(at, date) and not isinstance(at, datetime) else
                       clock.local(at).date()].update(counts)

    # moments

    def _moment(self, day: date, office: bool) -> datetime:
        minute = self.rng.choice(OFFICE_MINUTES if office else AFTER_MINUTES)
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, self.rng.randrange(60),
                         tzinfo=clock.SHANGHAI)
        return local.astimezone(clock.UTC)

    def _dispatch_moment(self, urgency: Urgency) -> datetime:
        day = self.rng.choice(self.workdays if self.rng.random() < 0.95 else self.days)
        late = self.rng.random() < (0.3 if urgency != Urgency.NORMAL else AFTER_HOURS)
        return self._moment(day, office=not late)

    # documents between units

    def _plan(self) -> list[Planned]:
        """Documents until the quarter's receipts are all placed, then what became of each receipt."""
        senders = [o for o in self.area.organs.values() if o.sends]
        weights = [o.weight for o in senders]
        documents, placed, target = [], 0, self.targets["receipts"]
        while placed < target:
            issuer = self.rng.choices(senders, weights)[0]
            recipients = self._recipients(issuer)[:target - placed]
            r = self.rng.random()
            urgency = Urgency.NORMAL if r >= URGENT else Urgency.URGENT if r < 0.75 * URGENT else Urgency.EXTRA_URGENT
            at = self._dispatch_moment(urgency)
            window = sign_for_window(self.rules, self.calendar, urgency, at)
            documents.append(Planned(issuer, urgency, at, window.due, sign_class(urgency, window), recipients))
            placed += len(recipients)
        idle = sum(not self.area.organs[u].using for doc in documents for u in doc.recipients)
        never = max(0.0, (NEVER_SIGNED * target - idle) / (target - idle))
        for doc in documents:
            for unit in doc.recipients:
                organ = self.area.organs[unit]
                signed = None if not organ.using or self.rng.random() < never else self._signed_at(doc, organ)
                if signed is None or signed >= self.now:
                    doc.outcomes.append((ReceiptStatus.PENDING, None))
                else:
                    doc.outcomes.append((ReceiptStatus.RETURNED if self.rng.random() < RETURNED else
                                         ReceiptStatus.SIGNED, signed))
                self.expected[doc.outcomes[-1][0].value] += 1
        self.expected["received"] = target
        return documents

    def _recipients(self, organ: Organ) -> list[int]:
        """To whom a unit of its kind sends a document: downward, upward, to peers, now and then to almost all."""
        a, rng, r = self.area, self.rng, self.rng.random()
        if r < 0.0005:
            everyone = list(a.organs)
            chosen = rng.sample(everyone, rng.randint(len(everyone) * 35 // 100, len(everyone)))
        elif organ.id in a.offices or organ.id in a.offices.values():
            government = a.government(organ)
            if government == a.city:
                counties = list(a.counties)
                chosen = (counties + [a.offices[c] for c in counties] if r < 0.35 else counties + a.city_level
                          if r < 0.7 else rng.sample(a.city_level, min(len(a.city_level), rng.randint(2, 12))))
            else:
                own = a.counties[government]
                chosen = (own if r < 0.3 else rng.sample(own, min(len(own), rng.randint(3, 25))) if r < 0.75
                          else rng.choice(([a.city], [a.offices[a.city]], [a.city, a.offices[a.city]])))
        else:
            government = a.government(organ)
            up = rng.choice(([government], [a.offices[government]], [government, a.offices[government]]))
            if organ.county is None:
                chosen = (up if r < 0.35 else rng.sample(a.city_level, min(len(a.city_level), rng.randint(2, 8)))
                          if r < 0.6 else [rng.choice(units) for units in a.counties.values()] if r < 0.85
                          else list(a.counties))
            else:
                own = a.counties[organ.county]
                chosen = (up if r < 0.5 else rng.sample(own, min(len(own), rng.randint(2, 8))) if r < 0.85
                          else rng.sample(a.city_level, rng.randint(1, 2)))
        return [u for u in chosen if u != organ.id] or [a.government(organ)]

    def _signed_at(self, doc: Planned, organ: Organ) -> datetime:
        """Most within the hour or two, some late: in office hours; an after-hours urgent one by the clock."""
        if doc.urgency == Urgency.NORMAL:
            return self.calendar.add_working_hours(doc.at, self.rng.lognormvariate(math.log(0.7), 1.3) * organ.slowness)
        if self.calendar.in_office_hours(doc.at):
            return self.calendar.add_working_hours(doc.at, self.rng.lognormvariate(math.log(0.15), 1) * organ.slowness)
        return doc.at + timedelta(minutes=self.rng.lognormvariate(math.log(35), 0.8) * organ.slowness)

    def _registered(self, documents: list[Planned], count: int) -> set[tuple[int, int]]:
        """Which signed receipts the units register (收文登记): exactly ``count`` of those signed in the quarter."""
        eligible = [(d, r) for d, doc in enumerate(documents) for r, (status, signed) in enumerate(doc.outcomes)
                    if status == ReceiptStatus.SIGNED and signed < self.end
                    and self.area.organs[doc.recipients[r]].internal]
        if count > len(eligible):
            raise RuntimeError(f"{count} documents to register, only {len(eligible)} signed by units that register")
        return set(self.rng.sample(eligible, count))

    # rows

    def _instance(self, process: str, unit: int, title: str, priority: int, created: datetime,
                  done: datetime | None, initiator: int | None = None) -> int:
        iid = self.w.id(ProcessInstance)
        self.w.add(ProcessInstance, id=iid, definition_id=self.definitions[process], process_id=process,
                   owning_unit_id=unit, initiator_id=initiator, title=title, priority=priority, correlation=None,
                   status=InstanceStatus.COMPLETED if done else InstanceStatus.RUNNING, state="{}", revision=1,
                   created_at=created, updated_at=done or created, completed_at=done)
        return iid

    def _task(self, instance: int, step: tuple, unit: int, created: datetime, *, person: int | None = None,
              due: datetime | None = None, done: datetime | None = None, by: int | None = None) -> None:
        spec, name, form_key, lane, role = step
        self.w.add(Task, id=uuid.UUID(int=self.rng.getrandbits(128), version=4), instance_id=instance,
                   spec_name=spec, name=name, form_key=form_key, lane=lane, candidate_role=role,
                   candidate_unit_id=unit, candidate_department_id=None, candidate_person_id=person,
                   assignee_id=by, state=TaskState.COMPLETED if done else TaskState.READY, created_at=created,
                   due_at=due, completed_at=done, completed_by_id=by, form_data=None)

    def _document(self, did: int, organ: Organ, title: str, created: datetime, status: DocStatus, urgency: Urgency,
                  instance: int, recipients: list[int], at: datetime | None = None) -> None:
        """A document's row; numbered and sealed when dispatched ``at``."""
        local = (at or created).astimezone(clock.SHANGHAI)
        numbering = dict.fromkeys(NUMBERING)
        if at is not None:
            code, year = f"PL{organ.id:04d}", local.year
            self.area.counters[code, year] += 1
            seq = self.area.counters[code, year]
            numbering.update(doc_number=f"平{organ.id}发〔{year}〕{seq}号", number_code=code, number_year=year,
                             number_seq=seq, signing_date=local.date(), printed_on=local.date(),
                             pdf_sha256=f"{did:064x}", sealed_sha256=f"{did + 1:064x}", sealed_format="PAdES",
                             seal_algorithm="ECDSA-P256-SHA256")
        downward = organ.kind in (UnitKind.CITY, UnitKind.COUNTY, UnitKind.OFFICE)
        self.w.add(Document, id=did, instance_id=instance, issuing_unit_id=organ.id, drafter_id=organ.people[2],
                   drafting_department_id=None, doc_type=DocType.NOTICE if downward else DocType.REPORT,
                   direction=Direction.DOWNWARD if downward else Direction.UPWARD, urgency=urgency,
                   classification="非密", copy_number=None, title=title,
                   main_to=recipients, main_to_text="各有关单位", cc=[], cc_text="", body=[BODY],
                   signers=[], note=None, printed_by="", important=False, one_matter=False, **numbering,
                   status=status, seal_boxes=[], version=1, reply_to_id=None, created_at=created,
                   updated_at=at or created)

    def _exchange(self, doc: Planned, registered: set[tuple[int, int]], d: int) -> None:
        """The document with its outgoing steps, and per recipient its receipt, 签收 and what the unit did next."""
        organ, did = doc.issuer, self.w.id(Document)
        created = max(self.start, doc.at - timedelta(hours=self.rng.lognormvariate(math.log(20), 0.8)))
        title = _title(did, organ)
        outgoing = self._instance("outgoing", organ.id, title, doc.urgency.rank, created, doc.at, organ.people[2])
        self._document(did, organ, title, created, DocStatus.DISPATCHED, doc.urgency, outgoing, doc.recipients, doc.at)
        self.w.add(DocumentIssuer, document_id=did, unit_id=organ.id, position=0, signed_off_by_id=organ.leader,
                   signed_off_at=doc.at - (doc.at - created) / 3, seal_id=None)
        self._task(outgoing, DRAFT, organ.id, created, person=organ.people[2], done=created, by=organ.people[2])
        self._task(outgoing, SIGN_OFF, organ.id, created, done=doc.at - (doc.at - created) / 3, by=organ.leader)
        self._task(outgoing, SEAL, organ.id, created, done=doc.at, by=organ.clerk)
        wide = int(len(doc.recipients) > self.wide_above)  # an int: an empty Counter keeps a bool as given
        self.sent_days[organ.id, clock.local(doc.at).date()].update(sent=1, wide=wide)
        for r, (unit, (status, signed)) in enumerate(zip(doc.recipients, doc.outcomes, strict=True)):
            self._receipt(doc, did, title, self.area.organs[unit], status, signed, (d, r) in registered)

    def _receipt(self, doc: Planned, did: int, title: str, organ: Organ, status: ReceiptStatus,
                 signed: datetime | None, registered: bool) -> None:
        """One recipient's receipt with its incoming process: 签收; if registered, 分办, 办理 and the archive."""
        record: dict[str, Any] = {}
        done = signed if status == ReceiptStatus.RETURNED else None
        if registered:
            record = self._record(organ, signed)
            done = record["archived_at"] or record["handled_at"]
        elif status == ReceiptStatus.SIGNED:
            done = signed               # signed, then handled on paper: nothing more in the system
        incoming = self._instance("incoming", organ.id, title, doc.urgency.rank, doc.at, done)
        rid = self.w.id(Receipt)
        late = (signed or self.now) > doc.due
        self.w.add(Receipt, id=rid, document_id=did, unit_id=organ.id, version=1, copy=self.rng.random() < 0.2,
                   status=status, incoming_instance_id=incoming, dispatched_at=doc.at, signed_at=signed,
                   signed_by_id=organ.clerk if signed else None,
                   return_reason="不属于本单位职责范围" if status == ReceiptStatus.RETURNED else None,
                   due_at=doc.due, sign_class=doc.sign_class, overdue_since=doc.due if late else None,
                   last_chased_at=None, verification=None)
        counts = self.receipt_days[organ.id, clock.local(doc.at).date(), doc.sign_class]
        counts.update(received=1, due=1, returned=int(status == ReceiptStatus.RETURNED))
        if status == ReceiptStatus.SIGNED:
            seconds = (signed - doc.at).total_seconds()
            counts.update(signed=1, on_time=int(not late), sign_seconds=seconds)
            counts["worst_sign_seconds"] = max(counts["worst_sign_seconds"], seconds)
        self._task(incoming, SIGN_FOR, organ.id, doc.at, due=doc.due, done=signed, by=organ.clerk if signed else None)
        if not record:
            return
        archived_at = record["archived_at"]
        self.w.add(IncomingRecord, id=self.w.id(IncomingRecord), instance_id=incoming, unit_id=organ.id,
                   document_id=did, receipt_id=rid, lead_department_id=None, assisting_department_ids=[],
                   reply_document_id=None, **record)
        handler = self.rng.choice(organ.people[2:])
        self._task(incoming, ROUTE, organ.id, signed, done=record["registered_at"], by=organ.clerk)
        self._task(incoming, HANDLE, organ.id, record["registered_at"], due=record["handle_due"],
                   done=record["handled_at"], by=handler if record["handled_at"] else None)
        if archived_at:
            self._archive_item(organ, did, incoming, record["year"], archived_at)

    def _record(self, organ: Organ, signed: datetime) -> dict[str, Any]:
        """The register's row of a signed document: registered the same quarter, mostly handled, often archived."""
        rng = self.rng
        registered = min(signed + timedelta(minutes=rng.lognormvariate(math.log(20), 1)),
                         self.end - timedelta(seconds=1))
        year = registered.astimezone(clock.SHANGHAI).year
        self.area.counters["收", organ.id, year] += 1
        seq = self.area.counters["收", organ.id, year]
        handled = registered + timedelta(hours=rng.lognormvariate(math.log(30), 1)) if rng.random() < 0.9 else None
        handled = handled if handled and handled < self.now else None
        archived = handled + timedelta(hours=rng.lognormvariate(math.log(6), 1)) \
            if handled and rng.random() < organ.archiving else None
        return {"year": year, "seq": seq, "incoming_number": f"收〔{year}〕{seq}号", "registered_at": registered,
                "handle_due": self.calendar.add_working_days(registered, 5), "handled_at": handled,
                "result": "已办结" if handled else None,
                "archived_at": archived if archived and archived < self.now else None}

    def _archive_item(self, organ: Organ, did: int, instance: int, year: int, at: datetime) -> None:
        retention = self.rng.choices((Retention.YEARS_10, Retention.YEARS_30, Retention.PERMANENT), (7, 2, 1))[0]
        fonds = f"{organ.id:04d}"
        self.area.counters["件", organ.id, year, retention] += 1
        number = self.area.counters["件", organ.id, year, retention]
        self.w.add(ArchiveItem, id=self.w.id(ArchiveItem), unit_id=organ.id, document_id=did, instance_id=instance,
                   fonds_code=fonds, year=year, retention=retention, org_code="BGS", item_number=number,
                   archive_code=f"{fonds}-WS·{year}-{retention.value}-BGS-{number:04d}", pages=self.rng.randint(2, 12),
                   copy_sha256=f"{did:064x}", manifest_sha256=None, archived_at=at, archived_by_id=organ.clerk)

    def _drafts(self, count: int) -> None:
        """Documents drafted in the quarter and never dispatched, each waiting at one step of the outgoing process."""
        drafting = [o for o in self.area.organs.values() if o.internal]
        for organ in self.rng.choices(drafting, [o.weight for o in drafting], k=count):
            did, created = self.w.id(Document), self._moment(self.rng.choice(self.workdays), office=True)
            status, step = self.rng.choice(DRAFT_STAGES)
            title = _title(did, organ)
            instance = self._instance("outgoing", organ.id, title, 0, created, None, organ.people[2])
            self._document(did, organ, title, created, status, Urgency.NORMAL, instance, [])
            self._task(instance, step, organ.id, created, person=organ.people[2] if step is DRAFT else None)

    def _texts(self, documents: list[Planned]) -> None:
        """Texts to the units, more to those that receive more; each to a person comes with its in-app notice."""
        received = Counter(u for doc in documents for u in doc.recipients)
        units = list(self.area.organs)
        count = self.targets["texts"]
        kinds = list(TEXT_KINDS)
        for unit, kind in zip(self.rng.choices(units, [received[u] + 5 for u in units], k=count),
                              self.rng.choices(kinds, [TEXT_KINDS[k][0] for k in kinds], k=count), strict=True):
            organ, rng = self.area.organs[unit], self.rng
            r = rng.random()
            person = organ.clerk if r < 0.6 else organ.leader if r < 0.75 else rng.choice(organ.people) \
                if r < 0.9 else None
            at = self._moment(rng.choice(self.days), office=rng.random() < 0.85)
            message, urgent = TEXT_KINDS[kind][1], kind in URGENT_KINDS
            notification = None
            if person and kind in ("duty_watch", "half_day_watch"):
                self._count(unit, at, watch_reminders=1)
            if person:
                notification = self.w.id(Notification)
                self.w.add(Notification, id=notification, person_id=person, kind=kind, text=message, reason="",
                           instance_id=None, created_at=at, urgent=urgent,
                           read_at=at + timedelta(minutes=rng.randint(1, 600)) if rng.random() < 0.8 else None)
            r, segments = rng.random(), 1 if rng.random() < 0.85 else 2
            status = TextStatus.DELIVERED if r < 0.92 else TextStatus.SENT if r < 0.97 else TextStatus.FAILED
            tid = self.w.id(TextMessage)
            self.w.add(TextMessage, id=tid, key=f"bench:{tid}", number=f"139{person:08d}" if person else
                       f"138{unit:08d}", text=message, kind=kind, urgent=urgent, person_id=person, unit_id=unit,
                       payer_unit_id=self.area.government(organ), notification_id=notification, segments=segments,
                       cost=PRICE * segments, status=status, created_at=at, sent_at=at + timedelta(seconds=2),
                       delivered_at=at + timedelta(seconds=8) if status == TextStatus.DELIVERED else None,
                       report=None)
            accepted = status != TextStatus.FAILED
            self._count(unit, at, texts=1, text_segments=segments if accepted else 0,
                        text_cost=PRICE * segments if accepted else Decimal(0))
        self.expected["texts"] = count

    def _logins(self) -> None:
        """About ``online`` people a day (more on working days), logging in ``logins`` times in all."""
        people, units, p = self.area.login_pool
        weights = [1.0 if self.calendar.is_workday(d) else 0.2 for d in self.days]
        total_days = self.targets["online"] * len(self.days)
        per_day = [math.floor(total_days * w / sum(weights)) for w in weights]
        per_day[0] += total_days - sum(per_day)
        logins = self.np_rng.poisson(self.targets["logins"] / total_days - 1, total_days) + 1
        short = self.targets["logins"] - int(logins.sum())
        while short:
            at = self.np_rng.integers(0, total_days, abs(short))
            if short > 0:
                numpy.add.at(logins, at, 1)
            else:
                at = numpy.unique(at[logins[at] > 1])
                logins[at] -= 1
            short = self.targets["logins"] - int(logins.sum())
        k = 0
        for day, n in zip(self.days, per_day, strict=True):
            for i in self.np_rng.choice(len(people), size=n, replace=False, p=p):
                self.w.add(LoginDay, person_id=int(people[i]), day=day, unit_id=int(units[i]), logins=int(logins[k]))
                self._count(int(units[i]), day, logins=int(logins[k]), person_days=1)
                k += 1
        self.expected.update(logins=self.targets["logins"], person_days=total_days)

    def _looks(self) -> None:
        """Each clerk of a unit in use looks at the inbox two to six times a working day."""
        for organ in self.area.organs.values():
            if organ.using:
                for day in self.workdays:
                    for _ in range(self.rng.randint(2, 6)):
                        self.w.add(InboxLook, id=self.w.id(InboxLook), person_id=organ.clerk, unit_id=organ.id,
                                   at=self._moment(day, office=True))
                        self._count(organ.id, day, looks=1)


def _title(did: int, organ: Organ) -> str:
    downward = organ.kind in (UnitKind.CITY, UnitKind.COUNTY, UnitKind.OFFICE)
    return f"关于做好第{did}项工作的{'通知' if downward else '报告'}"


# -- building -----------------------------------------------------------------------------------------------

@dataclass
class Built:
    area: Area
    expected: Counter[str]              # what the quarter's figures must show


def targets(scale: float, share: float = 1.0) -> dict[str, int]:
    """Pingliang's figures at ``scale``, times ``share`` (the quarter before: ``PREVIOUS_SHARE``)."""
    return {name: round(value * scale * share) for name, value in PINGLIANG.items()}


def deployed(urls: dict[str, str], workdir: Path) -> dict[str, int]:
    """Deploy workflows/ on every database; the definitions' ids, the same on each (all start empty)."""
    seen = set()
    for name, url in urls.items():
        with gongwen_on(url, workdir / f"{name}-files") as gongwen:
            with gongwen.db.write() as session:
                deploy(session, collect([ROOT / "workflows"]))
            with gongwen.db.session() as session:
                seen.add(tuple(session.execute(select(ProcessDefinition.process_id, ProcessDefinition.id)
                                               .order_by(ProcessDefinition.id)).all()))
    if len(seen) != 1:
        raise RuntimeError(f"the databases' process definitions differ: {seen}")
    return dict(seen.pop())


def build(urls: dict[str, str], scale: float, workdir: Path) -> Built:
    """Write the area, the quarter before and the quarter itself to every database; report how long it took."""
    rng, np_rng = random.Random(20180413), numpy.random.default_rng(20180413)
    definitions = deployed(urls, workdir)
    rules = create_engine("sqlite://")             # a fresh installation's sign-for windows: no DeadlineRule rows
    DeadlineRule.__table__.create(rules)
    w = Writer(list(urls.values()))
    began = time.perf_counter()
    with Session(rules) as session:
        area = build_area(w, scale, rng)
        w.flush()
        print(f"  area:     {len(area.organs):,} units, {sum(len(o.people) for o in area.organs.values()):,} people "
              f"in {time.perf_counter() - began:.1f} s")
        for period, figures in ((QUARTER.previous(), targets(scale, PREVIOUS_SHARE)), (QUARTER, targets(scale))):
            step = time.perf_counter()
            quarter = Quarter(w, area, period, figures, rng, np_rng, session, definitions)
            expected = quarter.build()
            w.flush()
            print(f"  {period.label}: {expected['received']:,} receipts, {figures['internal']:,} documents inside "
                  f"units, {expected['texts']:,} texts, {expected['logins']:,} logins in "
                  f"{time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    w.finish()
    print(f"  finished: ids, vacuum and analyse in {time.perf_counter() - step:.1f} s; "
          f"{sum(w.written.values()):,} rows in all in {time.perf_counter() - began:.0f} s")
    print("  rows:     " + ", ".join(f"{table} {count:,}" for table, count in w.written.most_common()))
    expected.update(units=len(area.organs), people=sum(len(o.people) for o in area.organs.values()))
    return Built(area, expected)


# -- measuring ----------------------------------------------------------------------------------------------

def bulletin(session: Session, gongwen: Gongwen, root: Unit) -> tuple[AreaFigures, dict[str, float]]:
    """Everything the quarter's bulletin shows; the seconds of each part."""
    parts: dict[str, float] = {}

    def part(name: str, work: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = work()
        parts[name] = time.perf_counter() - began
        return result

    figures = part("figures", lambda: area_figures(session, root, QUARTER))
    previous = part("previous", lambda: area_figures(session, root, QUARTER.previous()))
    months = part("monthly", lambda: monthly(session, root, QUARTER))
    part("charts", lambda: (ranking_png(figures), groups_png(figures, previous), trend_png(months)))
    part("workbook", lambda: (figures_xlsx(figures, previous), bulletin_tables(figures)))
    return figures, parts


def unit_page(session: Session, gongwen: Gongwen, root: Unit, unit_id: int) -> int:
    """What one unit's page needs: its figures and the previous period's, and its rank in the area."""
    area_figures(session, root, QUARTER, only={unit_id})
    area_figures(session, root, QUARTER.previous(), only={unit_id})
    return rank_of(session, root, QUARTER, unit_id)[0]


def check(figures: AreaFigures, expected: Counter[str]) -> None:
    """The figures count what was written."""
    total = figures.total
    read = {"units": total.units, "people": total.people, "received": total.received, "signed": total.signed,
            "returned": total.returned, "internal": total.handled_inside, "sent": total.sent, "texts": total.texts,
            "logins": total.logins, "person_days": total.person_days}
    wrong = {name: (value, expected[name]) for name, value in read.items() if value != expected[name]}
    if wrong:
        raise RuntimeError(f"figures read back differ from the rows written (read, written): {wrong}")


def describe(figures: AreaFigures) -> str:
    t = figures.total
    return (f"{t.units:,} units, {t.people:,} people; {t.received:,} received, 签收率 {t.sign_rate:.1%}, in time "
            f"{t.in_time.rate:.1%} (urgent {t.urgent.due:,}, after hours {t.after_hours.due:,}), {t.returned:,} "
            f"returned, {t.overdue_now:,} overdue now; {t.sent:,} sent ({t.wide} wide); {t.handled_inside:,} inside "
            f"units, 归档率 {t.archive_rate:.1%}, backlog {t.backlog:,}; {t.texts:,} texts; {t.logins:,} logins, "
            f"{figures.online_per_day(t):,.0f} online a day, {t.people_never:,} never; {t.watch_reminders:,} watch "
            f"reminders; sent nothing {len(figures.sent_nothing)}, no internal work {len(figures.no_internal_work)}, "
            f"not using {len(figures.not_using)}")


# What makes the plans long: the area's thousand unit ids (written into the statements by figures._among,
# or as parameters; in the plans, as an array), and cost estimates.
UNIT_PARAMETERS = re.compile(r"\((?:\d+|[?]|%\(\w+\)s(?:::\w+)?)(?:, (?:\d+|[?]|%\(\w+\)s(?:::\w+)?)){9,}\)")
UNIT_ARRAY = re.compile(r"'\{\d+(?:,\d+){9,}\}'")
COSTS = re.compile(r"\s*\(cost=[^)]*\)")


def timed_statements(gongwen: Gongwen, root: Unit) -> list[tuple[str, Any, float]]:
    """(SQL, parameters, seconds) of each statement the bulletin's figures send.

    A statement's seconds run until the next one is sent (the last one's, until the figures are done):
    SQLite does a query's work while its rows are fetched, not when it is sent. They include what the
    figures do with the rows before the next statement (the calendar's look at each urgent receipt
    shows as the time of the calendar's query that it starts with).
    """
    sent: list[tuple[str, Any, float]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, parameters, time.perf_counter()))

    event.listen(gongwen.db.engine, "before_cursor_execute", before)
    try:
        with gongwen.db.session() as session:
            for period in (QUARTER, QUARTER.previous()):
                area_figures(session, root, period)
            monthly(session, root, QUARTER)
    finally:
        event.remove(gongwen.db.engine, "before_cursor_execute", before)
    ends = [began for *_, began in sent[1:]] + [time.perf_counter()]
    return [(sql, parameters, end - began) for (sql, parameters, began), end in zip(sent, ends, strict=True)]


def show_slowest(gongwen: Gongwen, root: Unit, count: int = 3) -> None:
    """The figures' statements that took longest in all, with the plan of each."""
    sent = timed_statements(gongwen, root)
    totals: dict[str, list] = {}
    for sql, parameters, seconds in sent:
        entry = totals.setdefault(sql, [0.0, 0, parameters])
        entry[0] += seconds
        entry[1] += 1
    print(f"  slowest of the figures' {len(sent)} statements ({ms(sum(s for *_, s in sent)):.0f} ms in all, each "
          "until the next is sent: its rows fetched and used):")
    engine = gongwen.db.engine
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    for sql, (seconds, runs, parameters) in sorted(totals.items(), key=lambda item: -item[1][0])[:count]:
        shown = UNIT_PARAMETERS.sub("(…the area's units…)", " ".join(sql.split()))
        print(f"    {ms(seconds):7.1f} ms in {runs} run(s): {shown}")
        with engine.connect() as conn:
            for row in conn.exec_driver_sql(explain + sql, parameters):
                print(f"        {_short(str(row[-1]))}")


def _short(line: str) -> str:
    """A plan's line without its cost estimates and with the area's unit ids elided."""
    return UNIT_ARRAY.sub("'{…the area's units…}'", COSTS.sub("", line))


def measure(name: str, url: str, built: Built, workdir: Path) -> dict[str, float]:
    """Time the bulletin, a unit's page and a clerk's inbox on one database; check and show the figures."""
    print(f"\n{name}")
    with gongwen_on(url, workdir / f"{name}-files") as gongwen:
        with gongwen.db.session() as session:
            root = area_root(session, built.area.watchdog)
        runs, parts = [], []
        for _ in range(RUNS):
            with gongwen.db.session() as session:
                began = time.perf_counter()
                figures, spent = bulletin(session, gongwen, root)
                runs.append(time.perf_counter() - began)
                parts.append(spent)
        check(figures, built.expected)
        print(f"  figures:  {describe(figures)} (checked against the rows written)")
        print(f"  bulletin: {', '.join(f'{s:.2f}' for s in runs)} s (median {median(runs):.2f} s, target ≤ "
              f"{TARGETS[name]:.0f} s: {'met' if median(runs) <= TARGETS[name] else 'MISSED'})")
        print("            parts (median): " + ", ".join(f"{part} {median([p[part] for p in parts]):.2f} s"
                                                        for part in parts[0]))
        show_slowest(gongwen, root)

        unit = built.area.offices[next(iter(built.area.counties))]
        pages = []
        for _ in range(RUNS):
            with gongwen.db.session() as session:
                began = time.perf_counter()
                rank = unit_page(session, gongwen, root, unit)
                pages.append(time.perf_counter() - began)
        page_ms = ms(median(pages))
        print(f"  unit page: unit {unit} (rank {rank} of {len(figures.units)}): {page_ms:.0f} ms, target ≤ "
              f"{UNIT_PAGE_TARGET_MS:.0f} ms: {'met' if page_ms <= UNIT_PAGE_TARGET_MS else 'MISSED'}")

        with gongwen.db.session() as session:
            unit, waiting = session.execute(
                select(Task.candidate_unit_id, func.count()).where(Task.state == TaskState.READY,
                                                                   Task.candidate_role == Role.CLERK)
                .group_by(Task.candidate_unit_id).order_by(func.count().desc()).limit(1)).one()
            tasks = session.scalar(select(func.count()).select_from(Task))
        clerk = built.area.organs[unit].clerk

        def inbox() -> None:
            with gongwen.db.session() as session:
                ready_tasks(session, clerk)

        timed(inbox, 5)
        calls = timed(inbox, INBOX_CALLS)
        p95 = ms(percentile(calls, 95))
        print(f"  inbox:    the clerk of unit {unit} ({waiting} ready 签收 tasks; {tasks:,} tasks in the table): "
              f"p50 {ms(percentile(calls, 50)):.2f} ms, p95 {p95:.2f} ms over {INBOX_CALLS} calls, target ≤ "
              f"{INBOX_TARGET_MS:.0f} ms: {'met' if p95 <= INBOX_TARGET_MS else 'MISSED'}")
    return {"bulletin_s": median(runs), "unit_page_ms": page_ms, "inbox_p95_ms": p95}


# -- main ---------------------------------------------------------------------------------------------------

def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--scale", type=float, default=1.0, help="a share of Pingliang's figures, e.g. 0.05")
    arguments.add_argument("--skip-postgresql", action="store_true", help="SQLite only")
    arguments.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    options = arguments.parse_args()
    if not 0 < options.scale <= 1:
        arguments.error("--scale must be above 0 and at most 1")
    exit_on_sigterm()
    configure_process()
    clock.set_clock(clock.FixedClock(BULLETIN_AT))
    began = time.perf_counter()
    print(f"Gongwen supervision benchmark: Pingliang's {QUARTER.label} at scale {options.scale:g}. It measures "
          "reading: the rows are written in bulk, not by the processes that write them in use; meeting notices "
          "are left out (no meeting module yet)")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as workdir, ExitStack() as databases:
        urls = {}
        if not options.skip_sqlite:
            urls["SQLite"] = databases.enter_context(sqlite_database(Path(workdir)))
        if not options.skip_postgresql:
            urls["PostgreSQL"] = databases.enter_context(postgres_database())
        print(f"\nbuilding on {' and '.join(urls)} at once")
        built = build(urls, options.scale, Path(workdir))
        for name in ("PostgreSQL", "SQLite"):
            if name in urls:
                results[name] = measure(name, urls[name], built, Path(workdir))
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")
    worst = {key: max(r[key] for r in results.values()) for key in ("unit_page_ms", "inbox_p95_ms")}
    e = built.expected
    print(f"RESULT units={e['units']} people={e['people']} documents={e['received']} "
          f"pg_bulletin_s={results.get('PostgreSQL', {}).get('bulletin_s', 0):.2f} "
          f"sqlite_bulletin_s={results.get('SQLite', {}).get('bulletin_s', 0):.2f} "
          f"unit_page_ms={worst['unit_page_ms']:.0f} inbox_p95_ms={worst['inbox_p95_ms']:.2f}")


if __name__ == "__main__":
    main()
