"""Helpers for tests: small BPMN documents built in code, deploying them, reading an inbox."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.deploy import deploy

ROOT = Path(__file__).resolve().parent.parent


def bpmn(body: str, process_id: str = "t", lanes: dict[str, list[str]] | None = None, definitions: str = "") -> bytes:
    """A minimal BPMN document around ``body`` (the inside of one process)."""
    lane_xml = ""
    if lanes:
        lane_xml = "<bpmn:laneSet id='ls'>" + "".join(
            f"<bpmn:lane id='lane_{i}' name='{name}'>"
            + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs) + "</bpmn:lane>"
            for i, (name, refs) in enumerate(lanes.items())
        ) + "</bpmn:laneSet>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d_{process_id}" targetNamespace="urn:t">
  {definitions}<bpmn:process id="{process_id}" isExecutable="true">{lane_xml}{body}</bpmn:process>
</bpmn:definitions>""".encode()


def user_task(task_id: str, name: str, form_key: str = "leave_decision", extra: str = "") -> str:
    return (f"<bpmn:userTask id='{task_id}' name='{name}'><bpmn:extensionElements><spiffworkflow:properties>"
            f"<spiffworkflow:property name='formKey' value='{form_key}'/>{extra}"
            f"</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>")


def service_task(task_id: str, operator: str, params: dict[str, str] | None = None, result: str = "") -> str:
    parameters = "".join(f"<spiffworkflow:parameter id='{k}' type='str' value=\"{v}\"/>"
                         for k, v in (params or {}).items())
    result_attr = f" resultVariable='{result}'" if result else ""
    return (f"<bpmn:serviceTask id='{task_id}'><bpmn:extensionElements>"
            f"<spiffworkflow:serviceTaskOperator id='{operator}'{result_attr}><spiffworkflow:parameters>"
            f"{parameters}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>"
            f"</bpmn:extensionElements></bpmn:serviceTask>")


def flows(*chain: str) -> str:
    """Sequence flows joining ``chain`` in order."""
    return "".join(f"<bpmn:sequenceFlow id='f_{a}_{b}' sourceRef='{a}' targetRef='{b}'/>"
                   for a, b in itertools.pairwise(chain))


def deploy_bytes(gongwen, name: str, content: bytes):
    with gongwen.db.write() as session:
        return deploy(session, [(name, content)])


def ready_for(gongwen, person):
    from engine.inbox import ready_tasks

    with gongwen.db.session() as session:
        return ready_tasks(session, person.id)


@contextlib.contextmanager
def audit_protection_lifted(session):
    """Inside: the audit table may be changed, as only someone with direct database access could.

    PostgreSQL's trigger is enabled again on the way out, in the same transaction: the database
    outlives the test. SQLite's database is the test's own.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
        yield
    else:
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        yield
        session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


def require(available: bool, part: str) -> None:
    """Skip a test of a real part (a server, a program, a browser, npm packages) missing on this machine;
    under ``CI=true`` fail instead, because in CI a skip would hide a part that is not there."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{part} is missing; CI must run the tests that need it")
    pytest.skip(f"{part} is missing here (CI runs these tests)")


def program(name: str) -> str:
    """The path of a program the test runs (poppler's ``pdfsig``, ``pdffonts`` ...), guarded by :func:`require`."""
    path = shutil.which(name)
    require(path is not None, f"the program {name}")
    return path


def pdfsig(pdf: Path, root_pem: bytes | None = None) -> str:
    """What poppler's ``pdfsig`` prints for ``pdf``: with ``root_pem``, from an NSS store (``certutil``)
    that trusts that root, as an office that imported Gongwen's root would see it. pdfsig exits 2 for a
    PDF without signatures, which its output also says: the exit status is not checked."""
    if root_pem is None:
        return subprocess.run([program("pdfsig"), str(pdf)], capture_output=True, text=True).stdout
    store = pdf.parent / f"nss-{pdf.stem}"
    store.mkdir(exist_ok=True)
    (store / "root.pem").write_bytes(root_pem)
    certutil = program("certutil")
    subprocess.run([certutil, "-N", "-d", f"sql:{store}", "--empty-password"], check=True, capture_output=True)
    subprocess.run([certutil, "-A", "-d", f"sql:{store}", "-n", "gongwen-root", "-t", "CT,C,C",
                    "-i", str(store / "root.pem")], check=True, capture_output=True)
    return subprocess.run([program("pdfsig"), "-nssdir", f"sql:{store}", str(pdf)],
                          capture_output=True, text=True).stdout


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page's form carries, for posting as that page would."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def logged_in(app, login: str, password: str = "gongwen-demo"):
    """A test client of ``app`` with ``login`` logged in through the login page."""
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
