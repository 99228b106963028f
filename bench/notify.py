"""Benchmark of reaching people: texts a second through a real Kannel, and arrivals pushed to open pages.

Run it from the repository root::

    .venv/bin/python bench/notify.py                  # 500 texts and 2,000 open pages, SQLite
    .venv/bin/python bench/notify.py --postgresql     # on PostgreSQL too
    .venv/bin/python bench/notify.py --count 2000 --clients 500

It starts Kannel as the tests do (tests/kannel.py: bearerbox, smsbox and the fake SMS centre
``fakesmsc`` on free loopback ports) and, on a temporary database with the demo organisation,
writes ``--count`` texts with ``text_number`` in one transaction (one ``TextMessage`` and one outbox
item each, to the duty staff of the demo's units in turn). Then, timed, ``engine.background.
deliver_outbox`` sends them, one outbox transaction and one sendsms request each, as a worker
would; the clock stops when fakesmsc has received the last of them. Delivery reports are not asked
for (no ``dlr-url``): the figure is Gongwen's and Kannel's sending, not a web server's.

The push half is ``bench/push.py`` (``measure_push``): a real ``gongwen serve`` with 2,000 open
event streams, a dispatch to their 1,000 units, the time from its commits to each page's event,
and the server's CPU while the streams sit idle.

Prints the figures and ends with::

    RESULT sms_per_s=... push_p95_s=... idle_cpu_pct=...
"""

# ruff: noqa: E402  (the path is fixed before the project's imports, as in bench/dispatch.py)

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import func, select

from bench.common import configure_process, exit_on_sigterm, gongwen_on, postgres_database, sqlite_database
from bench.push import measure_push
from engine.background import deliver_outbox
from engine.messages import pop_jobs
from handlers.notifications.models import TextMessage, TextStatus
from handlers.notifications.sms import text_number
from tests.kannel import Kannel, kannel_installed
from web import demo

TEXT = "【公文系统】特急公文《关于做好寒潮天气防范应对工作的紧急通知》已到达，请立即登录签收。"
ARRIVAL_TIMEOUT_S = 120.0


def queue_texts(gongwen, count: int) -> float:
    """Write ``count`` urgent texts in one transaction, nothing sent yet; returns the seconds it took."""
    began = time.perf_counter()
    with gongwen.db.write() as session:
        org = demo.seed(session)
        units = [u.id for u in org.units.values()]
        for i in range(count):
            text_number(session, number=f"139{i:08d}", text=TEXT, unit_id=units[i % len(units)],
                        kind="urgent_arrival", key=f"bench:{i}", urgent=True)
        pop_jobs(session)  # the timed delivery below sends them, not the after-commit runner
    return time.perf_counter() - began


def measure_sms(count: int = 500, database: Callable[[], AbstractContextManager[str]] = sqlite_database) -> dict:
    """Texts a second through Kannel: ``count`` texts queued, sent by ``deliver_outbox``, counted at fakesmsc.

    Returns ``sms_per_s`` (texts over the seconds from the start of the delivery to the last arrival at
    the SMS centre), ``deliver_s`` (until ``deliver_outbox`` had handed every text to Kannel),
    ``arrive_s``, ``queue_s`` (writing the texts) and ``count``.
    """
    if not kannel_installed():
        raise SystemExit("Kannel is missing: apt-get install kannel kannel-extras")
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_sms_") as workdir:
        kannel = Kannel(Path(workdir))
        kannel.start()
        try:
            with database() as url, gongwen_on(url, Path(workdir) / "files", options={"public_url": ""},
                                              environ={"GONGWEN_SMS_URL": kannel.sendsms_url}) as gongwen:
                queued = queue_texts(gongwen, count)
                began = time.perf_counter()
                handled = deliver_outbox(gongwen, limit=count + 10)
                delivered = time.perf_counter() - began
                deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
                while len(kannel.received()) < count:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{len(kannel.received())} of {count} texts reached fakesmsc")
                    time.sleep(0.01)
                arrived = time.perf_counter() - began
                with gongwen.db.session() as session:
                    sent = session.scalar(select(func.count()).select_from(TextMessage)
                                          .where(TextMessage.status == TextStatus.SENT))
                if handled != count or sent != count:
                    raise RuntimeError(f"{handled} outbox items handled and {sent} texts sent, expected {count}")
        finally:
            kannel.stop()
    return {"count": count, "queue_s": queued, "deliver_s": delivered, "arrive_s": arrived,
            "sms_per_s": count / arrived}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=500, help="texts to send (default 500)")
    parser.add_argument("--postgresql", action="store_true", help="also on a temporary PostgreSQL database")
    parser.add_argument("--clients", type=int, default=2000, help="open pages for the push half (default 2000)")
    args = parser.parse_args()
    configure_process()
    exit_on_sigterm()
    backends = {"SQLite": sqlite_database} | ({"PostgreSQL": postgres_database} if args.postgresql else {})
    results = {}
    for name, database in backends.items():
        figures = results[name] = measure_sms(args.count, database)
        print(f"{name}: {figures['count']} texts written in {figures['queue_s']:.2f} s; deliver_outbox handed "
              f"them to Kannel in {figures['deliver_s']:.2f} s; the last reached the SMS centre after "
              f"{figures['arrive_s']:.2f} s: {figures['sms_per_s']:.0f} texts/s")
    pushed = [measure_push(backend, args.clients) for backend in ("sqlite", "postgresql")[:len(backends)]]
    print(f"RESULT sms_per_s={results['SQLite']['sms_per_s']:.0f}"
          + (f" pg_sms_per_s={results['PostgreSQL']['sms_per_s']:.0f}" if "PostgreSQL" in results else "")
          + f" push_p95_s={max(p['push_p95_s'] for p in pushed):.3f}"
          + f" idle_cpu_pct={max(p['idle_cpu_pct'] for p in pushed):.1f}")


if __name__ == "__main__":
    main()
