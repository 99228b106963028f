"""A bounded schemathesis run against the REST API's OpenAPI document: no request may get a 5xx.

Run it from the repository root::

    .venv/bin/python bench/api_fuzz.py                # the default size, a few thousand calls
    .venv/bin/python bench/api_fuzz.py --cases 10     # a smaller run, for trying changes
    .venv/bin/python bench/api_fuzz.py --seed 1234    # the same cases as a run that printed this seed

On a temporary SQLite database (``--postgresql``: a PostgreSQL one, as bench/web.py makes) holding
the demo organisation, the deployed workflows/ folder, every issuing unit's seal and the five demo
documents (``web.demo_documents.seed_documents``: one being drafted, one awaiting sign-off, one
dispatched, one overdue, one archived; so there are sealed PDFs, receipts and ready tasks to reach),
an in-process app (``web.create_app``) answers. Bearer tokens come from ``POST /api/v1/auth/token``
for a drafter (lyg.drafter), a clerk of another unit (dh.clerk) and the system administrator
(sysadmin). The OpenAPI document is loaded from the app
(``schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)``) and every operation in it is called
with each token and with none, through schemathesis's WSGI transport (``Case.call``), in five phases:

1. coverage: schemathesis's deterministic cases for the operation (``iter_coverage_cases``, positive
   and negative: the largest id and the one past it, wrong types, missing or unexpected properties, a missing
   body, wrong Content-Types, undocumented methods), all of them;
2. positive: ``--cases`` cases drawn from ``APIOperation.as_strategy(GenerationMode.POSITIVE)``
   (data that fits the document), by Hypothesis with ``max_examples`` bounding the count;
3. negative: ``--cases`` cases from ``as_strategy(GenerationMode.NEGATIVE)`` (data that does not);
4. known ids: for an operation with an id in its path, ``--cases`` positive cases whose id is one that
   exists (any document, any task, ready or done; half of them the caller's own ready tasks, if any);
5. forms: the document describes a task's completion body as any object, since each task has its own
   form, whose JSON Schema ``GET /api/v1/tasks/{id}`` publishes. So for each task in each caller's
   inbox at that point, the completion is described again with that schema as its body
   (``schemathesis.openapi.from_dict`` of the app's document, changed so) and ``--cases`` positive and
   ``--cases`` negative bodies are sent: ids of any size in 主送 or 主办部门, texts at and past their
   limits, values outside the enums. A body that passes completes the task, as it would for a client.

Each response goes through schemathesis's ``not_a_server_error`` check; a status of 500 or more, a
failed check or an exception escaping the app is a server error, recorded with the request (as curl,
the token redacted) and what came back. A refusal (4xx) that is not JSON with a message in Chinese
is counted and shown, but is not an error. The rate limiter's counters are cleared before each
phase, so that the limits still answer 429 within a phase but do not hide the views behind them for
the rest of the run. Calls change the database as any client's would (a form that a body fits is
completed); the database is thrown away afterwards.

It prints the calls and answers per operation and every server error, and ends with::

    RESULT api_cases=<calls made> server_errors=<calls answered 5xx>

and exits 1 if there was any. Hypothesis's seed is random unless ``--seed`` is given and is printed,
so a failing run can be repeated. ``tests/test_api_fuzz.py`` runs a smaller, fixed-seed version of the
same on both database backends.
"""

# Run as a script, bench/ would be first on sys.path (and bench/web.py would shadow the ``web``
# package); the path is fixed before the project's imports, hence the E402 exemption.
# ruff: noqa: E402

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    sys.path.insert(0, str(ROOT))

import argparse
import copy
import random
import re
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from sqlalchemy import select

from bench.common import configure_process, exit_on_sigterm, gongwen_on, postgres_database, seed, sqlite_database
from engine import inbox, organisation
from engine.core import Gongwen
from engine.models import Task
from handlers.documents.models import Document
from web import create_app, demo
from web.demo_documents import seed_documents

OPENAPI_PATH = "/api/v1/openapi.json"
# Who calls: nobody, a drafter of the city office, a clerk of another unit, the system administrator.
IDENTITIES: tuple[str | None, ...] = (None, "lyg.drafter", "dh.clerk", "sysadmin")
DEFAULT_CASES = 50  # per operation, person and generated phase (per task for the forms): about 5,000 calls
PHASES = ("coverage", "positive", "negative", "known ids", "forms")
COMPLETE = "/api/v1/tasks/{task_id}/complete"
FORMS_LABEL = f"POST {COMPLETE} (forms)"


@dataclass
class ServerError:
    """A call the API answered with a 5xx (or that raised inside the app)."""

    operation: str
    identity: str
    phase: str
    status: int | None  # None: the app raised
    request: str  # a curl command, the token redacted
    detail: str  # the answer's start, the failed check, or the traceback

    def cause(self) -> str:
        """The detail's last line that names an exception (or its first line): what went wrong, in short."""
        lines = [line.strip() for line in self.detail.strip().splitlines() if line.strip()]
        named = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Failure\w*)\b", line)]
        return (named[-1] if named else lines[0] if lines else f"HTTP {self.status}")[:200]

    def describe(self) -> str:
        status = "an exception (HTTP 500)" if self.status is None else f"HTTP {self.status}"
        return (f"{self.operation} as {self.identity} ({self.phase}): {status}\n"
                f"    {self.request}\n    " + self.detail.strip().replace("\n", "\n    "))


@dataclass
class FuzzReport:
    seed: int
    cases: int
    calls: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)  # operation -> status -> calls
    succeeded: Counter[str] = field(default_factory=Counter)  # operation -> 2xx answers to its own method
    server_errors: list[ServerError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # phases that could generate nothing
    # status -> refusals (4xx) whose answer is not JSON with a message in Chinese: told, not failed
    unexplained: Counter[int] = field(default_factory=Counter)
    unexplained_example: dict[int, str] = field(default_factory=dict)  # status -> the first such request
    seconds: float = 0.0

    def summary(self) -> str:
        width = max(len(label) for label in self.statuses)
        lines = [f"  {'operation':<{width}}  calls  answers"]
        for label, statuses in self.statuses.items():
            answers = ", ".join(f"{status}×{n}" for status, n in sorted(statuses.items()))
            lines.append(f"  {label:<{width}}  {sum(statuses.values()):>5}  {answers}")
        return "\n".join(lines)

    def failure_message(self, examples: int = 20) -> str:
        """The server errors grouped by operation and cause, with the first request of each group."""
        groups: dict[tuple[str, str], list[ServerError]] = {}
        for error in self.server_errors:
            groups.setdefault((error.operation, error.cause()), []).append(error)
        lines = [f"{len(self.server_errors)} of {self.calls} calls got a server error (hypothesis seed {self.seed}), "
                 f"{len(groups)} kinds:"]
        for (operation, cause), errors in groups.items():
            lines.append(f"- {len(errors)}× {operation}: {cause}")
        lines.append("The first of each kind:")
        lines += [errors[0].describe() for errors in list(groups.values())[:examples]]
        return "\n".join(lines)


# -- the data to fuzz ---------------------------------------------------------------------------------------

def prepare(gongwen: Gongwen, org: demo.DemoOrg) -> None:
    """Seals for every issuing unit and the five demo documents, on a Gongwen seeded and deployed already."""
    seed_documents(gongwen, org)  # issues the seals itself


@dataclass
class KnownIds:
    """Ids that exist, as a path carries them: every document and task, and each caller's ready tasks."""

    documents: list[str]
    tasks: list[str]
    ready: dict[str, list[str]]  # login -> ids of the tasks in their inbox

    def for_parameter(self, name: str, login: str) -> st.SearchStrategy[str] | None:
        """The ids to draw for path parameter ``name`` when ``login`` calls (half their own tasks, if any)."""
        if name == "document_id" and self.documents:
            return st.sampled_from(self.documents)
        if name == "task_id" and self.tasks:
            own = self.ready.get(login)
            return st.sampled_from(own) | st.sampled_from(self.tasks) if own else st.sampled_from(self.tasks)
        return None


def existing_ids(gongwen: Gongwen, logins: Iterable[str | None]) -> KnownIds:
    """Every document and task id in the database, and the ready tasks of each of ``logins``."""
    with gongwen.db.session() as session:
        documents = [str(i) for i in session.scalars(select(Document.id).order_by(Document.id))]
        tasks = [str(i) for i in session.scalars(select(Task.id).order_by(Task.id))]
        ready = {}
        for login in filter(None, logins):
            person = organisation.find_person(session, login)
            ready[login] = [str(t.id) for t in inbox.ready_tasks(session, person.id, limit=200)]
    return KnownIds(documents, tasks, ready)


def bearer_tokens(app: Flask, logins: Iterable[str | None],
                  password: str = demo.DEMO_PASSWORD) -> dict[str, str | None]:
    """``{name: token}`` from ``POST /api/v1/auth/token``; "anonymous" has none."""
    client = app.test_client()
    tokens: dict[str, str | None] = {}
    for login in logins:
        if login is None:
            tokens["anonymous"] = None
            continue
        answer = client.post("/api/v1/auth/token", json={"login": login, "password": password})
        if answer.status_code != 200:
            raise RuntimeError(f"a token for {login}: HTTP {answer.status_code} {answer.get_data(as_text=True)[:200]}")
        tokens[login] = answer.get_json()["token"]
    return tokens


# -- the run ------------------------------------------------------------------------------------------------

def _reset_rate_limits(app: Flask) -> None:
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()


def _draw(strategy: st.SearchStrategy, cases: int, seed: int, on_case: Callable[[Any], None]) -> None:
    """Call ``on_case`` with at most ``cases`` examples of ``strategy``; ``on_case`` never raises."""
    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=cases, deadline=None, database=None, derandomize=False,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck),
                         verbosity=hypothesis.Verbosity.quiet)
    @hypothesis.given(strategy)
    def run(case):
        on_case(case)

    run()


def _explained(response: Any) -> bool:
    """Whether a refusal says why in Chinese: a JSON object whose message holds a CJK character."""
    try:
        body = response.json()
    except ValueError:
        return False
    message = body.get("message") if isinstance(body, dict) else None
    return isinstance(message, str) and re.search(r"[\u4e00-\u9fff]", message) is not None


class _Caller:
    """Sends cases as one person and keeps the tally."""

    def __init__(self, report: FuzzReport, identity: str, token: str | None, label: str | None = None):
        self.report, self.identity, self.label = report, identity, label
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.phase = ""

    def __call__(self, case: Any) -> None:
        label = self.label or case.operation.label
        self.report.calls += 1
        try:
            response = case.call(headers=self.headers)
        except Exception:  # raised inside the app: the transport re-raises it here
            self._record(case, None, traceback.format_exc(limit=-8))
            self.report.statuses[label][500] += 1  # what Flask answers for it
            return
        self.report.statuses[label][response.status_code] += 1
        if 200 <= response.status_code < 300 and case.method.upper() == case.operation.method.upper():
            self.report.succeeded[label] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=self.headers)
        except (AssertionError, FailureGroup) as failed:  # what schemathesis raises for failed checks
            failures = failed.exceptions if isinstance(failed, FailureGroup) else [failed]
            checks = "; ".join(f"{getattr(f, 'code', 'check')} {getattr(f, 'title', f)}" for f in failures)
            self._record(case, response.status_code,
                         f"CheckFailure: {checks} (HTTP {response.status_code})\n{response.text[:500]}")
            return
        if response.status_code >= 500:
            self._record(case, response.status_code, response.text[:500])
        elif response.status_code >= 400 and not _explained(response):
            self.report.unexplained[response.status_code] += 1
            self.report.unexplained_example.setdefault(
                response.status_code, f"{case.method} {case.formatted_path} -> {response.text[:120].strip()}")

    def _record(self, case: Any, status: int | None, detail: str) -> None:
        self.report.server_errors.append(ServerError(
            case.operation.label, self.identity, self.phase, status,
            case.as_curl_command(headers=self.headers).replace("\n", " "), detail))


def form_operation(spec: dict[str, Any], app: Flask, task_id: str, form: dict[str, Any]) -> Any:
    """``POST /api/v1/tasks/<task_id>/complete`` as an operation whose body is ``form`` (a JSON Schema)."""
    derived = copy.deepcopy(spec)
    path_item = derived["paths"][COMPLETE]
    path_item.pop("parameters", None)  # the task's id is written into the path
    path_item["post"]["requestBody"]["content"]["application/json"]["schema"] = form
    path = COMPLETE.replace("{task_id}", task_id)
    derived["paths"] = {path: path_item}
    schema = schemathesis.openapi.from_dict(derived)
    schema.app = app
    return schema[path]["POST"]


def fuzz_forms(app: Flask, tokens: dict[str, str | None], report: FuzzReport, cases: int, seed: int) -> None:
    """Phase 5: each caller's ready tasks, completed with bodies drawn from the task's own form."""
    client = app.test_client()
    spec = client.get(OPENAPI_PATH).get_json()
    report.statuses[FORMS_LABEL] = Counter()
    for identity, token in tokens.items():
        if token is None:
            continue
        headers = {"Authorization": f"Bearer {token}"}
        listing = client.get("/api/v1/tasks", headers=headers)
        if listing.status_code != 200:  # the other phases have called it, and counted a 5xx
            report.notes.append(f"forms: GET /api/v1/tasks as {identity} answered {listing.status_code}")
            continue
        for task in listing.get_json():
            detail = client.get(f"/api/v1/tasks/{task['id']}", headers=headers)
            if detail.status_code != 200:  # done by an earlier one's completion
                continue
            operation = form_operation(spec, app, task["id"], detail.get_json()["form"])
            call = _Caller(report, identity, token, label=FORMS_LABEL)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                call.phase = f"forms, {task['name']} ({task['form_key']}), {mode.value}"
                _reset_rate_limits(app)
                try:
                    _draw(operation.as_strategy(generation_mode=mode), cases, seed, call)
                except hypothesis.errors.Unsatisfiable:
                    report.notes.append(f"{task['form_key']}: no {mode.value} body can be generated")


def fuzz(app: Flask, tokens: dict[str, str | None], ids: KnownIds, cases: int = DEFAULT_CASES,
         seed: int | None = None, progress: Callable[[str], None] | None = None) -> FuzzReport:
    """Every operation of ``app``'s OpenAPI document as each of ``tokens``, in the five phases of the docstring.

    ``tokens``: ``{login: token}`` (:func:`bearer_tokens`); ``ids``: existing ids for the known-ids phase;
    ``cases`` bounds the cases of each generated phase per operation and person (per task for the forms);
    ``seed`` fixes Hypothesis's draws (random if None).
    """
    seed = random.randrange(2**32) if seed is None else seed
    report = FuzzReport(seed=seed, cases=cases)
    began = time.perf_counter()
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        report.statuses[operation.label] = Counter()
        for identity, token in tokens.items():
            call = _Caller(report, identity, token)
            call.phase = "coverage"
            _reset_rate_limits(app)
            config = schema.config.generation_for(operation=operation, phase="coverage")
            for case in schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode),
                                                   generation_config=config):
                call(case)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                call.phase = mode.value
                _reset_rate_limits(app)
                try:
                    _draw(operation.as_strategy(generation_mode=mode), cases, seed, call)
                except hypothesis.errors.Unsatisfiable:
                    report.notes.append(f"{operation.label}: no {mode.value} case can be generated")
            known = {p.name: ids.for_parameter(p.name, identity) for p in operation.path_parameters}
            if known and None not in known.values():
                call.phase = "known ids"
                _reset_rate_limits(app)
                chosen = st.fixed_dictionaries(known)
                _draw(chosen.flatmap(lambda values, op=operation: op.as_strategy(path_parameters=values)),
                      cases, seed, call)
        if progress:
            progress(f"  {operation.label}: {sum(report.statuses[operation.label].values())} calls")
    fuzz_forms(app, tokens, report, cases, seed)
    if progress:
        progress(f"  {FORMS_LABEL}: {sum(report.statuses[FORMS_LABEL].values())} calls")
    report.notes = sorted(set(report.notes))
    report.seconds = time.perf_counter() - began
    return report


# -- main ---------------------------------------------------------------------------------------------------

def parse_arguments() -> argparse.Namespace:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--cases", type=int, default=DEFAULT_CASES,
                           help=f"cases per operation, person and generated phase (default {DEFAULT_CASES})")
    arguments.add_argument("--seed", type=int, help="Hypothesis's seed (default: random, printed)")
    arguments.add_argument("--postgresql", action="store_true",
                           help="on a temporary PostgreSQL database (GONGWEN_BENCH_PG) instead of SQLite")
    return arguments.parse_args()


def main() -> None:
    options = parse_arguments()
    exit_on_sigterm()  # so that the temporary database is removed
    configure_process()
    began = time.perf_counter()
    print(f"Gongwen API fuzzing: schemathesis {schemathesis.__version__}, {options.cases} cases per operation, "
          f"person and generated phase, on {'PostgreSQL' if options.postgresql else 'SQLite'}")
    with tempfile.TemporaryDirectory(prefix="gongwen_bench_") as workdir, \
            (postgres_database() if options.postgresql else sqlite_database(Path(workdir))) as url, \
            gongwen_on(url, Path(workdir) / "files") as gongwen:
        org = seed(gongwen, certificates=False)  # the stories of prepare() issue them
        prepare(gongwen, org)
        app = create_app(gongwen)
        ids = existing_ids(gongwen, IDENTITIES)
        tokens = bearer_tokens(app, IDENTITIES)
        print(f"  set-up: {time.perf_counter() - began:.1f} s; {len(ids.documents)} documents, {len(ids.tasks)} "
              f"tasks ({', '.join(f'{login} {len(own)}' for login, own in ids.ready.items())} ready); "
              f"callers: {', '.join(tokens)}")
        report = fuzz(app, tokens, ids, options.cases, options.seed, progress=print)
    print(f"\n{report.calls} calls in {report.seconds:.0f} s ({report.calls / report.seconds:.0f}/s), "
          f"hypothesis seed {report.seed}; phases: {', '.join(PHASES)}\n")
    print(report.summary())
    for note in report.notes:
        print(f"  note: {note}")
    if report.unexplained:
        print("  refusals without a message in Chinese (not counted as errors): "
              + ", ".join(f"{status}×{n}" for status, n in sorted(report.unexplained.items())) + "; for example:")
        for status in sorted(report.unexplained):
            print(f"    {report.unexplained_example[status]}")
    if report.server_errors:
        print("\n" + report.failure_message())
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")
    print(f"RESULT api_cases={report.calls} server_errors={len(report.server_errors)}")
    sys.exit(1 if report.server_errors else 0)


if __name__ == "__main__":
    main()
