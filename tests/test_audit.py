"""The audit chain: whole after real work, and a changed or removed event is found."""

import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine import audit
from engine.models import AuditEvent
from tests.support import ROOT, audit_protection_lifted, ready_for
from web.audit_labels import EVENTS


@pytest.fixture
def busy(gongwen, org, deployed):
    applicant = org.person("lyg.drafter")
    gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                          data={"department_id": applicant.department_id})
    (task,) = ready_for(gongwen, applicant)
    gongwen.runtime.complete(task.id, applicant.id, {"kind": "sick", "start_date": "2026-11-24",
                                                     "end_date": "2026-11-24", "reason": "发热"})
    with gongwen.db.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


def _verify(gongwen):
    with gongwen.db.session() as s:
        return audit.verify(s)


def test_the_chain_is_whole_after_real_work(gongwen, busy):
    report = _verify(gongwen)
    assert report.whole and report.checked == busy > 50
    with gongwen.db.session() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"person.create", "role.grant", "definition.deploy", "instance.start", "task.complete"} <= actions


def test_the_database_refuses_to_change_or_delete_an_event(gongwen, busy):
    for statement in ("UPDATE audit_event SET action = 'x' WHERE id = 3", "DELETE FROM audit_event WHERE id = 3"):
        with pytest.raises(DBAPIError, match="append-only"), gongwen.db.write() as s:
            s.execute(text(statement))
    assert _verify(gongwen).whole


def test_an_edited_event_is_found(gongwen, busy):
    with gongwen.db.write() as s, audit_protection_lifted(s):
        s.execute(text("UPDATE audit_event SET action = 'login.ok' WHERE id = 20"))
    report = _verify(gongwen)
    assert (report.whole, report.broken_at, report.checked) == (False, 20, 19)
    assert "改动" in report.reason


def test_a_removed_event_is_found(gongwen, busy):
    with gongwen.db.write() as s, audit_protection_lifted(s):
        s.execute(text("DELETE FROM audit_event WHERE id = 30"))
    report = _verify(gongwen)
    assert (report.whole, report.broken_at) == (False, 31)


def test_every_event_the_code_records_reads_in_chinese_in_the_auditors_log():
    """The auditor reads events in words (web/audit_labels.py); one recorded under a name with no label would show
    as its code name. Every event named in a ``record(…)``/``audit(…)`` call or as a refusal must have its words."""
    named = re.compile(r'(?:record\([^"]*?|audit\()"([a-z_]+\.[a-z_]+)"|"([a-z_]+\.[a-z_]+_refused)"')
    recorded = {next(filter(None, match.groups()))
                for path in [*ROOT.glob("handlers/**/*.py"), *ROOT.glob("web/**/*.py"), *ROOT.glob("engine/*.py")]
                for match in named.finditer(path.read_text(encoding="utf-8"))}
    assert len(recorded) > 100
    assert sorted(recorded - set(EVENTS)) == []
