"""The ``gongwen`` command line: each command works, and bad input is one clear line, never a traceback."""

from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine.config import ConfigError, Settings
from engine.db import make_engine
from engine.inbox import ready_tasks
from engine.models import InstanceStatus, Person, ProcessInstance, Unit
from handlers.archive.models import ArchiveItem
from handlers.documents.models import Document
from handlers.exchange.models import Receipt, ReceiptStatus
from tests.support import ROOT, audit_protection_lifted, bpmn, service_task

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")  # GONGWEN_NOW of the ``run`` fixture


def test_help_lists_every_command(run):
    result = run("--help")
    for command in ("db", "deploy", "demo", "serve", "tick", "worker", "audit", "users", "incidents"):
        assert f"  {command} " in result.output


def test_demo_seeds_and_prints_logins_then_deploy_is_a_no_op(run):
    result = run("demo")
    assert result.exit_code == 0
    assert "lyg.clerk" in result.output and "收发员" in result.output and "sysadmin" in result.output
    assert "已部署为第 1 版" not in result.output
    again = run("deploy", str(ROOT / "workflows"))
    assert again.exit_code == 0 and "leave.bpmn：流程 leave 与第 1 版相同，未改动" in again.output


def test_demo_drives_documents_into_every_state_once(run, database_url):
    result = run("demo")
    assert "已创建演示公文 5 件：拟稿中 1、待签发 1、已分发 1、逾期未签收 1、已归档 1" in result.output
    engine = make_engine(database_url)
    with Session(engine) as session:
        def waiting(login):
            person = session.scalar(select(Person).where(Person.login == login))
            return {(task.name, session.get(ProcessInstance, task.instance_id).title)
                    for task in ready_tasks(session, person.id)}

        titles = dict(session.execute(select(Document.id, Document.title)).all())
        drafting, awaiting, dispatched = (next(i for i, t in titles.items() if words in t)
                                          for words in ("燃气", "政务信息报送", "饮用水"))
        assert ("拟稿", titles[drafting]) in waiting("lyg.drafter")  # saved: the task shows the drafted title
        assert ("签发", titles[awaiting]) in waiting("lyg.signer")

        receipts = session.scalars(select(Receipt).where(Receipt.document_id == dispatched)).all()
        assert sorted(r.status for r in receipts) == sorted(ReceiptStatus)
        assert all(r.return_reason for r in receipts if r.status == ReceiptStatus.RETURNED)
        assert all(r.due_at > NOW for r in receipts if r.status == ReceiptStatus.PENDING)

        (overdue,) = session.scalars(select(Receipt).where(Receipt.status == ReceiptStatus.PENDING,
                                                           Receipt.due_at < NOW)).all()
        assert overdue.overdue_since is not None and overdue.document_id not in (drafting, awaiting, dispatched)

        (archived,) = session.scalars(select(ArchiveItem)).all()
        assert session.get(Unit, archived.unit_id).name == "东海县人民政府办公室"
        assert session.get(ProcessInstance, archived.instance_id).status == InstanceStatus.COMPLETED
        assert len(titles) == 5

    again = run("demo")
    assert "演示单位已就绪" in again.output and "演示公文" not in again.output
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 5
    engine.dispose()


def test_a_bad_diagram_is_one_line_naming_file_and_element(run, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(bpmn("<bpmn:startEvent id='s'/>" + service_task("seal", "forge_seal")))
    result = run("deploy", str(bad))
    assert result.exit_code == 1
    assert result.output.strip() == "错误：bad.bpmn：元素 seal：服务任务“seal”调用的处理程序 'forge_seal' 未注册"


def test_users_and_roles_from_the_command_line(run):
    run("demo")
    result = run("users", "create", "lyg.new", "周新", "--unit", "连云港市人民政府办公室",
                 input="a-long-password\na-long-password\n")
    assert result.exit_code == 0
    assert run("users", "grant", "lyg.new", "clerk", "--unit", "连云港市人民政府办公室").exit_code == 0
    refused = run("users", "grant", "lyg.new", "auditor")
    assert refused.exit_code == 1 and "三员分立" in refused.output
    assert run("users", "freeze", "lyg.new").output.strip() == "已冻结 lyg.new"


def test_audit_verify_reports_a_broken_chain_with_a_non_zero_exit(run, database_url):
    run("demo")
    assert run("audit", "verify").output.startswith("审计链完整")
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin(), audit_protection_lifted(session):
        session.execute(text("UPDATE audit_event SET detail = '{}' WHERE id = 5"))
    engine.dispose()
    result = run("audit", "verify")
    assert result.exit_code == 1 and "第 5 号事件" in result.output


def test_tick_and_incidents_find_nothing_to_do_after_the_demo(run):
    run("demo")
    assert run("tick").output.strip() == "到期定时器：0 个流程；投递：0 条"
    assert run("incidents", "list").output.strip() == "没有未处理的故障"


def test_a_fixed_clock_is_refused_in_production():
    with pytest.raises(ConfigError, match="生产环境"):
        Settings.from_env({"GONGWEN_ENV": "production", "GONGWEN_NOW": "2026-12-01T09:00:00+08:00",
                           "GONGWEN_SECRET_KEY": "x"})
    with pytest.raises(ConfigError, match="GONGWEN_SECRET_KEY"):
        Settings.from_env({"GONGWEN_ENV": "production"})


def test_a_missing_font_stops_the_server_at_start_up(run, monkeypatch):
    missing = "/usr/share/fonts/nowhere/fangsong.ttf"
    monkeypatch.setenv("GONGWEN_FONT_FANGSONG", missing)
    result = run("serve", "--port", "5999")
    assert result.exit_code == 1
    assert result.output.strip() == f"错误：GONGWEN_FONT_FANGSONG 指向的字体文件不存在：{missing}"
