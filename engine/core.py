"""``Gongwen``: settings, database, runtime and background runner, wired together once."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from . import audit, clock
from .background import Background, CeleryBackground, InProcess
from .config import Settings
from .db import Database
from .files import FileStore
from .messages import pop_jobs
from .runtime import Runtime


class Gongwen:
    """One installation of Gongwen as seen from one process."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        if self.settings.fixed_now is not None:
            clock.set_clock(clock.FixedClock(self.settings.fixed_now))
        self.settings.files_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.database_url)
        self.files = FileStore(self.settings.files_dir)
        self.background: Background = (
            CeleryBackground(self) if self.settings.broker_url else InProcess(self)
        )
        self.runtime = Runtime(self)
        event.listen(self.db.sessions, "before_commit", audit.flush)
        event.listen(self.db.sessions, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.get_nested_transaction() is not None:
            return  # a savepoint was released; the work waits for the real commit
        for job in sorted(pop_jobs(session)):
            self.background.submit(job)

    def close(self) -> None:
        self.db.dispose()
