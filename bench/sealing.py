"""Benchmark of typesetting, sealing and verifying one official document, alone and in the outgoing process.

Run it from the repository root::

    .venv/bin/python bench/sealing.py            # full run, under a minute
    .venv/bin/python bench/sealing.py --quick    # a smaller run, for trying changes

On a temporary SQLite database with the demo organisation, the city office's seal is issued
the way the app issues it (``handlers.seals.issue_seal``: root CA, the provincial office's
issuing CA, the seal's key, certificate and drawn image); the signing material and the
``Verifier`` come from the register as the app gets them (``seal_signing_material``,
``handlers.seals.verifier``). It then measures, median per document after a warm-up:

1. render: ``handlers.typesetting.redhead.render`` of a one-page notice of 连云港市人民政府办公室
   (mark, number, title, 主送, four body paragraphs, signature and date, 抄送, 印发) — target ≤ 10 ms;
2. seal: ``handlers.seals.pades.sign_pdf`` of that PDF with the seal in the renderer's seal box,
   its RFC 3161 timestamp from Gongwen's TSA (in process) and the certificates and CRLs in the DSS
   (PAdES B-LT), as ``apply_seals`` does — target ≤ 25 ms;
3. verify: one ``Verifier`` (built once, as the app does per CRL publication) checking the sealed
   PDF, its timestamp included, at the fixed clock's time, with the expected signer — target ≤ 12 ms;
   then the archive timestamp (the 归档章 as a visible document timestamp, B-LTA) — target ≤ 25 ms —
   and the verification of the archived copy;
4. documents per second of render + seal + verify in a loop, one process;
5. the same work inside the real process (workflows/outgoing.bpmn): documents are drafted and
   reviewed first (not timed), then the completions of 签发 (record sign-off, number, typeset),
   校对 and 用印 (apply_seals, prepare_dispatch, dispatch, and the in-process delivery to one
   unit: its incoming instance and receipt) are timed with ``gongwen.runtime.complete``.

The temporary database and files are removed even on error. The last line sums up the figures
(docs_per_s is the render + seal + verify loop; the workflow figure is printed above it)::

    RESULT render_ms=... seal_ms=... verify_ms=... archive_ms=... docs_per_s=...
"""

# Run as a script, bench/ would be first on sys.path; the path is fixed before the project's imports
# (hence the E402 exemption) so that the repository root comes first, as for bench/engine.py.
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import argparse
import dataclasses
import datetime
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from bench.common import (
    configure_process,
    exit_on_sigterm,
    gongwen_on,
    median,
    ms,
    percentile,
    ready_task,
    seed,
    sqlite_database,
)
from engine import clock
from engine.core import Gongwen
from engine.models import Task, TaskState
from handlers.archive.archiving import stamp_picture
from handlers.documents.drafting import start_outgoing
from handlers.documents.models import DocStatus, Document
from handlers.documents.typesetting.redhead import RedHeadDocument, RenderedPdf, render
from handlers.exchange.models import Receipt
from handlers.seals.pades import LongTermMaterial, archive_timestamp, sign_pdf
from handlers.seals.register import active_seal, long_term_material, seal_signing_material, timestamper, verifier
from handlers.seals.tsa import LocalTimeStamper
from handlers.seals.validation import Verifier
from web import demo

ISSUER = "连云港市人民政府办公室"
RECIPIENT = "donghai_office"
TITLE = "关于做好元旦春节期间安全生产工作的通知"
BODY = ["经市政府同意，现就做好节日期间安全生产工作通知如下。", "请各地各部门于12月31日前完成隐患排查并报送结果。"]
CC = "市委办公室，市人大常委会办公室，市政协办公室"
# One page of text as GB/T 9704 lays it out (a one-line title, two lines of body, the seal under the
# date), then the 版记 on the last even page: two pages. LONGER (a two-line title, four paragraphs)
# takes more text.
NOTICE = RedHeadDocument(
    issuer_marks=[f"{ISSUER}文件"],
    doc_number="连政办发〔2026〕107号",
    title=TITLE,
    main_to="各县区人民政府，市各委办局，市各直属单位",
    body=BODY,
    signing_organs=[ISSUER],
    date=datetime.date(2026, 11, 23),
    cc=CC,
    printed_by=ISSUER,
    printed_on=datetime.date(2026, 11, 23),
)
LONGER = dataclasses.replace(NOTICE, title=f"{ISSUER}关于做好冬季安全生产工作的通知", body=[
    "为做好今冬明春安全生产工作，经市政府同意，现将有关事项通知如下。",
    "一、压实安全责任。各地各部门要严格落实安全生产责任制。",
    "二、开展隐患排查。聚焦重点领域，于12月底前完成全覆盖排查。",
    "三、按时报送情况。请于2027年1月10日前报送市应急管理局。",
])
DRAFT_FORM = {
    "doc_type": "notice", "direction": "downward", "urgency": "normal", "classification": "非密",
    "title": TITLE, "body": "\n".join(BODY),
}
TARGETS_MS = {"render": 10.0, "seal": 25.0, "verify": 12.0, "archive": 25.0}
ARCHIVE_STAMP = stamp_picture([("全宗号", "Z001"), ("年度", "2026"), ("件号", "0001"), ("机构", "BGS"),
                               ("保管期限", "永久"), ("页数", "1")])


@dataclass(frozen=True)
class Sizes:
    warm_up: int
    iterations: int  # per measured operation
    loop_documents: int  # render + seal + verify
    workflow_documents: int  # through the outgoing process


FULL = Sizes(warm_up=20, iterations=200, loop_documents=200, workflow_documents=40)
QUICK = Sizes(warm_up=5, iterations=40, loop_documents=40, workflow_documents=8)


@dataclass(frozen=True)
class SealMaterial:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    image_pdf: bytes
    timestamper: LocalTimeStamper
    long_term: LongTermMaterial


# -- the three operations ---------------------------------------------------------------------------------

def seal(rendered: RenderedPdf, material: SealMaterial) -> bytes:
    """The rendered PDF with the seal in its first seal box, its timestamp and the DSS, as apply_seals does."""
    box = rendered.seal_boxes[0]
    return sign_pdf(rendered.pdf, key=material.key, certificate=material.certificate, chain=material.chain,
                    seal_pdf=material.image_pdf, page=box.page, box=box.box, field_name="Seal-1",
                    reason="公文用印", location=ISSUER, timestamper=material.timestamper,
                    long_term=material.long_term)


def archive(sealed: bytes, material: SealMaterial) -> bytes:
    """The archived copy: the 归档章 as a visible archive timestamp (B-LTA), as archive_document does."""
    return archive_timestamp(sealed, timestamper=material.timestamper, stamp_pdf=ARCHIVE_STAMP, page=0,
                             box=(250.0, 770.0, 386.0, 804.0), field_name="Archive-1", long_term=material.long_term)


def check_verified(checker: Verifier, pdf: bytes) -> None:
    report = checker.verify(pdf, [ISSUER], now=clock.now())
    if not report.ok:
        raise RuntimeError(f"the sealed PDF does not verify: {report.reason}")


def measure(name: str, fn: Callable[[], Any], sizes: Sizes) -> float:
    """Median ms of ``fn`` after a warm-up; prints the line of the report."""
    for _ in range(sizes.warm_up):
        fn()
    durations = [timed_once(fn) for _ in range(sizes.iterations)]
    result = ms(median(durations))
    verdict = "met" if result <= TARGETS_MS[name] else "MISSED"
    print(f"  {name + ':':8} median {result:6.2f} ms, p95 {ms(percentile(durations, 95)):6.2f} ms over "
          f"{len(durations)} runs (target ≤ {TARGETS_MS[name]:.0f} ms: {verdict})")
    return result


def loop_documents_per_s(material: SealMaterial, checker: Verifier, count: int) -> float:
    began = time.perf_counter()
    for _ in range(count):
        check_verified(checker, seal(render(NOTICE), material))
    per_s = count / (time.perf_counter() - began)
    print(f"  loop:    render + seal + verify of {count} documents, one process: {per_s:.1f} documents/s")
    return per_s


# -- the register -----------------------------------------------------------------------------------------

def issue_city_seal(gongwen: Gongwen, org: demo.DemoOrg) -> tuple[SealMaterial, Verifier]:
    """Issue the city office's seal the app's way; its signing material and a Verifier from the register."""
    with gongwen.db.write() as session:
        demo.issue_seals(session, gongwen.settings, org, ["city_office"])
    with gongwen.db.write() as session:
        sealed_by = active_seal(session, session.get(type(org.unit("city_office")), org.unit("city_office").id))
        key, certificate, chain = seal_signing_material(session, gongwen.settings, sealed_by)
        material = SealMaterial(key, certificate, chain, sealed_by.image_pdf, timestamper(session, gongwen.settings),
                                long_term_material(session))
        checker = verifier(session)
    return material, checker


# -- the outgoing process ---------------------------------------------------------------------------------

def complete(gongwen: Gongwen, instance_id: int, name: str, person_id: int, data: dict) -> float:
    """Complete the one ready task ``name`` of the instance; returns the seconds the completion took."""
    task_id = ready_task(gongwen, instance_id, name)
    began = time.perf_counter()
    gongwen.runtime.complete(task_id, person_id, data)
    return time.perf_counter() - began


def draft_and_review(gongwen: Gongwen, org: demo.DemoOrg) -> Document:
    """A new notice to one county office, drafted and through both reviews: waiting for sign-off."""
    drafter = org.person("lyg.drafter")
    with gongwen.db.write() as session:
        document = start_outgoing(gongwen.runtime, session, session.get(type(drafter), drafter.id))
    instance = document.instance_id
    complete(gongwen, instance, "拟稿", drafter.id, {**DRAFT_FORM, "main_to": [org.unit(RECIPIENT).id]})
    complete(gongwen, instance, "部门审核", org.person("lyg.head").id, {"decision": "approve"})
    complete(gongwen, instance, "办公室核稿", org.person("lyg.reviewer").id, {"decision": "approve"})
    return document


def sign_off_to_dispatch(gongwen: Gongwen, org: demo.DemoOrg, instance: int) -> dict[str, float]:
    """The timed steps: sign-off (numbering, typesetting), proofreading, sealing and dispatch."""
    return {
        "签发 (typeset)": complete(gongwen, instance, "签发", org.person("lyg.signer").id,
                                 {"decision": "approve", "opinion": "同意印发"}),
        "校对": complete(gongwen, instance, "校对", org.person("lyg.drafter").id, {"decision": "ok"}),
        "用印 (seal, dispatch)": complete(gongwen, instance, "用印", org.person("lyg.sealer").id, {"confirm": True}),
    }


def check_dispatched(gongwen: Gongwen, document_id: int, checker: Verifier) -> None:
    """Dispatched, verifiable, and the recipient has its receipt and its clerk's 签收 task."""
    with gongwen.db.session() as session:
        document = session.get(Document, document_id)
        receipts = session.scalar(select(func.count()).select_from(Receipt).where(Receipt.document_id == document_id))
        tasks = session.scalar(
            select(func.count()).select_from(Task).join(Receipt, Receipt.incoming_instance_id == Task.instance_id)
            .where(Receipt.document_id == document_id, Task.name == "签收", Task.state == TaskState.READY))
        status, sealed = document.status, document.sealed_sha256
    if status != DocStatus.DISPATCHED or receipts != 1 or tasks != 1:
        raise RuntimeError(f"document {document_id}: status {status}, {receipts} receipts, {tasks} 签收 tasks; "
                           f"expected dispatched, 1 and 1")
    check_verified(checker, gongwen.files.get(sealed))


def workflow_documents_per_s(gongwen: Gongwen, org: demo.DemoOrg, checker: Verifier, sizes: Sizes) -> float:
    steps: dict[str, list[float]] = {}
    for i in range(sizes.warm_up // 4 + sizes.workflow_documents):
        document = draft_and_review(gongwen, org)
        durations = sign_off_to_dispatch(gongwen, org, document.instance_id)
        check_dispatched(gongwen, document.id, checker)
        if i >= sizes.warm_up // 4:
            for step, seconds in durations.items():
                steps.setdefault(step, []).append(seconds)
    total = sum(sum(durations) for durations in steps.values())
    per_s = sizes.workflow_documents / total
    medians = ", ".join(f"{step} {ms(median(durations)):.1f} ms" for step, durations in steps.items())
    print(f"  workflow: {sizes.workflow_documents} documents from sign-off to dispatch (SQLite), medians: {medians}")
    print(f"  workflow: {per_s:.1f} documents/s (sum of the three completions per document: "
          f"{ms(total / sizes.workflow_documents):.1f} ms)")
    return per_s


# -- main -------------------------------------------------------------------------------------------------

def bench_operations(material: SealMaterial, checker: Verifier, sizes: Sizes) -> tuple[float, ...]:
    """Median ms of render, seal, verify and archive of the notice."""
    rendered = render(NOTICE)
    sealed = seal(rendered, material)
    check_verified(checker, sealed)
    if rendered.pages != 2 or rendered.seal_boxes[0].page != 0:
        raise RuntimeError(f"the notice takes {rendered.pages} pages, its seal on page "
                           f"{rendered.seal_boxes[0].page + 1}; expected text and seal on page 1, the 版记 on 2")
    print(f"  notice:  2 pages (text, 版记), {len(rendered.pdf) // 1024} KiB; sealed {len(sealed) // 1024} KiB")
    render_ms = measure("render", lambda: render(NOTICE), sizes)
    seal_ms = measure("seal", lambda: seal(rendered, material), sizes)
    verify_ms = measure("verify", lambda: check_verified(checker, sealed), sizes)
    archived = archive(sealed, material)
    check_verified(checker, archived)
    archive_ms = measure("archive", lambda: archive(sealed, material), sizes)
    verify_archived = [timed_once(lambda: check_verified(checker, archived)) for _ in range(sizes.iterations // 2)]
    print(f"  (verify of the archived copy, seal and archive timestamp: median {ms(median(verify_archived)):.2f} ms; "
          f"archive timestamp {archive_ms:.2f} ms)")
    longer = [timed_once(lambda: render(LONGER)) for _ in range(sizes.iterations // 2)]
    print(f"  (render of a longer notice, two-line title and four paragraphs, {render(LONGER).pages} pages: "
          f"median {ms(median(longer)):.2f} ms)")
    return render_ms, seal_ms, verify_ms, archive_ms


def timed_once(fn: Callable[[], Any]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="fewer iterations and documents")
    options = arguments.parse_args()
    sizes = QUICK if options.quick else FULL
    exit_on_sigterm()
    configure_process()
    began = time.perf_counter()
    print(f"Gongwen sealing benchmark ({'quick' if options.quick else 'full'} run)")
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as workdir, sqlite_database(Path(workdir)) as url, \
            gongwen_on(url, Path(workdir) / "files") as gongwen:
        org = seed(gongwen)
        material, checker = issue_city_seal(gongwen, org)
        print(f"  seal of {ISSUER} issued with handlers.seals.issue_seal on a temporary SQLite database")
        render_ms, seal_ms, verify_ms, archive_ms = bench_operations(material, checker, sizes)
        workflow_documents_per_s(gongwen, org, checker, sizes)
        docs_per_s = loop_documents_per_s(material, checker, sizes.loop_documents)
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    print(f"RESULT render_ms={render_ms:.2f} seal_ms={seal_ms:.2f} verify_ms={verify_ms:.2f} "
          f"archive_ms={archive_ms:.2f} docs_per_s={docs_per_s:.1f}")


if __name__ == "__main__":
    main()
