"""No request, however hostile, gets a 500: every route as every kind of user with bad ids and values."""

import itertools

import pytest

from tests.support import csrf_token, logged_in
from web import create_app

pytestmark = pytest.mark.usefixtures("deployed")

HOSTILE_IDS = ["2147483648", "9223372036854775808", "18446744073709551616" * 2, "0"]
HOSTILE_VALUES = ["", "²", "abc", "-1", "nan", "inf", "1e308", "9999-12-31", "0000-00-00", "9" * 40,
                  "\x00", "\u202e", "x" * 5000, "/\t/evil.example", "'; DROP TABLE person; --"]
FIELDS = ["unit_id", "department_id", "parent_id", "to_person_id", "members", "year", "next_seq", "amount",
          "urgency", "measure", "day", "kind", "note", "name", "login", "password", "role", "reason", "code",
          "decision", "opinion", "title", "body", "main_to", "readers", "leader", "page", "q", "since", "until",
          "view", "unit", "before", "instance", "action", "check", "next", "frozen", "current", "new", "repeat"]
NO_TASK = "00000000-0000-0000-0000-0000000000ff"
USERS = [None, "lyg.drafter", "lyg.clerk", "sysadmin", "secadmin", "auditor"]


@pytest.fixture
def app(gongwen):
    app = create_app(gongwen)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)  # CSRF has its own tests; here the values matter
    return app


def _paths(app, value: str) -> list[tuple[str, set[str]]]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "filename" in rule.arguments:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", value).replace(f"<uuid:{name}>", NO_TASK)
            path = path.replace(f"<{name}>", value)
            path = path.replace(f"<any(claim, unclaim, delegate):{name}>", "claim")
        paths.append((path, set(rule.methods) - {"HEAD", "OPTIONS"}))
    return paths


@pytest.mark.parametrize("user", USERS)
def test_no_route_answers_500_to_hostile_ids_and_values(app, org, user):
    client = logged_in(app, user) if user else app.test_client()
    failures = []
    for value, (path, methods) in itertools.product(HOSTILE_IDS, _paths(app, HOSTILE_IDS[0])):
        path = path.replace(HOSTILE_IDS[0], value)
        for method in methods:
            response = client.open(path, method=method, data={f: "1" for f in FIELDS})
            if response.status_code >= 500:
                failures.append((method, path, response.status_code))
    for value, (path, methods) in itertools.product(HOSTILE_VALUES, _paths(app, "1")):
        for method in methods:
            if method == "GET":
                response = client.get(path, query_string={f: value for f in FIELDS})
            else:
                response = client.open(path, method=method, data={f: value for f in FIELDS})
            if response.status_code >= 500:
                failures.append((method, path, repr(value)[:30], response.status_code))
    assert failures == []


# Plausible values for every field, so that one hostile field at a time reaches the code behind it.
PLAUSIBLE = {"unit_id": "{unit}", "department_id": "", "parent_id": "", "to_person_id": "{person}", "members": "{unit}",
             "year": "2026", "next_seq": "200", "amount": "2", "urgency": "normal", "measure": "working_days",
             "day": "2026-12-07", "kind": "county", "note": "说明", "name": "测试名称", "login": "lyg.tester",
             "password": "Gongwen-2026", "role": "clerk", "reason": "lost", "code": "测政发", "decision": "approve",
             "opinion": "同意", "title": "标题", "body": "正文", "q": "通知", "view": "todo", "frozen": "1",
             "current": "gongwen-demo", "new": "Gongwen-2027", "repeat": "Gongwen-2027", "short_name": "简称",
             "issuer_code": "测", "is_office": "1"}
WORST = ["x" * 5000, "\u202e", "nan", "9" * 40, "²"]


@pytest.mark.parametrize("user", ["sysadmin", "secadmin", "lyg.drafter"])
def test_one_hostile_field_among_plausible_ones_is_refused_cleanly(app, gongwen, org, user):
    client = logged_in(app, user)
    plausible = {k: v.format(unit=org.unit("donghai_office").id, person=org.person("lyg.clerk").id)
                 for k, v in PLAUSIBLE.items()}
    failures = []
    for path, methods in _paths(app, "1"):
        if "POST" not in methods or path in ("/logout", "/password"):
            continue
        if client.post(path, data=plausible).status_code in (401, 403, 404, 405):
            continue  # not this person's page: the first test covers refusals
        for field, value in itertools.product(PLAUSIBLE, WORST):
            response = client.post(path, data={**plausible, field: value})
            if response.status_code >= 500:
                failures.append((path, field, repr(value)[:20], response.status_code))
    assert failures == []


def test_malformed_json_to_the_api_is_a_400_not_an_empty_form(app, org):
    client = app.test_client()
    refused = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert refused.status_code == 400


def test_the_csrf_check_still_guards_every_form(gongwen, org):
    app = create_app(gongwen)
    client = logged_in(app, "lyg.drafter")
    assert csrf_token(client, "/")
    assert client.post("/documents/new").status_code == 400
