"""What the browser tests share: one real ``gongwen serve`` on a demo office, one Chromium, a person.

The server is session-wide: seeding the demo (seals, five notices through the real processes) is
the costly part, so every browser test module works in the same office, each with documents of
its own title (``Person.row`` finds a test's rows by it); Chromium is started per module. The fixtures are imported by
``tests/conftest.py``, so every test module can take ``server``, ``browser`` and ``server_env``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# GONGWEN_SCREENSHOTS=docs/screenshots refreshes the README's pictures.
SHOTS = Path(os.environ.get("GONGWEN_SCREENSHOTS") or Path(tempfile.gettempdir()) / "gongwen-screenshots")
PASSWORD = "gongwen-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_env(tmp_path_factory) -> dict[str, str]:
    """The server's environment: its SQLite database and files, for a test that must reach behind it."""
    home = tmp_path_factory.mktemp("browser")
    return {**os.environ, "GONGWEN_DATABASE_URL": f"sqlite:///{home / 'gongwen.db'}",
            "GONGWEN_FILES_DIR": str(home / "files"), "GONGWEN_SECRET_KEY": "browser-test",
            "GONGWEN_NOW": "2026-11-23T09:00:00+08:00"}


@pytest.fixture(scope="session")
def server(server_env):
    require(Path(CHROMIUM).exists(), "Debian's Chromium")
    env = server_env
    home = Path(env["GONGWEN_FILES_DIR"]).parent
    gongwen = str(Path(sys.executable).parent / "gongwen")
    subprocess.run([gongwen, "demo"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = (home / "serve.log").open("wb")  # a pipe nobody reads would fill up and stall the server
    process = subprocess.Popen([gongwen, "serve", "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            answer = urllib.request.urlopen(base + "/login", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    assert "werkzeug" not in answer.headers.get("Server", "").lower()  # a production server, not the dev one
    yield base
    process.terminate()
    process.wait(10)
    log.close()


# Per module: Playwright's sync API keeps an event loop running in this thread while it is open, and
# the tests that follow (pyhanko's asyncio.run, another module's Playwright) cannot run beside it.
@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


class Person:
    """One person in a browser context of their own."""

    def __init__(self, browser, server: str, login: str, phone: bool = False, title: str = ""):
        options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True} if phone else \
            {"viewport": {"width": 1280, "height": 900}}
        self.context = browser.new_context(locale="zh-CN", **options)
        self.page = self.context.new_page()
        self.server, self.title = server, title
        self.page.goto(server + "/login")
        self.page.get_by_label("登录名").fill(login)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(server + "/")

    def draft(self, body: str, main_to: tuple[str, ...] = ("东海县人民政府办公室",)):
        """Start a 通知 (下行文) titled ``title`` to ``main_to`` with ``body`` and submit its draft."""
        self.page.get_by_role("button", name="起草公文").click()
        self.page.locator("#doc_type").select_option(label="通知")
        self.page.locator("#direction").select_option(label="下行文")
        self.page.locator("#title").fill(self.title)
        self.page.locator("#main_to").select_option(label=list(main_to))
        self.page.locator("#body").fill(body)
        self.submit()

    def row(self, step: str):
        """The inbox row of ``title`` at ``step`` (the demo's and other tests' documents have rows too)."""
        return self.page.locator("#rows tr", has_text=self.title).filter(has_text=step)

    def open_task(self, step: str):
        self.page.goto(self.server + "/")
        self.row(step).get_by_role("link").click()
        self.page.wait_for_selector("h1")

    def decide(self, step: str, decision: str, opinion: str = ""):
        self.open_task(step)
        self.page.locator("#decision").select_option(label=decision)
        if opinion:
            self.page.locator("#opinion").fill(opinion)
        self.submit()

    def submit(self):
        """Submit the task form and wait for the inbox.

        Pressed from the keyboard: while a PDF frame loads, headless Chromium's viewer can take a
        mouse click meant for the page, and the form is then never sent.
        """
        self.page.get_by_role("button", name="提交").press("Enter")
        self.page.wait_for_url(self.server + "/")

    def shot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("networkidle")  # the PDF frame drawn, not a grey box
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()
