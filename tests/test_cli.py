"""The ``gongwen`` command line: each command works, and bad input is one clear line, never a traceback.

``receipts``, ``archive export|check`` (tests/test_incoming.py) and ``verify`` (tests/test_outgoing.py)
are tested with the documents they work on.
"""

import io
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import celery
import click
import flask
import pytest
from asn1crypto import cms
from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from engine.background import Scheduler
from engine.calendar import WorkCalendar, years_to_enter
from engine.config import ConfigError, Settings
from engine.db import make_engine
from engine.inbox import ready_tasks
from engine.models import Base, Incident, InstanceStatus, Person, PersonStatus, ProcessInstance, Unit
from engine.registry import handler
from handlers.archive.models import ArchiveItem
from handlers.documents.models import Document, Urgency
from handlers.documents.numbering import allocate
from handlers.exchange.deadlines import Measure, deadline_rules
from handlers.exchange.models import Receipt, ReceiptStatus
from tests.support import ROOT, audit_protection_lifted, bpmn, deploy_bytes, flows, pdfsig, program, service_task
from web.cli import main

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")  # GONGWEN_NOW of the ``run`` fixture

EVERY_COMMAND = {
    "db upgrade", "deploy", "demo", "serve", "tick", "worker", "audit verify",
    "users create", "users freeze", "users unfreeze", "users grant", "incidents list", "incidents retry",
    "messages dead", "calendar set", "calendar entered", "verify", "numbers next", "numbers series",
    "numbers add-series", "numbers retire-series", "receipts",
    "archive export", "archive check", "deadline", "backup", "restore",
    "ca export-root", "seals list", "seals revoke", "contacts list", "sms report", "sms off", "sms on",
    "bulletin", "boxes open", "boxes list",
}


def _command_tree(command: click.Command, path: tuple[str, ...] = ()
                  ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _command_tree(sub, (*path, name))


def test_every_command_answers_help():
    tree = dict(_command_tree(main))
    assert {" ".join(path) for path, command in tree.items() if not isinstance(command, click.Group)} == EVERY_COMMAND
    for path, command in tree.items():
        result = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith(" ".join(("Usage: main", *path)))
        assert command.help, f"{' '.join(path)} has no help text"
        first_paragraph = " ".join(command.help.split("\n\n")[0].split())
        assert first_paragraph in " ".join(result.output.split()), path


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


def test_every_seal_in_the_demos_files_is_valid_and_trusted_for_pdfsig_with_the_exported_root(run, tmp_path):
    assert run("demo").exit_code == 0
    assert run("ca", "export-root", str(tmp_path / "root.pem")).exit_code == 0
    root = (tmp_path / "root.pem").read_bytes()
    pdfs = [p for p in (tmp_path / "files").rglob("*") if p.is_file() and p.read_bytes()[:5] == b"%PDF-"]
    seals, archived = 0, []
    for path in pdfs:
        copy = tmp_path / "checked" / f"{path.name}.pdf"
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(path.read_bytes())
        out = pdfsig(copy, root)
        for signature in out.split("Signature #")[1:]:
            if "Signature Field Name: Archive-" in signature:
                # Poppler 22 cannot check RFC 3161 document timestamps ("Signature Type: unknown");
                # OpenSSL checks the archive timestamp below, and Gongwen does.
                archived.append(copy)
                continue
            seals += 1
            assert "Signature is Valid." in signature and "Certificate is Trusted." in signature, (path, out)
    assert seals >= 3 and len(archived) == 1
    result = run("verify", str(archived[0]))
    assert result.exit_code == 0 and "✓ 归档时间戳有效" in result.output and "✓ 盖章时间可信" in result.output
    assert openssl_verifies_the_archive_timestamp(archived[0], tmp_path / "root.pem")


def test_seals_are_listed_and_revoked_from_the_command_line_with_the_time_a_lost_key_was_distrusted(run, tmp_path):
    before = run("ca", "export-root", str(tmp_path / "root.pem"))
    assert before.exit_code == 1 and "尚未建立电子印章证书体系" in before.output
    run("demo")
    listed = run("seals", "list", "--unit", "连云港市人民政府办公室").output.splitlines()
    assert len(listed) == 1 and "在用" in listed[0]
    code = listed[0].split()[0]

    for options, refusal in [(["--reason", "damaged", "--invalid-since", "2026-11-23T09:00"], "只有印章遗失"),
                             (["--reason", "lost", "--invalid-since", "上周一"], "时间格式不对"),
                             (["--reason", "lost", "--invalid-since", "2030-01-01T00:00"], "失效起始时间应在"),
                             (["--reason", "misplaced"], "Invalid value")]:
        refused = run("seals", "revoke", code, *options)
        assert refused.exit_code != 0 and refusal in refused.output and "Traceback" not in refused.output
    assert "在用" in run("seals", "list", "--unit", "连云港市人民政府办公室").output  # nothing changed

    assert run("seals", "revoke", code, "--reason", "lost", "--invalid-since", "2026-11-23T09:00").exit_code == 0
    (line,) = run("seals", "list", "--unit", "连云港市人民政府办公室").output.splitlines()
    assert "已吊销" in line and "印章遗失或私钥泄露" in line and "自 2026-11-23 09:00 起不再可信" in line
    again = run("seals", "revoke", code, "--reason", "lost")
    assert again.exit_code == 1 and "已经吊销" in again.output
    assert "没有编号为 GW-404 的印章" in run("seals", "revoke", "GW-404", "--reason", "lost").output


def openssl_verifies_the_archive_timestamp(pdf: Path, root: Path) -> bool:
    """``openssl ts -verify`` of the document timestamp's token against the bytes its /ByteRange covers."""
    data = pdf.read_bytes()
    (stamp,) = [s for s in PdfFileReader(io.BytesIO(data)).embedded_signatures
                if s.sig_object_type == "/DocTimeStamp"]
    a, b, c, d = stamp.sig_object["/ByteRange"]
    (pdf.parent / "covered.bin").write_bytes(data[a:a + b] + data[c:c + d])
    # /Contents holds the token's DER followed by zero padding; asn1crypto reads just the token.
    (pdf.parent / "token.der").write_bytes(cms.ContentInfo.load(stamp.sig_object["/Contents"].original_bytes).dump())
    out = subprocess.run([program("openssl"), "ts", "-verify", "-data", str(pdf.parent / "covered.bin"),
                          "-in", str(pdf.parent / "token.der"), "-token_in", "-CAfile", str(root)],
                         capture_output=True, text=True)
    return "Verification: OK" in out.stdout


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


def test_db_upgrade_creates_every_table_in_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    env = {"GONGWEN_DATABASE_URL": url, "GONGWEN_FILES_DIR": str(tmp_path / "files"), "GONGWEN_SECRET_KEY": "cli-test"}
    for _ in range(2):  # the second time there is nothing left to apply
        result = CliRunner(env=env).invoke(main, ["db", "upgrade"], catch_exceptions=False)
        assert result.exit_code == 0 and result.output.strip() == f"数据库已是最新结构：{url}"
    engine = make_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_serve_runs_gunicorn_with_uvicorn_workers_and_each_its_scheduler_or_uvicorn_alone_when_asked(
        run, monkeypatch):
    from web.asgi import App, Server
    from web.cli.run import _Gunicorn

    started, served, apps = [], [], []
    monkeypatch.setattr(Scheduler, "start", lambda scheduler: started.append(scheduler.every_s))
    monkeypatch.setattr(Server, "run", lambda server: served.append((server.config.host, server.config.port,
                                                                    type(server.config.app))))
    monkeypatch.setattr(_Gunicorn, "run", lambda server: apps.append((server.options, server.load())))
    result = run("serve", "--host", "0.0.0.0", "--port", "5999", "--workers", "3")
    assert result.exit_code == 0 and result.output.startswith("公文系统已启动：http://0.0.0.0:5999/")
    ((options, app),) = apps
    assert options["bind"] == "0.0.0.0:5999" and options["workers"] == 3 and isinstance(app, App)
    assert options["worker_class"] == "web.asgi.Worker" and isinstance(app.flask, flask.Flask)
    assert started == [10] and served == []  # the scheduler started in the (here: one) worker

    assert run("serve", "--dev", "--port", "5998").exit_code == 0
    assert served == [("127.0.0.1", 5998, App)]
    assert run("serve", "--workers", "0").exit_code == 2


def test_worker_needs_a_broker_and_passes_celery_its_options(run, monkeypatch):
    refused = run("worker")
    assert refused.exit_code == 2 and "未设置 GONGWEN_BROKER_URL" in refused.output

    argvs = []
    monkeypatch.setattr(celery.Celery, "worker_main", lambda app, argv: argvs.append((app.conf.broker_url, argv)))
    monkeypatch.setenv("GONGWEN_BROKER_URL", "memory://")
    assert run("worker", "--concurrency=2", "-n", "w1").exit_code == 0
    assert argvs == [("memory://", ["worker", "-B", "--loglevel=INFO", "--concurrency=2", "-n", "w1"])]


def test_unfreeze_lets_a_frozen_account_back_in_and_clears_its_lockout(run, gongwen, org):
    assert run("users", "freeze", "lyg.clerk").exit_code == 0
    with gongwen.db.write() as session:
        clerk = session.scalar(select(Person).where(Person.login == "lyg.clerk"))
        assert clerk.status == PersonStatus.FROZEN
        clerk.failed_logins, clerk.locked_until = 5, NOW + timedelta(hours=1)
    result = run("users", "unfreeze", "lyg.clerk")
    assert result.exit_code == 0 and result.output.strip() == "已解冻 lyg.clerk"
    with gongwen.db.session() as session:
        clerk = session.scalar(select(Person).where(Person.login == "lyg.clerk"))
        assert (clerk.status, clerk.failed_logins, clerk.locked_until) == (PersonStatus.ACTIVE, 0, None)
    missing = run("users", "unfreeze", "nobody")
    assert missing.exit_code == 1 and missing.output.strip() == "错误：没有登录名为 nobody 的人员"


SMS_GATEWAY = {"up": False}


@handler("test_cli_sms")
def sms(ctx, text):
    """Sends ``text`` while SMS_GATEWAY says the gateway is up, else fails."""
    if not SMS_GATEWAY["up"]:
        raise ConnectionError("短信网关无响应")
    return {"sent": text}


NOTIFY = bpmn("<bpmn:startEvent id='s'/>" + service_task("notify", "test_cli_sms", {"text": "'已审批'"})
              + "<bpmn:endEvent id='e'/>" + flows("s", "notify", "e"), process_id="cli_notify")


def test_incidents_retry_runs_the_failed_task_again_until_it_succeeds(run, gongwen, org):
    SMS_GATEWAY["up"] = False
    deploy_bytes(gongwen, "cli_notify.bpmn", NOTIFY)
    instance = gongwen.runtime.start("cli_notify", owning_unit_id=org.unit("city_office").id)
    with gongwen.db.session() as session:
        first = session.scalar(select(Incident.id))
    listed = run("incidents", "list").output.strip()
    assert listed.startswith(f"#{first} 流程实例 {instance} 任务“notify” 2026-11-23 09:00:00：")
    assert "短信网关无响应" in listed

    again = run("incidents", "retry", str(first))
    assert again.exit_code == 0 and again.output.startswith("重试后再次失败：") and "短信网关无响应" in again.output
    with gongwen.db.session() as session:
        second = session.scalar(select(Incident.id).where(Incident.resolved_at.is_(None)))
    assert second != first
    assert run("incidents", "retry", str(first)).output.strip() == "错误：这个故障已经处理过"

    SMS_GATEWAY["up"] = True
    assert run("incidents", "retry", str(second)).output.strip() == "已重试，流程继续运行"
    assert run("incidents", "list").output.strip() == "没有未处理的故障"
    with gongwen.db.session() as session:
        assert session.get(ProcessInstance, instance).status == InstanceStatus.COMPLETED
    unknown = run("incidents", "retry", "999")
    assert unknown.exit_code == 1 and unknown.output.strip() == "错误：没有编号为 999 的故障"


def test_messages_dead_lists_a_message_nobody_waited_for(run, gongwen):
    assert run("messages", "dead").output.strip() == "没有死信"
    with gongwen.db.write() as session:
        gongwen.runtime.send_message(session, "签收回执", {"doc": 7}, {"signed_by": "市财政局"})
    result = run("messages", "dead")
    assert result.exit_code == 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith('#1 签收回执 → {"doc":7} （来自实例 ')
    assert line.endswith("，2026-11-23 09:00:00）")


def test_calendar_overrides_a_day_and_marks_a_year_entered(run, gongwen):
    saturday, monday = date(2026, 12, 5), date(2026, 12, 7)
    assert run("calendar", "set", str(saturday), "workday", "--note", "调休").output.strip() == "2026-12-05 设为工作日"
    assert run("calendar", "set", str(monday), "holiday").output.strip() == "2026-12-07 设为休息日"
    with gongwen.db.session() as session:
        assert WorkCalendar(session).is_workday(saturday) and not WorkCalendar(session).is_workday(monday)

    with gongwen.db.session() as session:
        assert years_to_enter(session) == [2027]  # the holiday package ends with 2026
    assert run("calendar", "entered", "2027").output.strip() == "2027 年放假安排已标记为录入"
    with gongwen.db.session() as session:
        assert years_to_enter(session) == []

    too_old = run("calendar", "entered", "2020")
    assert too_old.exit_code == 2 and "只能为去年、今年及以后五年内的年份标记" in too_old.output
    assert run("calendar", "set", "5 December", "workday").exit_code == 2


def test_numbers_next_sets_the_next_number_and_never_goes_back(run, gongwen):
    result = run("numbers", "next", "连政发", "2026", "40")
    assert result.exit_code == 0 and result.output.strip() == "连政发〔2026〕下一个文号为 40 号"
    with gongwen.db.write() as session:
        assert allocate(session, "连政发", 2026) == 40
    back = run("numbers", "next", "连政发", "2026", "12")
    assert back.exit_code == 1 and back.output.strip() == "错误：连政发〔2026〕已用到第 40 号，下一个文号不能小于 41"


def test_numbers_series_are_listed_added_and_retired(run, org):
    listed = run("numbers", "series", "市政府办公室")
    assert listed.exit_code == 0
    main, letter, telegram = listed.output.splitlines()
    assert main == "连政办发\t主系列" and letter.startswith("连政办函\t函\t函\t编号 ")
    assert telegram.startswith("连政办发明电\t明电（明电）\t由拟稿人选用")
    added = run("numbers", "add-series", "东海县政府办", "函", "东政办函", "--doc-type", "letter")
    assert added.exit_code == 0 and "东政办函" in run("numbers", "series", "东政办发").output
    taken = run("numbers", "add-series", "灌云县政府办", "函", "东政办函")
    assert taken.exit_code == 1 and "已由东海县人民政府办公室使用" in taken.output
    assert run("numbers", "add-series", "灌云县政府办", "函", "灌政办函", "--doc-type", "memo").exit_code == 1
    assert run("numbers", "retire-series", "东政办函").exit_code == 0
    assert "东政办函" not in run("numbers", "series", "东政办发").output
    assert run("numbers", "retire-series", "东政办函").exit_code == 1  # retired already


def test_deadline_sets_the_sign_for_window_of_one_urgency(run, gongwen):
    result = run("deadline", "urgent", "2", "working_hours")
    assert result.exit_code == 0 and result.output.strip() == "urgent 的签收时限设为 2 working_hours"
    with gongwen.db.session() as session:
        rules = {urgency: rule for urgency, *rule in deadline_rules(session)}
    assert rules[Urgency.URGENT] == [2.0, Measure.WORKING_HOURS, True]
    assert rules[Urgency.NORMAL][2] is False  # the others keep their defaults
    assert run("deadline", "urgent", "2", "fortnights").exit_code == 2
