"""Arrivals pushed to open pages: ``/events`` on a real loopback port, and a page left open in Chromium.

The server is the ASGI app of web/asgi.py under uvicorn (in a thread, with its own Gongwen as a
web process has); what it must learn of is committed by the test's own Gongwen on the same
database, as another process (a Celery worker, another web worker) would. The browser test runs
the real ``gongwen serve``.
"""

from __future__ import annotations

import hashlib
import http.client
import http.cookiejar
import json
import logging
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from engine import clock, inbox, organisation
from engine.config import Settings
from engine.core import Gongwen
from engine.models import Person, ProcessInstance, Task, TaskState, Unit
from handlers.documents.drafting import start_outgoing
from handlers.documents.models import Document
from handlers.notifications.tell import tell
from tests.outgoing_support import NOTICE, send, task_of
from tests.support import require
from web import push
from web.asgi import App, Server
from web.demo_documents import seed_documents

PASSWORD = "gongwen-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(settings, sealed, deployed):
    """The ASGI app on a loopback port, with a Gongwen of its own: the test's ``gongwen`` is another process."""
    served = Gongwen(settings)
    app = App(served)
    server = Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), access_log=False, lifespan="on",
                                   log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield app, f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(15)
    served.close()


def log_in(base: str, login: str) -> str:
    """Log in through the login form, as a browser does; returns the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "login": login, "password": PASSWORD}).encode()
    assert opener.open(base + "/login", data=form, timeout=30).geturl() == base + "/"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class Stream:
    """One ``/events`` stream, read by a thread of its own into a queue of (event, data)."""

    def __init__(self, base: str, cookie: str | None = None):
        host, port = urllib.parse.urlsplit(base).netloc.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.connection.request("GET", "/events", headers={"Accept": "text/event-stream",
                                                           **({"Cookie": cookie} if cookie else {})})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: queue.Queue = queue.Queue()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "message", []
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    self.events.put((name, json.loads("\n".join(data))))
                    name, data = "message", []
        except (OSError, ValueError, AttributeError):
            pass  # closed by close() while reading: http.client has no cleaner way to stop a blocked read
        self.events.put(("eof", None))

    def next(self, timeout: float = 20) -> tuple[str, dict | None]:
        """The next event; the wait is a bound on how late it may be, not a pause."""
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def counts_of(gongwen: Gongwen, person: Person) -> dict:
    with gongwen.db.session() as session:
        from handlers.notifications.models import Notification

        unread = len(session.scalars(select(Notification.id).where(Notification.person_id == person.id,
                                                                   Notification.read_at.is_(None))).all())
        return {"tasks": inbox.task_count(session, person.id), "unread": unread}


def test_events_need_a_session(live):
    _, base = live
    anonymous = Stream(base)
    assert anonymous.status == 401
    assert anonymous.response.read().decode() == "未登录或登录已失效，请重新登录"
    forged = Stream(base, "session=eyJwZXJzb25faWQiOjF9.forged.signature")
    assert forged.status == 401
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", "/events")
    assert connection.getresponse().status == 405
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/events?since=%00")  # refused by the Flask app's own checks, not a 500
    assert connection.getresponse().status == 400


def test_the_access_log_names_the_path_without_the_search_words(live, caplog):
    _, base = live
    caplog.set_level(logging.INFO, logger="gongwen.access")
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", log_in(base, "dh.clerk"))]
    opener.open(base + "/?view=done&q=" + urllib.parse.quote("干部任免"), timeout=30).read()
    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "gongwen.access"]

    for _ in range(100):  # the line is written as the answer ends, on the server's thread
        if any('"GET /" 200' in line for line in lines()):
            break
        time.sleep(0.05)
    assert any('"GET /" 200' in line for line in lines()), lines()
    assert not any("干部任免" in line or "q=" in line or "%E5" in line for line in lines())


def test_a_dispatch_from_another_process_reaches_the_recipient_clerks_open_page_only(gongwen, sealed, live):
    app, base = live
    org = sealed
    clerk, outsider = org.person("dh.clerk"), org.person("cz.clerk")
    watching = Stream(base, log_in(base, "dh.clerk"))
    unrelated = Stream(base, log_in(base, "cz.clerk"))
    first = counts_of(gongwen, clerk)
    assert watching.next() == ("inbox", first)
    before = unrelated.next()
    assert before == ("inbox", counts_of(gongwen, outsider))
    counted_before = app.hub.counted[outsider.id]

    sent = send(gongwen, org, main_to=("donghai_office",))  # committed by this process's Gongwen
    assert watching.next() == ("inbox", {**first, "tasks": first["tasks"] + 1}) == ("inbox", counts_of(gongwen, clerk))
    with gongwen.db.session() as session:
        arrived = session.scalars(select(Task.name).join(ProcessInstance, ProcessInstance.id == Task.instance_id)
                                  .where(Task.candidate_unit_id == org.unit("donghai_office").id,
                                         Task.state == TaskState.READY, ProcessInstance.title == NOTICE["title"])).all()
    assert arrived == ["签收"]

    # The outsider's stream was not even counted again for it; the next thing it hears is its own notice.
    assert app.hub.counted[outsider.id] == counted_before
    with gongwen.db.write() as session:
        tell(session, [outsider.id], "请核对本月经费", kind="reminder", key="push-test")
    assert unrelated.next() == ("inbox", {**before[1], "unread": before[1]["unread"] + 1})

    # Pages and files still pass through the WSGI adapter whole.
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", log_in(base, "dh.clerk"))]
    pdf = opener.open(f"{base}/documents/{sent.id}/pdf", timeout=30).read()
    assert pdf == gongwen.files.get(sent.sealed_sha256) and pdf.startswith(b"%PDF")
    watching.close()
    unrelated.close()


def test_uploads_and_downloads_pass_whole_through_the_wsgi_adapter(gongwen, sealed, live):
    _, base = live
    drafter = sealed.person("lyg.drafter")
    with gongwen.db.write() as session:
        draft = start_outgoing(gongwen.runtime, session, session.get(Person, drafter.id))
    task_url = f"/tasks/{task_of(gongwen, drafter, '拟稿').id}"
    cookie = log_in(base, "lyg.drafter")
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", cookie)]
    token = re.search(r'name="csrf_token" value="([^"]+)"', opener.open(base + "/", timeout=30).read().decode())[1]
    content = b"%PDF-1.7\n" + os.urandom(12 * 1024 * 1024)  # many ASGI body messages, in a pool thread
    boundary = "gongwen-push-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachment_file\"; filename=\"scan.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base}{task_url}/attachments", data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": base + "/"})
    assert opener.open(request, timeout=60).status == 200
    with gongwen.db.session() as session:
        (sha256,) = [a.sha256 for a in session.get(Document, draft.id).attachments]
    assert sha256 == hashlib.sha256(content).hexdigest()

    # Over the attachment limit (50 MB and the form's allowance): refused before the body is read.
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", f"{task_url}/attachments")
    for name, value in (("Cookie", cookie), ("Content-Length", str(60 * 1024 * 1024)),
                        ("Content-Type", f"multipart/form-data; boundary={boundary}")):
        connection.putheader(name, value)
    connection.endheaders(body[:65536])
    refused = connection.getresponse()
    assert refused.status == 413 and "文件太大" in refused.read().decode()


@pytest.mark.uncertified  # the demo's stories issue the certificates
def test_counts_for_many_people_at_once_are_the_inbox_counts_of_each(gongwen, org, deployed):
    seed_documents(gongwen, org)  # tasks offered by name, to pools, overdue ...
    drafter = org.person("lyg.drafter2")
    with gongwen.db.write() as session:
        draft = start_outgoing(gongwen.runtime, session, session.get(Person, drafter.id))
    with gongwen.db.session() as session:
        first = session.scalar(select(Task.id).where(Task.instance_id == draft.instance_id))
    # ... and 部门审核, offered to the heads of the drafter's own department only
    gongwen.runtime.complete(first, drafter.id, {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    with gongwen.db.write() as session:
        pooled = session.scalars(select(Task).where(Task.state == TaskState.READY, Task.assignee_id.is_(None),
                                                    Task.candidate_person_id.is_(None))).all()
        clerk_task = next(t for t in pooled if t.candidate_unit_id == org.unit("donghai_office").id)
        inbox.claim(session, clerk_task.id, org.person("dh.clerk").id)  # taken out of the pool
        shapes = {(t.candidate_department_id is not None) for t in pooled}
    assert shapes == {True, False}  # pools of a whole unit and of one department both present
    with gongwen.db.session() as session:
        everyone = session.scalars(select(Person.id)).all()
        expected = {p: inbox.task_count(session, p) for p in everyone}
        assert push.task_counts(session, everyone) == expected
        assert push.task_counts(session, everyone[:3]) == {p: expected[p] for p in everyone[:3]}
    assert sum(expected.values()) > 5 and expected[org.person("dh.clerk").id] >= 1


def test_a_stream_ends_when_its_session_ends_and_cannot_be_reopened(gongwen, sealed, live):
    _, base = live
    org = sealed
    for login, end in (("dh.clerk", organisation.end_sessions),
                       ("cz.clerk", lambda session, person: organisation.set_frozen(session, person, True))):
        cookie = log_in(base, login)
        stream = Stream(base, cookie)
        assert stream.next()[0] == "inbox"
        with gongwen.db.write() as session:
            end(session, session.get(Person, org.person(login).id))
        assert stream.next() == ("ended", {"reason": "session", "text": "登录已失效，请重新登录"})
        assert stream.next() == ("eof", None)
        assert Stream(base, cookie).status == 401


def test_a_sixth_page_of_one_person_ends_the_oldest_stream(sealed, live):
    _, base = live
    cookie = log_in(base, "dh.clerk")
    streams = [Stream(base, cookie) for _ in range(5)]
    for stream in streams:
        assert stream.next()[0] == "inbox"
    sixth = Stream(base, cookie)
    assert sixth.next()[0] == "inbox"
    assert streams[0].next() == ("ended", {"reason": "elsewhere", "text": "打开的页面过多，本页不再自动更新"})
    for stream in [*streams[1:], sixth]:
        assert stream.events.empty()
        stream.close()


# -- in a browser -------------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The real ``gongwen serve`` on the demo, and the environment to reach its database."""
    require(Path(CHROMIUM).exists(), "Debian's Chromium")
    home = tmp_path_factory.mktemp("push-browser")
    env = {**os.environ, "GONGWEN_DATABASE_URL": f"sqlite:///{home / 'gongwen.db'}",
           "GONGWEN_FILES_DIR": str(home / "files"), "GONGWEN_SECRET_KEY": "push-browser-test",
           "GONGWEN_NOW": "2026-11-23T09:00:00+08:00"}
    gongwen = str(Path(sys.executable).parent / "gongwen")
    subprocess.run([gongwen, "demo"], env=env, check=True, capture_output=True, timeout=180)
    port = _free_port()
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen([gongwen, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield base, env, home
    process.terminate()
    process.wait(15)
    log.close()


def _dispatch_to_donghai(env: dict, title: str) -> None:
    """The city office sends a notice to Donghai, step by step, from this process (not the server's)."""
    previous = clock.get_clock()
    gongwen = Gongwen(Settings.from_env(env))
    try:
        with gongwen.db.session() as session:
            people = {p.login: p.id for p in session.scalars(select(Person))}
            donghai = session.scalar(select(Unit.id).where(Unit.name == "东海县人民政府办公室"))
        with gongwen.db.write() as session:
            document = start_outgoing(gongwen.runtime, session, session.get(Person, people["lyg.drafter"]))
            instance_id = document.instance_id
        steps = [("拟稿", "lyg.drafter", {**NOTICE, "title": title, "main_to": [donghai]}),
                 ("部门审核", "lyg.head", {"decision": "approve"}),
                 ("办公室核稿", "lyg.reviewer", {"decision": "approve"}),
                 ("签发", "lyg.signer", {"decision": "approve"}), ("校对", "lyg.drafter", {"decision": "ok"}),
                 ("用印", "lyg.sealer", {"confirm": True})]
        for name, login, data in steps:
            with gongwen.db.session() as session:
                task_id = session.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.name == name,
                                                               Task.state == TaskState.READY))
            gongwen.runtime.complete(task_id, people[login], data)
        with gongwen.db.session() as session:
            assert session.scalar(select(Document.status).where(Document.instance_id == instance_id)) == "dispatched"
    finally:
        gongwen.close()
        clock.set_clock(previous)


def _tell_donghai_clerk(env: dict) -> None:
    previous = clock.get_clock()
    gongwen = Gongwen(Settings.from_env(env))
    try:
        with gongwen.db.write() as session:
            clerk = session.scalar(select(Person.id).where(Person.login == "dh.clerk"))
            tell(session, [clerk], "请于今日下班前签收来文", kind="reminder", key="push-browser-test")
    finally:
        gongwen.close()
        clock.set_clock(previous)


def _catching(failed: list, fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as err:
        failed.append(err)


def test_an_open_inbox_sees_an_arrival_without_reloading_or_polling(served):
    from playwright.sync_api import expect, sync_playwright

    base, env, home = served
    title = "连云港市人民政府办公室关于开展冬季消防检查的通知"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
        page.goto(base + "/login")
        page.get_by_label("登录名").fill("dh.clerk")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(base + "/")
        page.wait_for_load_state("networkidle")
        waiting = int(page.locator("#todo-count").inner_text())
        requests: list[str] = []
        page.on("request", lambda request: requests.append(urllib.parse.urlsplit(request.url).path))
        loads: list[str] = []
        page.on("load", lambda loaded: loads.append(loaded.url))

        # In a thread of its own: Playwright's loop runs in this one, and sealing runs an asyncio loop of its own.
        failed: list[BaseException] = []
        sender = threading.Thread(target=lambda: _catching(failed, _dispatch_to_donghai, env, title))
        sender.start()
        sender.join(180)
        assert not failed, failed
        row = page.locator("#rows tr", has_text=title).filter(has_text="签收")
        row.wait_for(timeout=20_000)
        assert page.locator("#arrival").inner_text() == "有 1 件新的待办"
        assert page.locator("#todo-count").inner_text() == str(waiting + 1)
        assert page.title() == f"（{waiting + 1}）待办 · 公文系统"
        # A notice told from another process: the navigation's unread badge follows, no request made.
        badge = page.locator("#unread-count")
        unread = int(badge.inner_text())
        told = threading.Thread(target=lambda: _catching(failed, _tell_donghai_clerk, env))
        told.start()
        told.join(60)
        assert not failed, failed
        expect(badge).to_have_text(str(unread + 1), timeout=20_000)  # the page's CSP allows no eval
        assert badge.is_visible()
        shot = home / "push-arrival.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    # The page was not reloaded and asked the server for nothing but the new rows: no polling.
    assert loads == [] and requests == ["/"], requests
    print(f"screenshot: {shot}")
