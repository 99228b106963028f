"""People, accounts and roles: 三员分立, argon2 passwords, lockout, frozen accounts."""

from datetime import timedelta

import pytest

from engine import organisation
from engine.errors import Forbidden
from engine.models import Role
from web.demo import DEMO_PASSWORD


@pytest.mark.parametrize("first, second", [
    (Role.SYSTEM_ADMIN, Role.AUDITOR), (Role.SYSTEM_ADMIN, Role.SECURITY_OFFICER),
    (Role.SECURITY_OFFICER, Role.AUDITOR),
])
def test_no_one_holds_two_administrator_roles(gongwen, org, first, second):
    with gongwen.db.write() as s:
        person = organisation.create_person(s, f"admin.{first}", "赵管理", "long-enough-pw")
        organisation.grant_role(s, person, first)
    with pytest.raises(Forbidden, match="三员分立"), gongwen.db.write() as s:
        organisation.grant_role(s, organisation.find_person(s, f"admin.{first}"), second)
    with gongwen.db.session() as s:
        assert {g.role for g in organisation.find_person(s, f"admin.{first}").grants} == {first}


def test_administrators_do_no_business_and_business_people_no_administration(gongwen, org):
    with pytest.raises(Forbidden, match="不能担任业务角色"), gongwen.db.write() as s:
        organisation.grant_role(s, organisation.find_person(s, "auditor"), Role.CLERK,
                                unit=s.get(type(org.unit("city")), org.unit("city").id))
    with pytest.raises(Forbidden, match="三员分立"), gongwen.db.write() as s:
        organisation.grant_role(s, organisation.find_person(s, "lyg.clerk"), Role.AUDITOR)


def test_passwords_are_stored_as_argon2_hashes(gongwen, org):
    with gongwen.db.session() as s:
        stored = organisation.find_person(s, "lyg.clerk").password_hash
    assert stored.startswith("$argon2id$") and DEMO_PASSWORD not in stored


def test_five_failures_lock_the_account_for_fifteen_minutes(gongwen, org, fixed_clock):
    for _ in range(5):
        assert _login(gongwen, "lyg.clerk", "wrong-password") == "登录名或密码错误"
    assert "锁定" in _login(gongwen, "lyg.clerk", DEMO_PASSWORD)
    fixed_clock.advance(timedelta(minutes=14))
    assert "锁定" in _login(gongwen, "lyg.clerk", DEMO_PASSWORD)
    fixed_clock.advance(timedelta(minutes=2))
    assert _login(gongwen, "lyg.clerk", DEMO_PASSWORD) == ""


def test_a_frozen_account_cannot_log_in_until_unfrozen(gongwen, org):
    with gongwen.db.write() as s:
        organisation.set_frozen(s, organisation.find_person(s, "dh.clerk"), True)
    assert "冻结" in _login(gongwen, "dh.clerk", DEMO_PASSWORD)
    with gongwen.db.write() as s:
        organisation.set_frozen(s, organisation.find_person(s, "dh.clerk"), False)
    assert _login(gongwen, "dh.clerk", DEMO_PASSWORD) == ""


def test_a_wrong_password_gets_one_answer_whether_the_account_exists_is_locked_or_frozen(gongwen, org):
    with gongwen.db.write() as s:
        organisation.set_frozen(s, organisation.find_person(s, "dh.clerk"), True)
    for _ in range(5):
        _login(gongwen, "gy.clerk", "wrong-password")  # now locked
    answers = {login: _login(gongwen, login, "wrong-password") for login in ("nobody.here", "dh.clerk", "gy.clerk")}
    assert set(answers.values()) == {"登录名或密码错误"}, answers
    assert "冻结" in _login(gongwen, "dh.clerk", DEMO_PASSWORD) and "锁定" in _login(gongwen, "gy.clerk", DEMO_PASSWORD)


@pytest.mark.parametrize("password, allowed", [
    ("12345678", False), ("password", False), ("Admin@123", False), ("short1A", False), ("alllowercase", False),
    ("lyg.newcomer-2026", False),  # contains the login
    ("Gongwen-26", True), ("a-long-passphrase", True), ("公文系统安全口令2026", True),
])
def test_the_password_policy(gongwen, org, password, allowed):
    from engine.errors import GongwenError

    def create():
        with gongwen.db.write() as s:
            organisation.create_person(s, "lyg.newcomer", "新同志", password)

    if allowed:
        create()
    else:
        with pytest.raises(GongwenError, match="密码"):
            create()


def _login(gongwen, login: str, password: str) -> str:
    with gongwen.db.write() as s:
        return organisation.authenticate(s, login, password).refusal
