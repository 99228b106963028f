"""Settings, read once from ``GONGWEN_*`` environment variables.

Every setting has an embedded default so that Gongwen runs with no configuration at
all: SQLite and files under ``./var``, background work in-process.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path


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
class Settings:
    env: str = "development"
    files_dir: Path = Path("var/files")
    database_url: str = "sqlite:///var/gongwen.db"
    broker_url: str | None = None
    secret_key: str = ""
    fixed_now: datetime | None = None
    office_hours: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
    expression_timeout_s: float = 1.0
    attachment_max_bytes: int = 50 * 1024 * 1024
    # A dispatch to more than this share of all active units asks the clerk to confirm.
    wide_dispatch_share: float = 0.3

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
            attachment_max_bytes=int(env.get("GONGWEN_ATTACHMENT_MAX_BYTES", str(50 * 1024 * 1024))),
            wide_dispatch_share=float(env.get("GONGWEN_WIDE_DISPATCH_SHARE", "0.3")),
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
