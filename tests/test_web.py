"""The small web app for human tasks: log in, see the inbox, fill in a form; CSRF and unit checks hold."""

import re
from datetime import timedelta

import pytest

from web import create_app
from web.demo import DEMO_PASSWORD

pytestmark = pytest.mark.usefixtures("deployed")


@pytest.fixture
def app(gongwen):
    app = create_app(gongwen)
    app.config["TESTING"] = True
    return app


def _token(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _login(app, login):
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD, "csrf_token": _token(client)})
    assert response.status_code == 302
    return client


def test_login_refuses_a_wrong_password_in_chinese(app, org):
    client = app.test_client()
    response = client.post("/login", data={"login": "lyg.clerk", "password": "nope", "csrf_token": _token(client)})
    assert response.status_code == 401 and "登录名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_form_post_without_the_csrf_token_is_refused(app, org):
    client = _login(app, "lyg.drafter")
    assert client.post("/leave/new").status_code == 400
    assert "申请请假" in client.get("/").get_data(as_text=True)


def test_a_leave_application_from_the_browser_reaches_the_head(app, org):
    drafter = _login(app, "lyg.drafter")
    form_page = drafter.post("/leave/new", data={"csrf_token": _token(drafter, "/")})
    task_url = form_page.headers["Location"]
    page = drafter.get(task_url).get_data(as_text=True)
    assert "<title>填写请假单 · 公文系统</title>" in page

    token = _token(drafter, task_url)
    bad = drafter.post(task_url, data={"csrf_token": token, "kind": "annual", "start_date": "2026-11-30",
                                       "end_date": "2026-11-24", "reason": "探亲"})
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.get_data(as_text=True)
    good = drafter.post(task_url, data={"csrf_token": token, "kind": "annual", "start_date": "2026-11-24",
                                        "end_date": "2026-11-25", "reason": "探亲"})
    assert good.status_code == 302

    inbox = _login(app, "lyg.head").get("/").get_data(as_text=True)
    assert "部门负责人审批" in inbox
    assert drafter.get(task_url).status_code == 404  # done: no longer a task of anyone's


def test_a_task_of_another_unit_does_not_exist_for_you(app, org):
    drafter = _login(app, "lyg.drafter")
    task_url = drafter.post("/leave/new", data={"csrf_token": _token(drafter, "/")}).headers["Location"]
    for outsider in ("dh.clerk", "cz.drafter", "sysadmin"):
        assert _login(app, outsider).get(task_url).status_code == 404


def test_an_idle_session_expires(app, org, fixed_clock):
    client = _login(app, "lyg.clerk")
    assert client.get("/").status_code == 200
    fixed_clock.advance(timedelta(minutes=31))
    assert client.get("/").status_code == 302
