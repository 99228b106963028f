"""The demo organisation: a city government office, its departments, three counties.

Used by ``gongwen demo`` and by the tests, so the people a newcomer logs in as are
the same people the tests drive documents through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from engine.config import Settings
from engine.models import Department, Person, Role, Unit, UnitKind
from engine.organisation import create_department, create_person, create_unit, grant_role
from handlers.contacts.models import Duty
from handlers.contacts.register import appoint
from handlers.documents.numbering import add_series
from handlers.seals import personal
from handlers.seals.register import issue_seal

DEMO_PASSWORD = "gongwen-demo"

BUSINESS_ROLES = (Role.DRAFTER, Role.DEPARTMENT_HEAD, Role.REVIEWER, Role.SIGNING_LEADER, Role.SEAL_KEEPER,
                  Role.CLERK, Role.HANDLER, Role.LEADER, Role.ARCHIVIST)
# The demo's people, in the order they are created: varied as real names are, no two alike.
_NAMES = (
    "周立新", "李淑华", "陈志强", "王晓燕", "张海涛", "刘文静", "赵建军", "孙丽萍", "吴国栋", "郑雪梅",
    "徐振华", "黄秋菊", "马春生", "朱宏伟", "胡晓东", "郭玉兰", "何明远", "高秀英", "林志刚", "罗晓敏",
    "梁家宝", "宋立平", "谢文斌", "韩冬梅", "唐建华", "冯晓红", "于海波", "董丽君", "程子墨", "曹永康",
    "袁佳琪", "邓国庆", "许静怡", "傅晓峰", "沈云飞", "曾宪民", "彭小丽", "吕振宇", "苏雅婷", "卢海燕",
    "蒋卫东", "蔡晓琳", "贾志勇", "丁雨萱", "魏长青", "薛梦瑶", "叶思远", "杜鹏飞",
)
REGISTER_SINCE = date(2025, 1, 2)  # when the demo units' duty-contact registers were first kept
# 职务 of a unit's principal and of its 分管领导, by the kind of unit.
_TITLES = {UnitKind.OFFICE: ("主任", "副主任"), UnitKind.DEPARTMENT: ("局长", "副局长"),
           UnitKind.DIRECT_BODY: ("馆长", "副馆长")}


@dataclass
class DemoOrg:
    units: dict[str, Unit] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)

    def unit(self, key: str) -> Unit:
        return self.units[key]

    def person(self, login: str) -> Person:
        return self.people[login]


def seed(session: Session) -> DemoOrg:
    """Create the demo organisation; returns handles to its units and people by key and login."""
    org = DemoOrg()
    names = iter(_NAMES)

    def unit(key, name, kind, parent=None, code=None, short=None):
        org.units[key] = create_unit(session, name, kind, parent=org.units.get(parent), issuer_code=code,
                                     short_name=short)
        return org.units[key]

    def dept(key, unit_key, name, code, is_office=False):
        org.departments[key] = create_department(session, org.units[unit_key], name, is_office=is_office)
        org.departments[key].code = code
        return org.departments[key]

    def person(login, unit_key, roles, department=None):
        p = create_person(session, login, next(names), DEMO_PASSWORD, unit=org.units.get(unit_key),
                          department=org.departments.get(department))
        p.mobile = f"1395180{len(org.people) + 1:04d}"  # unique, and the same on every run
        for role in roles:
            scoped = role in (Role.DEPARTMENT_HEAD, Role.HANDLER)  # they act for their own department
            grant_role(session, p, role, unit=org.units.get(unit_key) if not role.is_admin else None,
                       department=org.departments.get(department) if scoped else None)
        org.people[login] = p
        return p

    unit("province", "江苏省人民政府", UnitKind.PROVINCE, code="苏政发", short="省政府")
    unit("province_office", "江苏省人民政府办公厅", UnitKind.OFFICE, "province", "苏政办发", "省政府办公厅")
    unit("city", "连云港市人民政府", UnitKind.CITY, "province", "连政发", "市政府")
    unit("city_office", "连云港市人民政府办公室", UnitKind.OFFICE, "city", "连政办发", "市政府办公室")
    unit("finance", "连云港市财政局", UnitKind.DEPARTMENT, "city", "连财发", "市财政局")
    unit("education", "连云港市教育局", UnitKind.DEPARTMENT, "city", "连教发", "市教育局")
    unit("archives", "连云港市档案馆", UnitKind.DIRECT_BODY, "city", "连档发", "市档案馆")
    counties = (("donghai", "东海县", "东政"), ("guanyun", "灌云县", "灌政"), ("guannan", "灌南县", "灌南政"))
    for key, name, code in counties:
        unit(key, f"{name}人民政府", UnitKind.COUNTY, "city", f"{code}发", f"{name}政府")
        unit(f"{key}_office", f"{name}人民政府办公室", UnitKind.OFFICE, key, f"{code}办发", f"{name}政府办")
    # Beside its main series (连政办发) the city's office numbers its 函 and its 明传电报 in their own.
    add_series(session, org.units["city_office"], "函", "连政办函", ["letter"])
    add_series(session, org.units["city_office"], "明电", "连政办发明电", telegram=True)

    dept("secretariat_1", "city_office", "秘书一处", "MSYC")
    dept("secretariat_2", "city_office", "秘书二处", "MSEC")
    dept("general", "city_office", "综合处", "ZHC", is_office=True)
    dept("documents", "city_office", "文电处", "WDC")
    dept("finance_office", "finance", "办公室", "BGS", is_office=True)
    dept("finance_budget", "finance", "预算处", "YSC")
    dept("education_office", "education", "办公室", "BGS", is_office=True)
    for key in ("donghai", "guanyun", "guannan"):
        dept(f"{key}_general", f"{key}_office", "综合股", "ZHG", is_office=True)

    person("js.leader", "province_office", [Role.LEADER, Role.SIGNING_LEADER])
    person("lyg.drafter", "city_office", [Role.DRAFTER], "secretariat_1")
    person("lyg.drafter2", "city_office", [Role.DRAFTER], "secretariat_2")
    person("lyg.head", "city_office", [Role.DEPARTMENT_HEAD], "secretariat_1")
    person("lyg.head2", "city_office", [Role.DEPARTMENT_HEAD], "secretariat_2")
    person("lyg.head3", "city_office", [Role.DEPARTMENT_HEAD], "general")
    person("lyg.reviewer", "city_office", [Role.REVIEWER], "general")
    person("lyg.signer", "city_office", [Role.SIGNING_LEADER, Role.LEADER])
    person("lyg.leader", "city_office", [Role.LEADER])
    person("lyg.sealer", "city_office", [Role.SEAL_KEEPER], "documents")
    person("lyg.clerk", "city_office", [Role.CLERK], "documents")
    person("lyg.handler", "city_office", [Role.HANDLER, Role.DRAFTER], "general")
    person("lyg.archivist", "city_office", [Role.ARCHIVIST], "documents")
    person("cz.drafter", "finance", [Role.DRAFTER], "finance_budget")
    person("cz.head", "finance", [Role.DEPARTMENT_HEAD], "finance_budget")
    person("cz.signer", "finance", [Role.SIGNING_LEADER, Role.LEADER])
    person("cz.clerk", "finance", [Role.CLERK, Role.SEAL_KEEPER], "finance_office")
    person("cz.office", "finance", [Role.DEPARTMENT_HEAD], "finance_office")
    person("cz.handler", "finance", [Role.HANDLER, Role.ARCHIVIST], "finance_office")
    person("jy.clerk", "education", [Role.CLERK, Role.HANDLER, Role.ARCHIVIST], "education_office")
    person("jy.head", "education", [Role.DEPARTMENT_HEAD], "education_office")
    person("jy.leader", "education", [Role.LEADER, Role.SIGNING_LEADER])
    for key, prefix in (("donghai", "dh"), ("guanyun", "gy"), ("guannan", "gn")):
        office = f"{key}_office"
        person(f"{prefix}.clerk", office, [Role.CLERK], f"{key}_general")
        person(f"{prefix}.leader", office, [Role.LEADER, Role.SIGNING_LEADER])
        person(f"{prefix}.handler", office, [Role.HANDLER, Role.ARCHIVIST, Role.DRAFTER], f"{key}_general")
        person(f"{prefix}.drafter", office, [Role.DRAFTER, Role.SEAL_KEEPER], f"{key}_general")
        person(f"{prefix}.head", office, [Role.DEPARTMENT_HEAD, Role.REVIEWER], f"{key}_general")
    person("sysadmin", None, [Role.SYSTEM_ADMIN])
    person("secadmin", None, [Role.SECURITY_OFFICER])
    person("auditor", None, [Role.AUDITOR])
    for unit_key, login in (("city_office", "lyg.signer"), ("finance", "cz.signer"), ("education", "jy.leader"),
                            ("donghai_office", "dh.leader"), ("guanyun_office", "gy.leader"),
                            ("guannan_office", "gn.leader")):
        org.units[unit_key].principal_id = org.people[login].id
    for number, unit in enumerate(org.units.values(), start=101):
        unit.fonds_code = f"Z{number}"
    session.flush()
    _give_job_titles(org)
    _keep_registers(session, org)
    # Last, so that everyone above keeps the name and mobile number the demo has always given them; and after
    # the registers, which were kept before the city had a 督查员 (nobody is told of their first entries).
    person("lyg.supervisor", "city_office", [Role.SUPERVISOR, Role.DRAFTER], "general")  # drafts the 通报
    session.flush()
    return org


def _give_job_titles(org: DemoOrg) -> None:
    """Each person's 职务 from their place, as the duty-contact registers name it: the principal heads the unit
    (主任, 局长), other leaders are deputies, a department head heads the 处 / 股 / 办公室, a reviewer is a deputy
    head of one, everyone else a 科员; the administrators have none (they take no part in documents)."""
    for person in org.people.values():
        roles = {grant.role for grant in person.grants}
        if person.unit is None or roles <= {Role.SYSTEM_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR}:
            continue
        head, deputy = _TITLES.get(person.unit.kind, ("负责人", "分管负责人"))
        department = person.department.name if person.department else ""
        chief = "主任" if department == "办公室" else department[-1:] + "长"  # 处长, 股长, 办公室主任
        if person.id == person.unit.principal_id:
            person.job_title = head
        elif roles & {Role.LEADER, Role.SIGNING_LEADER}:
            person.job_title = deputy
        elif Role.DEPARTMENT_HEAD in roles and department:
            person.job_title = department + chief
        elif Role.REVIEWER in roles and department:
            person.job_title = department + "副" + chief
        else:
            person.job_title = "科员"


def _keep_registers(session: Session, org: DemoOrg) -> None:
    """Each unit with people gets its duty-contact register: a leader as 分管领导 (one who is not the
    principal when the unit has one), the principal as 主要负责人, its clerks as 收发文人员."""
    for unit in org.units.values():
        people = [p for p in org.people.values() if p.unit_id == unit.id]
        if not people:
            continue
        principal = next((p for p in people if p.id == unit.principal_id), None)
        leaders = [p for p in people if any(g.role == Role.LEADER for g in p.grants)]
        in_charge = next((p for p in leaders if p is not principal), principal)
        head_title, deputy_title = _TITLES.get(unit.kind, ("负责人", "分管负责人"))
        entries = [(Duty.LEADER_IN_CHARGE, in_charge, head_title if in_charge is principal else deputy_title),
                   (Duty.PRINCIPAL, principal, head_title)]
        entries += [(Duty.CLERK, p, "文书") for p in people if any(g.role == Role.CLERK for g in p.grants)]
        for duty, person, title in entries:
            if person is not None:
                appoint(session, unit.id, duty, name=person.name, title=title, mobile=person.mobile,
                        since=REGISTER_SINCE, reason="初始登记", person_id=person.id, actor_id=None)


def issue_seals(session: Session, settings: Settings, org: DemoOrg, unit_keys: list[str] | None = None) -> None:
    """Give the demo's issuing units their electronic seals (all of them by default)."""
    for key in unit_keys or [k for k, u in org.units.items() if u.issuer_code]:
        issue_seal(session, settings, org.units[key])


def issue_personal_certificates(session: Session, settings: Settings, org: DemoOrg) -> None:
    """Give every demo leader who signs off (签发) or instructs (批示) a personal signing certificate."""
    for person in org.people.values():
        if any(g.role in (Role.SIGNING_LEADER, Role.LEADER) for g in person.grants):
            personal.issue(session, settings, person)
