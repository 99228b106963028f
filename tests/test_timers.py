"""Timers on working days: the leave reminder fires only once its working-day deadline has passed."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine import clock
from engine.calendar import WorkCalendar, years_to_enter
from engine.models import CalendarOverride, CalendarYear, Timer
from handlers.notifications.models import Notification
from tests.support import ready_for

SH = clock.SHANGHAI


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def _apply_for_leave(gongwen, org, when: str) -> int:
    gongwen_clock = clock.get_clock()
    gongwen_clock.set(at(when))
    applicant = org.person("lyg.drafter")
    instance = gongwen.runtime.start("leave", owning_unit_id=applicant.unit_id, initiator_id=applicant.id,
                                     data={"department_id": applicant.department_id})
    (task,) = ready_for(gongwen, applicant)
    gongwen.runtime.complete(task.id, applicant.id, {"kind": "personal", "start_date": "2026-10-12",
                                                     "end_date": "2026-10-12", "reason": "办事"})
    return instance


def _reminders(gongwen, person) -> list[str]:
    with gongwen.db.session() as s:
        return s.scalars(select(Notification.reason).where(Notification.person_id == person.id)).all()


def _tick_at(gongwen, when: str) -> int:
    clock.get_clock().set(at(when))
    return gongwen.runtime.fire_due_timers()


@pytest.mark.usefixtures("deployed")
def test_the_reminder_waits_out_the_national_day_holiday(gongwen, org):
    head = org.person("lyg.head")
    _apply_for_leave(gongwen, org, "2026-09-30 10:00")  # Wednesday; 1 October to 7 October are holidays
    (review,) = ready_for(gongwen, head)
    assert clock.local(review.due_at) == at("2026-10-08 10:00")
    with gongwen.db.session() as s:
        assert [clock.local(t) for t in s.scalars(select(Timer.due_at))] == [at("2026-10-08 10:00")]

    assert _tick_at(gongwen, "2026-10-01 10:01") == 0
    assert _tick_at(gongwen, "2026-10-08 09:59") == 0
    assert _reminders(gongwen, head) == []
    assert _tick_at(gongwen, "2026-10-08 10:01") == 1
    assert _reminders(gongwen, head) == ["请假审批超过一个工作日"]
    assert [t.id for t in ready_for(gongwen, head)] == [review.id]  # a reminder, not a cancellation
    with gongwen.db.session() as s:
        assert s.scalars(select(Timer)).all() == []
    assert _tick_at(gongwen, "2026-10-09 12:00") == 0


@pytest.mark.usefixtures("deployed")
def test_a_make_up_saturday_counts_as_a_working_day(gongwen, org):
    head = org.person("lyg.head")
    _apply_for_leave(gongwen, org, "2026-10-09 10:00")  # Friday; Saturday 10 October is a make-up workday
    assert _tick_at(gongwen, "2026-10-10 09:59") == 0
    assert _tick_at(gongwen, "2026-10-10 10:01") == 1
    assert _reminders(gongwen, head) == ["请假审批超过一个工作日"]


def test_working_hours_skip_the_evening_and_the_weekend():
    calendar = WorkCalendar(None)
    assert clock.local(calendar.add_working_hours(at("2026-11-20 16:50"), 2)) == at("2026-11-23 10:20")
    assert clock.local(calendar.add_working_hours(at("2026-11-23 11:30"), 1)) == at("2026-11-23 14:00")
    assert clock.local(calendar.add_working_hours(at("2026-11-23 07:00"), 1)) == at("2026-11-23 10:00")


def test_working_days_from_a_day_off_count_from_the_next_opening():
    calendar = WorkCalendar(None)
    assert clock.local(calendar.add_working_days(at("2026-10-03 15:00"), 1)) == at("2026-10-09 09:00")
    assert calendar.count_workdays(date(2026, 9, 28), date(2026, 10, 11)) == 6


def test_an_override_beats_the_package_and_an_unknown_year_still_computes(gongwen):
    with gongwen.db.write() as s:
        s.add(CalendarOverride(day=date(2026, 11, 24), is_workday=False, note="防汛调休"))
    with gongwen.db.session() as s:
        calendar = WorkCalendar(s)
        assert not calendar.is_workday(date(2026, 11, 24))
        assert clock.local(calendar.add_working_days(at("2026-11-23 10:00"), 1)) == at("2026-11-25 10:00")
        # 2027 is unknown to the package: weekends and the fixed-date holidays still count.
        assert not calendar.is_workday(date(2027, 1, 1)) and not calendar.is_workday(date(2027, 10, 2))
        assert not calendar.is_workday(date(2027, 1, 2)) and calendar.is_workday(date(2027, 1, 4))
        assert clock.local(calendar.add_working_days(at("2026-12-31 10:00"), 1)) == at("2027-01-04 10:00")
        assert years_to_enter(s, date(2026, 11, 29)) == [2027] and years_to_enter(s, date(2026, 6, 1)) == []
    with gongwen.db.write() as s:
        s.add(CalendarYear(year=2027, note="已录入"))
        s.add(CalendarOverride(day=date(2027, 2, 8), is_workday=False, note="春节"))
    with gongwen.db.session() as s:
        calendar = WorkCalendar(s)
        assert not calendar.is_workday(date(2027, 2, 8)) and calendar.is_workday(date(2027, 2, 9))
        assert years_to_enter(s, date(2026, 11, 29)) == []
        assert not calendar.is_workday(date(2027, 1, 9))
