"""``gongwen backup`` and ``gongwen restore``: one checked set of database and files, brought back whole.

A real document is sealed and dispatched, the installation is backed up through the command line and
restored into a new, empty installation (a new SQLite file, or a new PostgreSQL database) with the same
secret key; there it is the same installation, and its processes go on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import func, inspect, make_url, select

from engine import audit
from engine.config import Settings
from engine.core import Gongwen
from engine.db import make_engine
from engine.models import AuditEvent, StoredFile
from engine.schema import alembic_config, upgrade
from handlers.documents.models import Document
from handlers.exchange.models import Receipt, ReceiptStatus
from handlers.seals.verification import verify_document
from tests.outgoing_support import act, send
from tests.support import program, ready_for
from web import demo

pytestmark = pytest.mark.usefixtures("deployed")

SECRET = "test-secret"  # the key of the ``settings`` fixture, under which the seals' private keys are stored
NOW = "2026-11-23T09:00:00+08:00"  # GONGWEN_NOW of the ``run`` fixture


@dataclass
class Installation:
    """A second installation of Gongwen: its own database and files, the same secret key."""

    url: str
    files_dir: Path
    opened: list[Gongwen] = field(default_factory=list)

    def cli(self, *args: str):
        from web.cli import main

        env = {"GONGWEN_DATABASE_URL": self.url, "GONGWEN_FILES_DIR": str(self.files_dir),
               "GONGWEN_SECRET_KEY": SECRET, "GONGWEN_NOW": NOW}
        return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)

    def gongwen(self) -> Gongwen:
        self.opened.append(Gongwen(Settings(env="test", files_dir=self.files_dir, database_url=self.url,
                                            secret_key=SECRET)))
        return self.opened[-1]

    def tables(self) -> set[str]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return set(inspect(conn).get_table_names())
        finally:
            engine.dispose()

    def files(self) -> list[Path]:
        return sorted(p for p in self.files_dir.rglob("*") if p.is_file()) if self.files_dir.exists() else []


@pytest.fixture
def fresh(backend, database_url, tmp_path) -> Iterator[Callable[[], Installation]]:
    """Makes new, empty installations: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    made: list[Installation] = []
    databases: list[str] = []
    server = make_url(database_url)
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    def make() -> Installation:
        place = tmp_path / f"installation-{len(made) + 2}"
        if backend == "sqlite":
            url = f"sqlite:///{place / 'gongwen.db'}"
            place.mkdir()
        else:
            databases.append(name := f"{server.database}_restore_{len(made) + 2}")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = server.set(database=name).render_as_string(hide_password=False)
        made.append(Installation(url, place / "files"))
        return made[-1]

    yield make
    for installation in made:
        for opened in installation.opened:
            opened.close()
    for name in databases:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def dispatched(gongwen, org, backend) -> Document:
    """A notice from the city office, sealed and dispatched to 东海县; 东海's clerk has to sign for it."""
    if backend == "postgresql":
        program("pg_dump")
        program("pg_restore")
    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office", "donghai_office"])
    return send(gongwen, org, main_to=("donghai_office",))


def test_a_restored_installation_has_the_same_documents_tasks_and_audit_chain(
        gongwen, org, dispatched, run, fresh, tmp_path):
    people = [org.person(login) for login in ("dh.clerk", "lyg.drafter", "lyg.head")]
    documents, tasks, events = _documents(gongwen), [_tasks(gongwen, p) for p in people], _events(gongwen)
    assert tasks[0] == [("签收", tasks[0][0][1])]

    made = run("backup", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.output
    target = fresh()
    restored = target.cli("restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output

    again = target.gongwen()
    assert _documents(again) == documents
    assert [_tasks(again, p) for p in people] == tasks
    with again.db.session() as session:
        assert audit.verify(session).whole
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        stored = session.scalars(select(StoredFile.sha256)).all()
    assert _events(again) == events + 1  # what was there when the backup was taken, and the restore
    assert (last.action, last.detail["manifest_sha256"]) == ("backup.restore", _manifest_hash(tmp_path / "backup"))
    assert target.cli("audit", "verify").exit_code == 0
    assert dispatched.sealed_sha256 in stored and len(stored) == len(target.files())
    for sha256 in stored:
        assert hashlib.sha256(again.files.get(sha256)).hexdigest() == sha256

    with again.db.session() as session:
        assert verify_document(session, again.files.get(dispatched.sealed_sha256)).ok
    act(again, org.person("dh.clerk"), "签收", {"decision": "sign"})
    assert _receipt(again, dispatched) == ReceiptStatus.SIGNED
    assert _receipt(gongwen, dispatched) == ReceiptStatus.PENDING  # the two installations are apart now


def test_a_backup_lists_every_file_with_its_hash_and_holds_no_secret_key(gongwen, dispatched, run, tmp_path):
    made = run("backup", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.output
    assert "GONGWEN_SECRET_KEY" in made.output and "还原时必须使用同一个密钥" in made.output

    backup = tmp_path / "backup"
    manifest = json.loads((backup / "manifest.json").read_text())
    on_disk = {p.relative_to(backup).as_posix(): p for p in backup.rglob("*") if p.is_file()}
    assert set(on_disk) - {f["path"] for f in manifest["files"]} == {"manifest.json"}
    for listed in manifest["files"]:
        content = on_disk[listed["path"]].read_bytes()
        assert (hashlib.sha256(content).hexdigest(), len(content)) == (listed["sha256"], listed["size"])
        assert b"test-secret" not in content and b"cli-test" not in content
    stored = {p.relative_to(gongwen.settings.files_dir).as_posix() for p in gongwen.settings.files_dir.rglob("*")
              if p.is_file()}
    assert {f["path"] for f in manifest["files"]} == {manifest["database"]} | {f"files/{p}" for p in stored}
    assert manifest["alembic_revision"] == _head()
    assert manifest["backend"] == gongwen.db.engine.dialect.name
    assert manifest["created_at"] == "2026-11-23T01:00:00+00:00" and manifest["gongwen_version"]

    with gongwen.db.session() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert audit.verify(session).whole
    assert event.action == "backup.create"
    assert event.detail["manifest_sha256"] == _manifest_hash(backup)
    assert event.detail["files"] == len(stored)


def test_a_changed_missing_or_extra_file_in_a_backup_is_refused_and_changes_nothing(
        gongwen, dispatched, run, fresh, tmp_path):
    assert run("backup", str(tmp_path / "backup")).exit_code == 0
    sealed = f"files/{dispatched.sealed_sha256[:2]}/{dispatched.sealed_sha256}"
    target = fresh()

    def damaged(name: str, harm: Callable[[Path], None]) -> Path:
        copy = tmp_path / name
        shutil.copytree(tmp_path / "backup", copy)
        harm(copy)
        return copy

    def flip_a_byte(copy: Path) -> None:
        content = bytearray((copy / sealed).read_bytes())
        content[len(content) // 2] ^= 0x01
        (copy / sealed).write_bytes(bytes(content))

    for copy, says in [
        (damaged("changed", flip_a_byte), f"备份中的文件 {sealed} 与清单不符"),
        (damaged("missing", lambda c: (c / sealed).unlink()), f"备份缺少文件 {sealed}"),
        (damaged("extra", lambda c: (c / "files" / "note.txt").write_text("x")), "清单未列出的文件 files/note.txt"),
        (damaged("database", lambda c: (c / json.loads((c / "manifest.json").read_text())["database"]).unlink()),
         "备份缺少文件 database."),
    ]:
        refused = target.cli("restore", str(copy))
        assert refused.exit_code == 1 and says in refused.output, refused.output
        assert target.tables() == set() and target.files() == []

    assert target.cli("restore", str(tmp_path / "backup")).exit_code == 0  # the refusals left it as new


def test_restoring_into_an_installation_that_holds_data_is_refused(gongwen, dispatched, run, tmp_path):
    assert run("backup", str(tmp_path / "backup")).exit_code == 0
    before = _documents(gongwen), _events(gongwen), sorted(gongwen.settings.files_dir.rglob("*"))

    refused = run("restore", str(tmp_path / "backup"))
    assert refused.exit_code == 1
    assert "本安装的数据库中已有数据" in refused.output
    assert (_documents(gongwen), _events(gongwen), sorted(gongwen.settings.files_dir.rglob("*"))) == before


def test_a_backup_into_a_folder_that_is_not_empty_is_refused(gongwen, org, run, tmp_path):
    dest = tmp_path / "backup"
    dest.mkdir()
    (dest / "earlier.txt").write_text("留存")
    events = _events(gongwen)

    refused = run("backup", str(dest))
    assert refused.exit_code == 1
    assert "已存在且不是空目录" in refused.output
    assert [p.name for p in dest.iterdir()] == ["earlier.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")] == []
    assert _events(gongwen) == events


def test_a_backup_of_an_older_schema_is_brought_up_to_date_on_restore(backend, fresh, tmp_path):
    if backend == "postgresql":
        program("pg_dump")
        program("pg_restore")
    older = fresh()
    upgrade(older.url, "0005")
    assert older.cli("backup", str(tmp_path / "older")).exit_code == 0
    assert json.loads((tmp_path / "older" / "manifest.json").read_text())["alembic_revision"] == "0005"

    target = fresh()  # a new server brought to the current schema, with no data yet
    upgrade(target.url)
    restored = target.cli("restore", str(tmp_path / "older"))
    assert restored.exit_code == 0, restored.output
    assert f"0005 → {_head()}" in restored.output
    assert target.cli("audit", "verify").exit_code == 0
    with target.gongwen().db.session() as session:  # backup.create went on the older chain, after the copy
        assert [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == ["backup.restore"]


# -- reading an installation --------------------------------------------------------------------------------

def _documents(gongwen: Gongwen) -> list[tuple]:
    with gongwen.db.session() as session:
        return [tuple(r) for r in session.execute(select(
            Document.id, Document.doc_number, Document.title, Document.sealed_sha256).order_by(Document.id))]


def _tasks(gongwen: Gongwen, person) -> list[tuple[str, int]]:
    return [(t.name, t.id) for t in ready_for(gongwen, person)]


def _events(gongwen: Gongwen) -> int:
    with gongwen.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def _receipt(gongwen: Gongwen, document: Document) -> ReceiptStatus:
    with gongwen.db.session() as session:
        return session.scalar(select(Receipt.status).where(Receipt.document_id == document.id))


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _manifest_hash(backup: Path) -> str:
    return hashlib.sha256((backup / "manifest.json").read_bytes()).hexdigest()
