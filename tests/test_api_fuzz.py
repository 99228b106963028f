"""A bounded schemathesis run over the API's OpenAPI document, on each backend: no call gets a 5xx.

The same run as bench/api_fuzz.py (which says what the phases are), smaller and with a fixed
Hypothesis seed so that it draws the same cases every time: the bench script explores with new ones.
"""

import pytest

from bench.api_fuzz import IDENTITIES, bearer_tokens, existing_ids, fuzz, prepare
from web import create_app

pytestmark = [pytest.mark.usefixtures("deployed"), pytest.mark.uncertified]  # the demo's stories issue them

CASES = 25  # per operation, caller and generated phase: about 2,800 calls
SEED = 20261123
# Generated credentials never log in and generated files never deploy; everything else succeeds for someone.
REACHED = {"GET /api/v1/tasks", "GET /api/v1/tasks/{task_id}", "POST /api/v1/documents",
           "GET /api/v1/documents/{document_id}", "GET /api/v1/documents/{document_id}/pdf",
           "GET /api/v1/documents/{document_id}/verification", "GET /api/v1/documents/{document_id}/receipts",
           "POST /api/v1/tasks/{task_id}/complete (forms)", "GET /api/v1/processes"}


@pytest.fixture
def app(gongwen, org):
    prepare(gongwen, org)  # seals and the five demo documents
    return create_app(gongwen)


def test_no_generated_call_gets_a_server_error(app, gongwen):
    report = fuzz(app, bearer_tokens(app, IDENTITIES), existing_ids(gongwen, IDENTITIES), CASES, SEED)
    assert not report.server_errors, report.failure_message()
    assert report.calls > 1000
    # Every operation was called, and those a caller may succeed at did succeed: the run got past the tokens.
    assert len(report.statuses) == 14, sorted(report.statuses)
    assert not REACHED - set(report.succeeded), f"never succeeded: {REACHED - set(report.succeeded)}"
