"""The ``gongwen`` command line: each command works, and bad input is one clear line, never a traceback."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from engine.config import ConfigError, Settings
from tests.support import ROOT, audit_protection_lifted, bpmn, service_task


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
    from engine.db import make_engine

    engine = make_engine(database_url)
    with Session(engine) as session, session.begin(), audit_protection_lifted(session):
        session.execute(text("UPDATE audit_event SET detail = '{}' WHERE id = 5"))
    engine.dispose()
    result = run("audit", "verify")
    assert result.exit_code == 1 and "第 5 号事件" in result.output


def test_tick_and_incidents_run_on_an_empty_installation(run):
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
