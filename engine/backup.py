"""Backing up and restoring an installation: its database and its stored files, as one checked set.

A backup is a folder holding

- the database: ``database.sqlite3`` (SQLite's online backup API, consistent while Gongwen runs) or
  ``database.pgdump`` (``pg_dump --format=custom`` of the configured PostgreSQL database);
- ``files/``: every stored file, at the path it has under ``files_dir`` (``ab/ab12…``, see :mod:`engine.files`);
- ``manifest.json``: every other file of the set with its SHA-256 and size, the Alembic revision of the
  database, the backend, the time (:mod:`engine.clock`) and Gongwen's version.

The database is copied before the files. A stored file is written before the row naming it commits and is
never changed or removed, so every file the copied database names is in the set (a file stored during the
backup may be in it too, unnamed, which does no harm).

The secret key (``GONGWEN_SECRET_KEY`` or ``var/secret_key``) is never part of a backup. The CA and seal
private keys are in the database encrypted under it; restoring needs the same key, kept apart by the operator.

A restore checks the whole set against its manifest before it changes anything, and only goes into an
installation whose database holds no data yet. It puts the files in place, then the database, brings the
schema up to date, and records ``backup.restore`` on the restored audit chain.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, inspect, make_url, select, text

from . import audit, clock, schema
from .core import Gongwen
from .errors import GongwenError
from .models import Person, ProcessInstance

MANIFEST = "manifest.json"
FORMAT = "gongwen-backup/1"
FILES = "files"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_CHUNK = 1 << 20


class BackupRefused(GongwenError):
    """A backup or restore was refused before it changed anything; the message says why and which file."""


class BackupFailed(GongwenError):
    """A program the backup or restore runs (``pg_dump``, ``pg_restore``) failed, with its own words, or the
    backup changed under a restore; a backup leaves nothing behind, a restore may have placed stored files."""


@dataclass(frozen=True)
class Entry:
    """One file of a set, by its path inside the backup folder (``/``-separated)."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says about a set, and the SHA-256 of that file itself."""

    backend: str
    alembic_revision: str | None
    created_at: str
    gongwen_version: str
    database: str
    entries: tuple[Entry, ...]
    sha256: str

    @property
    def stored_files(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.path.startswith(f"{FILES}/"))


@dataclass(frozen=True)
class BackupReport:
    dest: Path
    manifest: Manifest

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.manifest.entries)


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    revision: str | None  # the database's revision after the upgrade


def backend_of(database_url: str) -> str:
    """``sqlite`` or ``postgresql``; any other database is refused."""
    backend = make_url(database_url).get_backend_name()
    if backend not in DATABASE:
        raise BackupRefused(f"不支持备份 {backend} 数据库，只支持 SQLite 和 PostgreSQL")
    return backend


def create(gongwen: Gongwen, dest: Path) -> BackupReport:
    """Write one consistent set of ``gongwen``'s database and stored files into the new folder ``dest``.

    Refuses a ``dest`` that exists and is not empty. The set is written into a hidden folder beside
    ``dest`` and renamed into place at the end, so a failed backup leaves no half set behind. Records
    ``backup.create`` (counts and the manifest's hash) on the audit chain of the installation.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupRefused(f"备份目录 {dest} 已存在且不是空目录，请指定一个新的目录")
    if dest.resolve().is_relative_to(gongwen.settings.files_dir.resolve()):
        raise BackupRefused(f"备份目录 {dest} 不能位于文件存储目录 {gongwen.settings.files_dir} 之内")
    backend = backend_of(gongwen.settings.database_url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    try:
        database = work / DATABASE[backend]
        if backend == "sqlite":
            revision = _sqlite_backup(_sqlite_path(gongwen.settings.database_url), database)
        else:
            revision = _current_revision(gongwen.db.engine)
            _run("pg_dump", "--format=custom", "--no-password", f"--file={database}",
                 database_url=gongwen.settings.database_url)
        entries = [Entry(database.name, *_digest(database))]
        for relative, source in _walk(gongwen.settings.files_dir):
            if not Path(relative).name.startswith(".incoming-"):  # a write in progress (engine.files)
                entries.append(Entry(f"{FILES}/{relative}", *_copy(source, work / FILES / relative)))
        text = json.dumps({
            "format": FORMAT, "backend": backend, "alembic_revision": revision,
            "created_at": clock.now().isoformat(), "gongwen_version": _version(), "database": database.name,
            "files": [vars(e) for e in entries],
        }, ensure_ascii=False, indent=1).encode()
        (work / MANIFEST).write_bytes(text)
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest = _parse(text)
    with gongwen.db.write() as session:
        audit.record(session, "backup.create", backend=backend, alembic_revision=revision,
                     files=len(manifest.stored_files), bytes=sum(e.size for e in entries),
                     manifest_sha256=manifest.sha256)
    return BackupReport(dest, manifest)


def check(src: Path) -> Manifest:
    """The manifest of the set in ``src``, once every file it lists is there with its size and hash.

    Refuses (naming the file) a missing, changed or extra file, or a manifest that cannot be read.
    """
    src = Path(src)
    try:
        manifest = _parse((src / MANIFEST).read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BackupRefused(f"{src / MANIFEST} 不存在或不是 Gongwen 的备份清单（{err}）") from err
    present = dict(_walk(src))
    present.pop(MANIFEST, None)
    if extra := sorted(set(present) - {e.path for e in manifest.entries}):
        raise BackupRefused(f"备份中有清单未列出的文件 {extra[0]}，拒绝还原")
    for entry in manifest.entries:
        if entry.path not in present:
            raise BackupRefused(f"备份缺少文件 {entry.path}，拒绝还原")
        if present[entry.path].is_symlink() or not present[entry.path].is_file():
            raise BackupRefused(f"备份中的 {entry.path} 不是普通文件，拒绝还原")
        if _digest(present[entry.path]) != (entry.sha256, entry.size):
            raise BackupRefused(f"备份中的文件 {entry.path} 与清单不符（内容被改动或损坏），拒绝还原")
    return manifest


def restore(gongwen: Gongwen, src: Path) -> RestoreReport:
    """Restore the set in ``src`` into ``gongwen``, whose database must hold no data yet.

    Checks the whole set first (:func:`check`), then that the backend matches and that this Gongwen knows
    the set's schema revision, then that the database holds no person and no process instance; any
    refusal changes nothing. Then: the stored files into ``files_dir``, the database (SQLite: the file
    copied into place; PostgreSQL: the empty schema dropped, then ``pg_restore --no-owner`` in one transaction), the
    Alembic upgrade, and ``backup.restore`` recorded on the restored chain, after the one it came with.
    The server and workers of the installation should be stopped meanwhile.
    """
    src = Path(src)
    if not src.is_dir():
        raise BackupRefused(f"备份目录 {src} 不存在")
    manifest = check(src)
    url = gongwen.settings.database_url
    if (backend := backend_of(url)) != manifest.backend:
        raise BackupRefused(f"备份来自 {manifest.backend} 数据库，本安装使用 {backend}，不能直接还原")
    if manifest.alembic_revision is not None:
        try:
            ScriptDirectory.from_config(schema.alembic_config(url)).get_revision(manifest.alembic_revision)
        except CommandError as err:
            raise BackupRefused(f"备份的数据库版本 {manifest.alembic_revision} 比本程序新，请先升级 Gongwen") from err
    if _holds_data(gongwen.db.engine):
        raise BackupRefused("本安装的数据库中已有数据（人员或流程实例），拒绝覆盖；请还原到一个新建的空数据库")
    for entry in manifest.stored_files:
        _put(src / entry.path, gongwen.settings.files_dir / entry.path.removeprefix(f"{FILES}/"), entry)
    gongwen.db.dispose()
    if backend == "sqlite":
        _put(src / manifest.database, _sqlite_path(url), _entry(manifest, manifest.database), sqlite=True)
    else:
        # The installation holds no data (checked above) but may hold a newer schema than the backup's,
        # whose extra tables refer to the backup's: pg_restore --clean cannot drop those. Start from an
        # empty schema instead; if pg_restore then fails, `gongwen db upgrade` makes the empty installation again.
        with gongwen.db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        gongwen.db.dispose()
        _run("pg_restore", "--no-owner", "--single-transaction", "--exit-on-error",
             "--no-password", str(src / manifest.database), database_url=url)
    schema.upgrade(url)
    with gongwen.db.write() as session:
        audit.record(session, "backup.restore", backend=backend, backup_created_at=manifest.created_at,
                     alembic_revision=manifest.alembic_revision, files=len(manifest.stored_files),
                     manifest_sha256=manifest.sha256)
    return RestoreReport(manifest, _current_revision(gongwen.db.engine))


# -- the parts ----------------------------------------------------------------------------------------------

def _parse(text: bytes) -> Manifest:
    data = json.loads(text)
    entries = tuple(Entry(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in data["files"])
    if data["format"] != FORMAT or data["backend"] not in DATABASE or \
            data["database"] not in {e.path for e in entries} or len({e.path for e in entries}) != len(entries):
        raise ValueError("格式不符")
    return Manifest(data["backend"], data["alembic_revision"], data["created_at"], data["gongwen_version"],
                    data["database"], entries, hashlib.sha256(text).hexdigest())


def _sqlite_path(database_url: str) -> Path:
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupRefused(f"无法备份或还原此 SQLite 数据库：{database_url}")
    return Path(path)


def _sqlite_backup(source: Path, target: Path) -> str | None:
    """Copy ``source`` to ``target`` with the online backup API (one read transaction); its Alembic revision."""
    if not source.is_file():
        raise BackupRefused(f"数据库文件 {source} 不存在")
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        try:
            row = dst.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            row = None
    return row[0] if row else None


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _holds_data(engine: Engine) -> bool:
    """Whether any person or process instance is in the database (a database without tables holds none)."""
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            return any(conn.execute(select(column).limit(1)).first() is not None
                       for table, column in (("person", Person.id), ("process_instance", ProcessInstance.id))
                       if table in tables)
    finally:
        engine.dispose()


def _run(program: str, *args: str, database_url: str) -> None:
    """Run a PostgreSQL client program on the database of ``database_url`` (password through the environment)."""
    path = shutil.which(program)
    if path is None:
        raise BackupRefused(f"找不到 {program}，请先安装 PostgreSQL 客户端程序（postgresql-client）")
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    libpq = url._replace(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([path, *args, f"--dbname={libpq}"], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"{program} 失败（退出码 {done.returncode}）：{done.stderr.strip()[-2000:]}")


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Every file under ``root`` as (path relative to it with ``/``, path), in a stable order.

    Linked folders are not followed; a linked one inside a backup leaves its files missing from the set.
    """
    for folder, subfolders, names in os.walk(root):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder, name)
            yield path.relative_to(root).as_posix(), path


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to the new file ``target``; the SHA-256 and size of what was copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as read, target.open("xb") as write:
        while chunk := read.read(_CHUNK):
            digest.update(chunk)
            write.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _entry(manifest: Manifest, path: str) -> Entry:
    return next(e for e in manifest.entries if e.path == path)


def _put(source: Path, target: Path, entry: Entry, sqlite: bool = False) -> None:
    """Copy ``source`` over ``target`` through a temporary file, checking it against ``entry`` on the way.

    ``sqlite``: ``target`` is a database file whose old journal files go first, so none is replayed on it.
    """
    tmp = target.parent / f".incoming-{uuid.uuid4().hex}"
    try:
        if _copy(source, tmp) != (entry.sha256, entry.size):
            raise BackupFailed(f"备份中的文件 {entry.path} 在还原过程中被改动，已停止；请换一份完好的备份重新还原")
        if sqlite:
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _version() -> str:
    try:
        return importlib.metadata.version("gongwen")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
