"""The one clock that timers, deadlines and audit times read.

Everything is stored in UTC and shown in Asia/Shanghai. Tests and demo environments
replace the clock (``GONGWEN_NOW`` or :func:`set_clock`); SpiffWorkflow's timer
module is pointed at the same clock, because the library reads ``datetime.now``
directly and has no hook of its own.
"""

from __future__ import annotations

import datetime as _dt
import threading
from zoneinfo import ZoneInfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = _dt.UTC


class Clock:
    """The real wall clock."""

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until moved; safe to move from another thread."""

    def __init__(self, at: _dt.datetime):
        self._lock = threading.Lock()
        self.set(at)

    def set(self, at: _dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        with self._lock:
            self._at = at.astimezone(UTC)

    def advance(self, delta: _dt.timedelta) -> None:
        with self._lock:
            self._at += delta

    def now(self) -> _dt.datetime:
        with self._lock:
            return self._at


_clock: Clock = Clock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> None:
    global _clock
    _clock = clock


def now() -> _dt.datetime:
    """The current time as an aware UTC datetime."""
    return _clock.now()


def local(at: _dt.datetime) -> _dt.datetime:
    """``at`` in Asia/Shanghai, the zone every person in Gongwen reads times in."""
    return at.astimezone(SHANGHAI)


def parse_local(text: str | None) -> _dt.datetime | None:
    """A date and time as a person types it (``2026-11-20T08:00``, what a datetime-local field sends),
    read as Beijing time, between the years 1990 and 2100; None if it is not one. A text with its own
    offset is refused too: people in Gongwen give times in the office's zone."""
    try:
        at = _dt.datetime.fromisoformat(text or "")
    except ValueError:
        return None
    if at.tzinfo is not None or not 1990 <= at.year <= 2100:
        return None
    return at.replace(tzinfo=SHANGHAI)


def local_today() -> _dt.date:
    return local(now()).date()


class _ClockDatetime(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        current = _clock.now()
        return current if tz is None else current.astimezone(tz)


_spiff_timer.datetime = _ClockDatetime
