"""Sessions and tokens end when they should, and the login page never sends anyone elsewhere."""

import pytest

from engine import organisation
from engine.models import Person
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")


def _copy(app, client):
    """A second client holding the same session cookie, as a stolen or forgotten browser would."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    other.set_cookie(cookie.key, cookie.value)
    return other


def _api_token(app, login: str) -> dict:
    token = app.test_client().post("/api/v1/auth/token", json={"login": login, "password": "gongwen-demo"})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


def _reaches_inbox(client) -> bool:
    return client.get("/").status_code == 200


def test_logout_ends_every_session_and_token_of_the_person(app, org):
    browser = logged_in(app, "lyg.clerk")
    elsewhere, copied = logged_in(app, "lyg.clerk"), _copy(app, browser)
    token = _api_token(app, "lyg.clerk")
    assert _reaches_inbox(copied) and app.test_client().get("/api/v1/tasks", headers=token).status_code == 200

    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/")})
    assert not _reaches_inbox(browser) and not _reaches_inbox(copied) and not _reaches_inbox(elsewhere)
    assert app.test_client().get("/api/v1/tasks", headers=token).status_code == 401
    assert _reaches_inbox(logged_in(app, "lyg.clerk"))  # logging in again works


def test_a_password_change_keeps_this_session_and_ends_the_others(app, org):
    browser, elsewhere = logged_in(app, "lyg.clerk"), logged_in(app, "lyg.clerk")
    token = _api_token(app, "lyg.clerk")
    browser.post("/password", data={"csrf_token": csrf_token(browser, "/password"), "current": "gongwen-demo",
                                    "new": "a-new-long-passphrase-2026", "repeat": "a-new-long-passphrase-2026"})
    assert _reaches_inbox(browser) and not _reaches_inbox(elsewhere)
    assert app.test_client().get("/api/v1/tasks", headers=token).status_code == 401


@pytest.mark.parametrize("action", ["freeze", "reset"])
def test_freezing_or_resetting_an_account_ends_its_sessions(app, gongwen, org, action):
    browser = logged_in(app, "lyg.clerk")
    token = _api_token(app, "lyg.clerk")
    with gongwen.db.write() as db:
        person = db.get(Person, org.person("lyg.clerk").id)
        if action == "freeze":
            organisation.set_frozen(db, person, True)
        else:
            organisation.set_password(db, person, "an-administrators-reset-2026")
    assert not _reaches_inbox(browser)
    assert app.test_client().get("/api/v1/tasks", headers=token).status_code == 401


@pytest.mark.parametrize("raw", [  # as they stand in the URL the attacker sends
    "//evil.example", "/%5Cevil.example", "/%09/evil.example", "https://evil.example", "%5C%5Cevil.example",
    "/%0D%0ALocation:%20https://evil.example", "/%2F%2Fevil.example", "javascript:alert(1)", "/%00",
])
def test_after_login_the_next_page_is_always_on_this_site(app, org, raw):
    client = app.test_client()
    response = client.post(f"/login?next={raw}",
                           data={"login": "lyg.clerk", "password": "gongwen-demo", "csrf_token": csrf_token(client)})
    if raw == "/%00":
        assert response.status_code == 400  # a NUL is refused before anything else
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/", response.headers["Location"]


def test_after_login_a_page_on_this_site_is_reached(app, org):
    client = app.test_client()
    response = client.post("/login", query_string={"next": "/password"},
                           data={"login": "lyg.clerk", "password": "gongwen-demo", "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/password"
