"""Settings, read once from ``GONGWEN_*`` environment variables.

Every setting has an embedded default so that Gongwen runs with no configuration at
all: SQLite and files under ``./var``, background work in-process.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _office_hours(text: str) -> tuple[tuple[time, time], ...]:
    spans = []
    for part in text.split(","):
        try:
            start, end = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError as err:
            raise ConfigError(
                f"GONGWEN_OFFICE_HOURS 格式应为 09:00-12:00,13:30-17:30，收到 {text!r}"
            ) from err
        if end <= start:
            raise ConfigError(f"GONGWEN_OFFICE_HOURS 中 {part!r} 的结束时间早于开始时间")
        spans.append((start, end))
    return tuple(sorted(spans))


@dataclass(frozen=True)
class Option(Generic[T]):
    """A setting a domain package declares for itself (the engine knows none of them by name)."""

    name: str
    env: str
    parse: Callable[[str], T]
    default: T


OPTIONS: dict[str, Option] = {}


def option(name: str, env: str, parse: Callable[[str], T], default: T) -> Option[T]:
    """Declare the setting ``name``, read from the environment variable ``env`` (``default`` if unset)."""
    if name in OPTIONS and OPTIONS[name].env != env:
        raise ValueError(f"option {name!r} is declared twice")
    OPTIONS[name] = declared = Option(name, env, parse, default)
    return declared


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    files_dir: Path = Path("var/files")
    database_url: str = "sqlite:///var/gongwen.db"
    broker_url: str | None = None
    secret_key: str = ""
    fixed_now: datetime | None = None
    office_hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
    expression_timeout_s: float = 1.0
    # Values of declared options given outright (tests, benchmarks), by option name.
    options: Mapping[str, Any] = field(default_factory=dict)
    # The GONGWEN_* environment, for options declared after the settings were read.
    environ: Mapping[str, str] = field(default_factory=dict)

    def option(self, declared: Option[T]) -> T:
        """The value of a declared option: given outright, else from the environment, else its default."""
        if declared.name in self.options:
            return self.options[declared.name]
        if (text := self.environ.get(declared.env)) is not None:
            try:
                return declared.parse(text)
            except ValueError as err:
                raise ConfigError(f"{declared.env} 的值 {text!r} 无效：{err}") from err
        return declared.default

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        mode = env.get("GONGWEN_ENV", "development")
        files_dir = Path(env.get("GONGWEN_FILES_DIR", "var/files"))
        database_url = env.get("GONGWEN_DATABASE_URL") or f"sqlite:///{files_dir.parent / 'gongwen.db'}"
        fixed_now = None
        if now_text := env.get("GONGWEN_NOW"):
            if mode == "production":
                raise ConfigError("GONGWEN_NOW 只能用于测试和演示环境，生产环境（GONGWEN_ENV=production）不得设置")
            try:
                fixed_now = datetime.fromisoformat(now_text)
            except ValueError as err:
                raise ConfigError(
                    f"GONGWEN_NOW 应为带时区的 ISO 时间，如 2026-12-01T09:00:00+08:00，收到 {now_text!r}"
                ) from err
            if fixed_now.tzinfo is None:
                raise ConfigError("GONGWEN_NOW 必须带时区，如 +08:00")
        secret_key = env.get("GONGWEN_SECRET_KEY", "")
        if not secret_key:
            if mode == "production":
                raise ConfigError("生产环境必须设置 GONGWEN_SECRET_KEY")
            secret_key = _local_secret(files_dir.parent)
        return cls(
            env=mode,
            files_dir=files_dir,
            database_url=database_url,
            broker_url=env.get("GONGWEN_BROKER_URL") or None,
            secret_key=secret_key,
            fixed_now=fixed_now,
            office_hours=_office_hours(env.get("GONGWEN_OFFICE_HOURS", "09:00-12:00,13:30-17:30")),
            expression_timeout_s=float(env.get("GONGWEN_EXPRESSION_TIMEOUT", "1.0")),
            environ={k: v for k, v in env.items() if k.startswith("GONGWEN_")},
        )


def _local_secret(var_dir: Path) -> str:
    """A per-installation key kept beside the local database, never in the repository."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
