"""tell(): every notice is recorded in the app and leaves on each registered channel exactly once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import background
from engine.background import deliver_outbox, periodic, run_periodic
from engine.models import Outbox, OutboxStatus
from handlers.notifications import tell as notifications
from handlers.notifications.models import Notification


class Pager:
    """A channel that keeps what it was asked to send."""

    name, label, default = "pager", "寻呼", True

    def __init__(self):
        self.sent: list[tuple[int, str, str]] = []

    def reaches(self, person):
        return True

    def send(self, job, session, notification, key):
        self.sent.append((notification.person_id, notification.text, key))


@pytest.fixture
def pager(monkeypatch):
    channel = Pager()
    monkeypatch.setitem(notifications.CHANNELS, channel.name, channel)
    return channel


def test_a_notice_is_kept_in_the_app_and_sent_once_on_every_channel(gongwen, org, pager):
    clerk, head = org.person("lyg.clerk"), org.person("lyg.head")
    with gongwen.db.write() as session:
        notifications.tell(session, [clerk.id, head.id, clerk.id], "请尽快签收", kind="test", key="t1")
    with gongwen.db.session() as session:
        kept = session.scalars(select(Notification.person_id).where(Notification.kind == "test")).all()
    assert sorted(kept) == sorted([clerk.id, head.id])  # one notice per person, however often named
    assert sorted((p, t) for p, t, _ in pager.sent) == sorted([(clerk.id, "请尽快签收"), (head.id, "请尽快签收")])
    keys = {p: k for p, _, k in pager.sent}
    assert keys[clerk.id] != keys[head.id]

    deliver_outbox(gongwen)
    assert len(pager.sent) == 2  # a delivered notice is never delivered again

    # A crash after sending but before the commit leaves the item pending: it goes out again under
    # the same idempotency key, so the gateway can drop the repeat.
    with gongwen.db.write() as session:
        for item in session.scalars(select(Outbox).where(Outbox.topic == "tell")):
            item.status = OutboxStatus.PENDING
    deliver_outbox(gongwen)
    assert sorted(k for _, _, k in pager.sent[2:]) == sorted(keys.values())


def test_a_step_that_rolls_back_tells_nobody(gongwen, org, pager):
    with pytest.raises(RuntimeError), gongwen.db.write() as session:
        notifications.tell(session, [org.person("lyg.clerk").id], "不应送达", kind="test", key="t2")
        raise RuntimeError("the step failed")
    with gongwen.db.session() as session:
        assert session.scalars(select(Notification).where(Notification.kind == "test")).all() == []
    assert pager.sent == []


def test_periodic_work_runs_on_its_schedule(gongwen, fixed_clock, monkeypatch):
    monkeypatch.setattr(background, "PERIODIC", {})
    runs = []

    @periodic(every=timedelta(hours=1))
    def count(job):
        runs.append(job)

    assert len(run_periodic(gongwen)) == 1 and len(runs) == 1
    fixed_clock.set(fixed_clock.now() + timedelta(minutes=59))
    assert run_periodic(gongwen) == [] and len(runs) == 1
    fixed_clock.set(fixed_clock.now() + timedelta(minutes=1))
    run_periodic(gongwen)
    assert len(runs) == 2 and runs[-1] is gongwen
