"""The demo organisation: a city government office, its departments, three counties.

Used by ``gongwen demo`` and by the tests, so the people a newcomer logs in as are
the same people the tests drive documents through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from engine.config import Settings
from engine.models import Department, Person, Role, Unit, UnitKind
from engine.organisation import create_department, create_person, create_unit, grant_role
from handlers.seals import personal
from handlers.seals.register import issue_seal

DEMO_PASSWORD = "gongwen-demo"

BUSINESS_ROLES = (Role.DRAFTER, Role.DEPARTMENT_HEAD, Role.REVIEWER, Role.SIGNING_LEADER, Role.SEAL_KEEPER,
                  Role.CLERK, Role.HANDLER, Role.LEADER, Role.ARCHIVIST)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏斌宇浩凯"


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
    names = iter(s + g for g in _GIVEN for s in _SURNAMES)

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
    return org


def issue_seals(session: Session, settings: Settings, org: DemoOrg, unit_keys: list[str] | None = None) -> None:
    """Give the demo's issuing units their electronic seals (all of them by default)."""
    for key in unit_keys or [k for k, u in org.units.items() if u.issuer_code]:
        issue_seal(session, settings, org.units[key])


def issue_personal_certificates(session: Session, settings: Settings, org: DemoOrg) -> None:
    """Give every demo leader who signs off (签发) or instructs (批示) a personal signing certificate."""
    for person in org.people.values():
        if any(g.role in (Role.SIGNING_LEADER, Role.LEADER) for g in person.grants):
            personal.issue(session, settings, person)
