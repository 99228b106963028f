"""Fixtures: a fresh Gongwen on every backend, a fixed clock, the demo organisation.

Tests that take the ``gongwen`` fixture run once on SQLite and once on PostgreSQL
(``--backends`` picks; both by default). PostgreSQL tests skip when the server is
down on a developer's machine, and fail under ``CI=true``: in CI a skip would hide
a missing service.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import text

import forms  # noqa: F401  (registers forms)
import handlers  # noqa: F401  (registers handlers)
from engine import clock, organisation
from engine.config import Settings
from engine.core import Gongwen
from engine.deploy import collect, deploy
from engine.schema import upgrade
from tests.browser_support import browser, server, server_env  # noqa: F401  (session-wide fixtures)
from tests.support import ROOT, require
from web import demo

PG_SERVER = os.environ.get("GONGWEN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
MONDAY_9AM = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


# Seeding the demo organisation hashes ~45 passwords per test; a cheap argon2 keeps that fast.
organisation.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def pytest_addoption(parser):
    parser.addoption("--backends", default=os.environ.get("GONGWEN_TEST_BACKENDS", "sqlite,postgresql"),
                     help="comma-separated database backends to run database tests on")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = [b.strip() for b in metafunc.config.getoption("--backends").split(",") if b.strip()]
        metafunc.parametrize("backend", backends, scope="session")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_SERVER.replace("+psycopg", "") + "/postgres", connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gongwen.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    require(_pg_available(), "PostgreSQL at 127.0.0.1:5432")
    name = f"gongwen_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = PG_SERVER.replace("+psycopg", "") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(request, backend, tmp_path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / "gongwen.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database")
    yield url
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
        )).all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(MONDAY_9AM)
    previous = clock.get_clock()
    clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(env="test", files_dir=tmp_path / "files", database_url=database_url, secret_key="test-secret",
                    expression_timeout_s=0.5)


@pytest.fixture
def gongwen(settings, fixed_clock) -> Iterator[Gongwen]:
    instance = Gongwen(settings)
    yield instance
    instance.close()


@pytest.fixture
def org(gongwen, request) -> demo.DemoOrg:
    """The demo organisation; its leaders hold personal certificates, as 签发 and 批示 require.

    Not under ``@pytest.mark.uncertified``: for tests that tell the demo's stories, which issue the
    certificates (and create the CA) on the earlier days they tell.
    """
    with gongwen.db.write() as session:
        org = demo.seed(session)
        if request.node.get_closest_marker("uncertified") is None:
            demo.issue_personal_certificates(session, gongwen.settings, org)
        return org


@pytest.fixture
def deployed(gongwen, org):
    with gongwen.db.write() as session:
        return deploy(session, collect([ROOT / "workflows"]))


@pytest.fixture
def sealed(gongwen, org) -> demo.DemoOrg:
    """The demo organisation with seals for the city office, its finance bureau and the three counties."""
    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office", "finance", "donghai_office",
                                                          "guanyun_office", "guannan_office"])
    return org


@pytest.fixture
def app(gongwen):
    """The web app on the test's Gongwen."""
    from web import create_app

    app = create_app(gongwen)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def run(database_url, tmp_path):
    """Invoke the ``gongwen`` command line against the test database, as an administrator would."""
    env = {"GONGWEN_DATABASE_URL": database_url, "GONGWEN_FILES_DIR": str(tmp_path / "files"),
           "GONGWEN_SECRET_KEY": "cli-test", "GONGWEN_NOW": "2026-11-23T09:00:00+08:00"}

    def invoke(*args, input=None):
        from web.cli import main

        return CliRunner(env=env).invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke
