"""The notices' clocks: sign-for windows outside office hours, and the duty watch."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import clock
from engine.calendar import WorkCalendar
from engine.inbox import record_look
from handlers.documents.models import Urgency
from handlers.exchange.deadlines import sign_for_window
from handlers.exchange.watch import watch
from handlers.notifications.models import Notification
from tests.outgoing_support import send

SH = clock.SHANGHAI
pytestmark = pytest.mark.usefixtures("deployed")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def local(moment: datetime) -> str:
    return clock.local(moment).strftime("%a %H:%M")


def test_an_urgent_document_sent_on_a_friday_evening_is_due_two_hours_later(gongwen):
    with gongwen.db.session() as session:
        window = sign_for_window(session, WorkCalendar(session), Urgency.URGENT, at("2026-12-04T20:00"))
    assert clock.local(window.due) == at("2026-12-04T22:00")  # not Monday 09:30
    assert window.after_hours
    assert clock.local(window.remind_at) == at("2026-12-04T21:00")
    assert window.remind_cycle.startswith("R1/")  # one reminder: the next hour is the deadline itself
    assert clock.local(window.escalate_at) == at("2026-12-04T23:00")  # the 分管领导, an hour after the deadline


def test_a_normal_document_sent_at_night_counts_from_the_next_working_morning(gongwen):
    with gongwen.db.session() as session:
        calendar = WorkCalendar(session)
        friday = sign_for_window(session, calendar, Urgency.NORMAL, at("2026-12-04T20:00"))
        tuesday_night = sign_for_window(session, calendar, Urgency.NORMAL, at("2026-12-08T23:40"))
        afternoon = sign_for_window(session, calendar, Urgency.NORMAL, at("2026-12-07T16:50"))
    # Counted from Monday 09:00: due a working day later; reminded half-way in office time, not at night.
    assert (local(friday.due), local(friday.remind_at)) == ("Tue 09:00", "Mon 14:00")
    assert (local(tuesday_night.due), local(tuesday_night.remind_at)) == ("Thu 09:00", "Wed 14:00")
    # In office hours nothing moves; the reminder still falls in office time (next morning, not 04:50).
    assert (local(afternoon.due), local(afternoon.remind_at)) == ("Tue 16:50", "Tue 11:50")


def test_an_extra_urgent_document_keeps_its_shorter_clock_at_night(gongwen):
    with gongwen.db.session() as session:
        window = sign_for_window(session, WorkCalendar(session), Urgency.EXTRA_URGENT, at("2026-12-05T03:10"))
    assert clock.local(window.due) == at("2026-12-05T03:40")  # half an hour, Saturday night included


def told(gongwen, login_id: int, kind: str) -> list[Notification]:
    with gongwen.db.session() as session:
        return session.scalars(select(Notification).where(Notification.person_id == login_id,
                                                          Notification.kind == kind)).all()


def run_watch(gongwen, fixed_clock, when: str) -> dict:
    fixed_clock.set(at(when))
    with gongwen.db.write() as session:
        return watch(session, WorkCalendar(session))


def test_a_clerk_who_has_not_looked_for_two_working_hours_while_a_document_waits_is_texted(gongwen, sealed,
                                                                                         fixed_clock):
    org = sealed
    clerk = org.person("dh.clerk")
    fixed_clock.set(at("2026-12-07T09:00"))  # Monday
    send(gongwen, org, main_to=("donghai_office",))
    assert run_watch(gongwen, fixed_clock, "2026-12-07T10:30")["looks"] == 0  # waited 1.5 working hours
    assert run_watch(gongwen, fixed_clock, "2026-12-07T11:05")["looks"] == 1
    (note,) = told(gongwen, clerk.id, "duty_watch")
    assert note.urgent and "未查看待办" in note.text
    assert run_watch(gongwen, fixed_clock, "2026-12-07T11:15")["looks"] == 0  # said once, not every round

    # The clerk looks at the inbox at 14:00: nothing more until two working hours after that.
    fixed_clock.set(at("2026-12-07T14:00"))
    with gongwen.db.write() as session:
        record_look(session, clerk.id, clerk.unit_id)
    assert run_watch(gongwen, fixed_clock, "2026-12-07T15:50")["looks"] == 0
    assert run_watch(gongwen, fixed_clock, "2026-12-07T16:05")["looks"] == 1
    # Outside office hours the look rule sleeps (urgent documents have their own texts).
    assert run_watch(gongwen, fixed_clock, "2026-12-07T21:00")["looks"] == 0


def test_a_document_left_unsigned_at_the_end_of_a_morning_texts_the_duty_staff(gongwen, sealed, fixed_clock):
    org = sealed
    fixed_clock.set(at("2026-12-07T09:10"))
    send(gongwen, org, main_to=("guanyun_office",))
    fixed_clock.set(at("2026-12-07T11:30"))
    send(gongwen, org, main_to=("guannan_office",))  # arrived too late to be due by noon
    assert run_watch(gongwen, fixed_clock, "2026-12-07T11:55")["half_day"] == 0  # the morning is not over
    assert run_watch(gongwen, fixed_clock, "2026-12-07T12:05")["half_day"] == 1
    assert told(gongwen, org.person("gy.clerk").id, "half_day_watch")
    assert not told(gongwen, org.person("gn.clerk").id, "half_day_watch")
    assert run_watch(gongwen, fixed_clock, "2026-12-07T12:20")["half_day"] == 0  # once per half-day
    assert run_watch(gongwen, fixed_clock, "2026-12-07T17:40")["half_day"] == 2  # the afternoon: both units
