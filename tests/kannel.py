"""A real Kannel for the tests: bearerbox, smsbox and Kannel's fake SMS centre, on free loopback ports.

The ``kannel`` fixture (a test module imports ``kannel_fixture``) writes a ``kannel.conf`` into a
temporary folder (a core group with its admin and smsbox ports, an ``smsc = fake`` group, an smsbox
group with its sendsms port, one sendsms user), starts ``bearerbox``, ``fakesmsc`` and ``smsbox`` as
the tests' own processes, waits until the fake SMS centre is connected and sendsms answers, and
stops them at the end. What the "phones" received is what fakesmsc printed: :meth:`Kannel.received`
reads and decodes it.

The fake SMS centre (``smsc_fake.c``) reports every text twice when asked (``dlr-mask``): type 8,
accepted by the SMSC, and then type 1, delivered to the phone. Gongwen's delivery-report route
is called by smsbox for each.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

import pytest

from tests.support import require

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
USER, PASSWORD = "gongwen", "kannel-test-口令"
START_TIMEOUT_S = 30.0

# fakesmsc prints each text it receives: "Got message 3: <sender receiver type data>", where a part of
# a long text reads "udh <UDH> data <bytes>" (URL-encoded, a space as +).
_GOT = re.compile(r"Got message \d+: <(\S*) (\S+) (\S+) (.*)>$")
UCS2_PART_BYTES = 134  # a full part of a long UCS-2 text: 67 characters


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Received:
    """One text as the SMS centre got it, a long one put together from its parts."""

    sender: str
    number: str
    text: str
    parts: int = 1


def _bytes(data: str) -> bytes:
    return unquote_to_bytes(data.replace("+", " "))


def _parse(lines: list[str]) -> list[Received]:
    """The texts in fakesmsc's output, in order of their first (or only) part."""
    texts: list[Received | None] = []
    pending: dict[tuple[str, str, int], tuple[int, dict[int, bytes]]] = {}  # (sender, number, ref) -> slot, parts
    for line in lines:
        if not (match := _GOT.search(line)):
            continue
        sender, number, kind, data = match.groups()
        if kind == "text":
            texts.append(Received(sender, number, data))
        elif kind.startswith("ucs"):
            texts.append(Received(sender, number, _bytes(data).decode("utf-16-be", "replace")))
        elif kind == "udh":
            udh_text, _, payload = data.partition(" data ")
            udh = _bytes(udh_text)
            if len(udh) >= 6 and udh[1] == 0x00:    # concatenation, 8-bit reference
                ref, total, seq = udh[3], udh[4], udh[5]
            elif len(udh) >= 7 and udh[1] == 0x08:  # concatenation, 16-bit reference
                ref, total, seq = udh[3] << 8 | udh[4], udh[5], udh[6]
            else:
                continue
            key = (sender, number, ref)
            if key not in pending:
                pending[key] = (len(texts), {})
                texts.append(None)
            slot, parts = pending[key]
            parts[seq] = _bytes(payload)
            if len(parts) == total:
                del pending[key]
                whole = b"".join(parts[i] for i in sorted(parts))
                # The part's line does not say its coding: a full first part of 134 bytes is UCS-2 (67
                # characters), a GSM text's part has 153 characters.
                ucs2 = len(parts[1]) == UCS2_PART_BYTES
                texts[slot] = Received(sender, number, whole.decode("utf-16-be" if ucs2 else "utf-8", "replace"),
                                       total)
        else:
            texts.append(Received(sender, number, _bytes(data).decode("utf-8", "replace")))
    return [t for t in texts if t is not None]


class Kannel:
    """A running Kannel; ``sendsms_url`` carries the sendsms user's credentials, as GONGWEN_SMS_URL may."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.admin_port, self.box_port, self.smsc_port, self.sendsms_port = (free_port() for _ in range(4))
        self.sendsms_url = f"http://{USER}:{quote(PASSWORD)}@127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"
        self.smsc_log = folder / "fakesmsc.log"
        self.config = folder / "kannel.conf"
        self._processes: list[subprocess.Popen] = []
        self._seen = 0  # bytes of fakesmsc's output that received() skips (forget())
        self._logs: list = []

    def _write_config(self) -> None:
        self.config.write_text(f"""
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = admin-test
smsbox-port = {self.box_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.box_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
global-sender = 10690000

group = sendsms-user
username = {USER}
password = {PASSWORD}
concatenation = true
max-messages = 10
""", encoding="utf-8")

    def _start(self, name: str, *command: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")  # a pipe nobody reads would fill up and stall it
        self._logs.append(log)
        self._processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, cwd=self.folder))

    def start(self) -> None:
        """Start the three processes and wait until a text can be sent."""
        self._write_config()
        self._start("bearerbox", BEARERBOX, "-v", "1", str(self.config))
        self._wait(lambda: self._connects(self.smsc_port), "bearerbox's fake SMSC port")
        # -m 0: fakesmsc sends no messages of its own; -v 0: it prints every message it receives.
        self._start("fakesmsc", FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-m", "0", "-v", "0",
                    "1 2 text unused")
        self._start("smsbox", SMSBOX, "-v", "1", str(self.config))
        self._wait(self._ready, "Kannel's sendsms and the fake SMSC")

    def _connects(self, port: int) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def _ready(self) -> bool:
        try:
            status = urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/status.txt?password=admin-test",
                                            timeout=2).read().decode("utf-8", "replace")
        except OSError:
            return False
        if "online" not in status.split("SMSC connections:")[-1] or "smsbox:" not in status:
            return False
        try:  # sendsms answers (a request without a recipient is refused, which proves it listens)
            urllib.request.urlopen(f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms", timeout=2)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} ended with {process.returncode}; see {self.folder}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} not ready after {START_TIMEOUT_S} s; see the logs in {self.folder}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop smsbox, fakesmsc and bearerbox (in that order), killing any that does not end."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        for log in self._logs:
            log.close()
        self._processes.clear()
        self._logs.clear()

    def received(self) -> list[Received]:
        """The texts the fake SMS centre received since :meth:`forget` (whole: long ones once all parts are in)."""
        with self.smsc_log.open("rb") as log:
            log.seek(self._seen)
            return _parse(log.read().decode("utf-8", "replace").splitlines())

    def forget(self) -> None:
        """Start afresh: texts received so far no longer count (each test sees its own).

        A Kannel process that has died since (the log says why) is restarted with the others, with a
        warning: one test's crash of Kannel does not fail every test after it.
        """
        if any(p.poll() is not None for p in self._processes):
            died = [Path(p.args[0]).name for p in self._processes if p.poll() is not None]
            warnings.warn(f"Kannel restarted: {', '.join(died)} had ended; see the logs in {self.folder}",
                          stacklevel=2)
            self.stop()
            self.start()
        self._seen = self.smsc_log.stat().st_size

    def wait_for(self, number: str, count: int = 1, timeout: float = 20.0) -> list[Received]:
        """The texts to ``number``, once there are at least ``count`` (or AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.received() if r.number == number]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} texts to {number} arrived at the fake SMSC "
                                     f"in {timeout} s; logs in {self.folder}")
            time.sleep(0.05)


def kannel_installed() -> bool:
    """Whether Debian's kannel and kannel-extras (for fakesmsc) are installed."""
    return all(os.access(p, os.X_OK) for p in (BEARERBOX, SMSBOX, FAKESMSC))


@pytest.fixture(scope="module", name="kannel")
def kannel_fixture(tmp_path_factory) -> Iterator[Kannel]:
    """A running Kannel with a fake SMS centre, for the tests of one module."""
    require(kannel_installed(), "Kannel (Debian packages kannel and kannel-extras)")
    gateway = Kannel(tmp_path_factory.mktemp("kannel"))
    try:
        gateway.start()
        yield gateway
    finally:
        gateway.stop()
