"""Leave as a person expects it on the pages (issue 13): the application opens from 在办 and 办结 for the
applicant and the approver; the approver reads the type, dates, working days and reason; 销假 is done from
the inbox; people outside the application, and the administrators, do not find it."""

import re

import pytest

from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")


def _task_link(page: str, step: str) -> str:
    """The inbox row's link of the task at ``step``."""
    rows = re.findall(r'<a href="(/tasks/[0-9a-f-]+)">[^<]*</a></td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*'
                      r'<td[^>]*>.*?</td>\s*<td>([^<]*)</td>', page, re.S)
    (link,) = [href for href, name in rows if name == step]
    return link


def _submit(client, path: str, **values):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **values})


def test_a_leave_is_applied_for_approved_reported_back_and_opens_from_doing_and_finished(app, org):
    applicant, head = logged_in(app, "lyg.drafter"), logged_in(app, "lyg.head")
    started = applicant.post("/leave/new", data={"csrf_token": csrf_token(applicant, "/")})
    apply_page = started.headers["Location"]
    response = _submit(applicant, apply_page, kind="sick", start_date="2026-11-24", end_date="2026-11-26",
                       reason="腰伤复查")
    assert response.status_code == 302

    review = _task_link(head.get("/").get_data(as_text=True), "部门负责人审批")
    page = head.get(review).get_data(as_text=True)
    assert "病假" in page and "2026-11-24 至 2026-11-26" in page and "3 天" in page and "腰伤复查" in page

    (instance_id,) = {int(i) for i in re.findall(r"/instances/(\d+)",
                                                  applicant.get("/?view=doing").get_data(as_text=True))}
    assert "填写请假单" in applicant.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert _submit(head, review, decision="approve", opinion="同意，注意休息").status_code == 302
    assert f"/instances/{instance_id}" in head.get("/?view=doing").get_data(as_text=True)
    assert head.get(f"/instances/{instance_id}").status_code == 200

    report = _task_link(applicant.get("/").get_data(as_text=True), "销假")
    report_page = applicant.get(report).get_data(as_text=True)
    assert "病假" in report_page and "腰伤复查" in report_page
    assert _submit(applicant, report, returned_on="2026-11-27").status_code == 302
    assert "<td>销假</td>" not in applicant.get("/").get_data(as_text=True)

    for client in (applicant, head):
        assert f"/instances/{instance_id}" in client.get("/?view=finished").get_data(as_text=True)
        finished = client.get(f"/instances/{instance_id}").get_data(as_text=True)
        assert "已办结" in finished and "销假" in finished and "部门负责人审批" in finished

    for outsider in ("lyg.head2", "gy.clerk", "sysadmin", "auditor"):
        assert logged_in(app, outsider).get(f"/instances/{instance_id}").status_code == 404
