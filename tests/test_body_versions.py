"""留痕: reviewers and signing leaders change the body in their step; every version is kept with who, at which
step and when; the 花脸稿 shows each change attributed, the 清稿 the text clean; only the issuing unit reads them."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid, Refused
from engine.models import AuditEvent, Task
from handlers.documents.models import DocumentRevision
from handlers.documents.revisions import edit_body, tracked
from handlers.seals.opinions import trail_signatures
from tests.outgoing_support import NOTICE, act, document, start, task_of, trail
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")

# The head cuts 今冬明春 from the first paragraph and adds a sentence to the last.
EDITED = NOTICE["body"].replace("今冬明春", "").replace("完成排查。", "完成排查，并将结果报市政府办公室。")


def _drafted(gongwen, org, **changes):
    """A notice of the city office submitted by lyg.drafter, waiting at 部门审核."""
    doc = start(gongwen, org.person("lyg.drafter"))
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id], **changes})
    return doc


def _revisions(gongwen, document_id):
    with gongwen.db.session() as session:
        return [(r.number, r.person_id, r.step, r.body) for r in session.scalars(
            select(DocumentRevision).where(DocumentRevision.document_id == document_id)
            .order_by(DocumentRevision.number))]


def _post(client, task_id, data):
    return client.post(f"/tasks/{task_id}", data={**data, "csrf_token": csrf_token(client, f"/tasks/{task_id}")})


def _marks(page: str, tag: str) -> list[tuple[str, str]]:
    """(title, text) of every <ins> or <del> of a page."""
    return [(html.unescape(t), html.unescape(x)) for t, x in
            re.findall(rf'<{tag} class="author-\d" data-revision="\d+" title="([^"]*)">([^<]*)</{tag}>', page)]


def test_a_reviewers_change_is_revision_two_and_the_marked_up_copy_names_them(app, gongwen, org):
    doc = _drafted(gongwen, org)
    head = logged_in(app, "lyg.head")
    task = task_of(gongwen, org.person("lyg.head"), "部门审核")
    page = head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'aria-invalid="false">{NOTICE["body"]}</textarea>' in page  # the body to change in place
    assert _post(head, task.id, {"decision": "approve", "opinion": "改了两处", "body": EDITED}).status_code == 302

    drafter, head_id = org.person("lyg.drafter"), org.person("lyg.head").id
    assert _revisions(gongwen, doc.id) == [(1, drafter.id, "拟稿", NOTICE["body"]), (2, head_id, "部门审核", EDITED)]
    assert document(gongwen, doc.id).body == EDITED.split("\n")
    step = next(data for name, _, data in trail(gongwen, doc.instance_id) if name == "部门审核")
    assert step["revision"] == 2 and "body" not in step  # the text lives in the revision, not the workflow

    marked = logged_in(app, "lyg.drafter").get(f"/documents/{doc.id}/traces").get_data(as_text=True)
    head_name = org.person("lyg.head").name
    assert [text for _, text in _marks(marked, "del")] == ["今冬明春"]
    assert [text for _, text in _marks(marked, "ins")] == ["，并将结果报市政府办公室"]
    for title, _ in _marks(marked, "del") + _marks(marked, "ins"):
        who = title.split("：")[1]
        assert who.startswith(f"{head_name} · 部门审核 · 2026-11-23 ") and who.endswith("（第 2 版）")
    assert f"<td>{head_name}</td><td>部门审核</td>" in marked  # the legend

    page = logged_in(app, "lyg.reviewer").get(f"/documents/{doc.id}/clean").get_data(as_text=True)
    clean = page.split('aria-label="清稿"')[1].split("</section>")[0]
    assert "<p>为做好安全生产工作，现将有关事项通知如下。</p>" in clean and "<del" not in clean and "<ins" not in clean
    page = logged_in(app, "lyg.reviewer").get(f"/documents/{doc.id}/revisions/1").get_data(as_text=True)
    version = page.split('aria-label="本版改动"')[1].split("</section>")[0]
    assert "今冬明春" in version and "<ins" not in version and "<del" not in version


def test_an_unchanged_body_makes_no_revision_and_a_redrafted_one_does(app, gongwen, org):
    doc = _drafted(gongwen, org)
    # The same paragraphs, with the stray spaces and blank lines a textarea may add, are not a change; nor is
    # a body emptied (the field left blank keeps the text).
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "return", "opinion": "请补充时限",
                                                   "body": "  " + NOTICE["body"].replace("\n", "\n\n") + "\n"})
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "return", "opinion": "请补充时限", "body": " \n\t "})
    assert document(gongwen, doc.id).body == NOTICE["body"].split("\n")
    assert [r[0] for r in _revisions(gongwen, doc.id)] == [1]
    assert "revision" not in next(data for name, _, data in trail(gongwen, doc.instance_id) if name == "部门审核")
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    assert [r[0] for r in _revisions(gongwen, doc.id)] == [1]  # re-submitted as it was
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "return", "opinion": "仍需补充"})
    act(gongwen, org.person("lyg.drafter"), "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id],
                                                    "body": NOTICE["body"] + "\n二、按时报送"})
    assert [(n, step) for n, _, step, _ in _revisions(gongwen, doc.id)] == [(1, "拟稿"), (2, "拟稿")]


def test_the_signing_leaders_change_is_kept_and_the_signed_opinion_still_verifies(app, gongwen, org):
    doc = _drafted(gongwen, org)
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve", "opinion": "同意", "body": EDITED})
    signer = org.person("lyg.signer")
    assert [(n, who, step) for n, who, step, _ in _revisions(gongwen, doc.id)][-1] == (2, signer.id, "签发")
    with gongwen.db.session() as session:
        signed = session.scalars(select(Task).where(Task.instance_id == doc.instance_id, Task.name == "签发")).all()
        assert [verified for verified, _ in trail_signatures(session, signed).values()] == [True]


def test_after_sign_off_the_body_is_frozen(app, gongwen, sealed):
    org = sealed
    doc = _drafted(gongwen, org)
    for login, step in (("lyg.head", "部门审核"), ("lyg.reviewer", "办公室核稿"), ("lyg.signer", "签发")):
        act(gongwen, org.person(login), step, {"decision": "approve"})
    proofread = task_of(gongwen, org.person("lyg.drafter"), "校对")

    def change(workflow, ctx):  # a body reaching the edit in a step after sign-off
        edit_body(ctx, proofread, org.person("lyg.drafter").id, {"body": EDITED})

    with pytest.raises(Refused, match="公文已签发，正文不能再修改"):
        gongwen.runtime.step(doc.instance_id, change)
    with pytest.raises(FormInvalid) as refused:  # and the proofreading form has no body to change
        gongwen.runtime.complete(proofread.id, org.person("lyg.drafter").id, {"decision": "ok", "body": EDITED})
    assert refused.value.errors == {"body": ["表单中没有这一项"]}
    assert document(gongwen, doc.id).body == NOTICE["body"].split("\n")
    assert [r[0] for r in _revisions(gongwen, doc.id)] == [1]


def test_a_joint_documents_text_is_not_changed_after_one_issuer_signed_it_off(app, gongwen, sealed, fixed_clock):
    org = sealed
    doc = _drafted(gongwen, org, co_issuers=[org.unit("finance").id])
    fixed_clock.advance(timedelta(hours=1))  # the leaders sign after the draft was submitted
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve", "body": EDITED})  # before anyone signed
    with pytest.raises(Refused, match="联合发文的其他机关领导已签发此稿"):
        act(gongwen, org.person("cz.signer"), "签发", {"decision": "approve", "body": NOTICE["body"]})
    act(gongwen, org.person("cz.signer"), "签发", {"decision": "approve", "body": EDITED})  # as the other signed it
    assert document(gongwen, doc.id).body == EDITED.split("\n")
    assert [r[0] for r in _revisions(gongwen, doc.id)] == [1, 2]


@pytest.mark.parametrize("body, status, refusal", [
    ("正" * 50_001, 422, "长度应在 0 到 50000 字之间"),
    ("为做好\u202e安全生产工作", 422, "控制字符（U+202E）"),
    ("为做好\u200b安全生产工作", 422, "控制字符（U+200B）"),
    ("为做好\x00安全生产工作", 400, "错误代码 400"),
])
def test_hostile_bodies_are_refused_and_change_nothing(app, gongwen, org, body, status, refusal):
    doc = _drafted(gongwen, org)
    head = logged_in(app, "lyg.head")
    task = task_of(gongwen, org.person("lyg.head"), "部门审核")
    response = _post(head, task.id, {"decision": "approve", "body": body})
    assert response.status_code == status and refusal in response.get_data(as_text=True)
    assert task_of(gongwen, org.person("lyg.head"), "部门审核").id == task.id  # still waiting
    assert document(gongwen, doc.id).body == NOTICE["body"].split("\n")
    assert [r[0] for r in _revisions(gongwen, doc.id)] == [1]
    if status == 422:  # refused by the form, in the step: audited
        with gongwen.db.session() as session:
            assert session.scalar(select(AuditEvent).where(AuditEvent.action == "task.refused")) is not None


def test_only_the_issuing_unit_reads_the_traces(app, gongwen, sealed):
    org = sealed
    doc = _drafted(gongwen, org)
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve", "body": EDITED})
    for login, step, data in (("lyg.reviewer", "办公室核稿", {"decision": "approve"}),
                              ("lyg.signer", "签发", {"decision": "approve"}),
                              ("lyg.drafter", "校对", {"decision": "ok"}), ("lyg.sealer", "用印", {"confirm": True})):
        act(gongwen, org.person(login), step, data)
    pages = [f"/documents/{doc.id}/traces", f"/documents/{doc.id}/clean", f"/documents/{doc.id}/revisions/2"]
    insider = logged_in(app, "lyg.clerk")
    assert all(insider.get(page).status_code == 200 for page in pages)
    assert "花脸稿" in insider.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert insider.get(f"/documents/{doc.id}/revisions/3").status_code == 404
    # The recipient reads the sealed document, not how its wording came about.
    recipient = logged_in(app, "dh.clerk")
    document_page = recipient.get(f"/documents/{doc.id}")
    assert document_page.status_code == 200 and "花脸稿" not in document_page.get_data(as_text=True)
    for outsider in ("dh.clerk", "cz.drafter", "sysadmin", "secadmin", "auditor"):
        client = logged_in(app, outsider)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 404 and "今冬明春" not in response.get_data(as_text=True), (outsider, page)
    assert "/login" in app.test_client().get(pages[0]).headers["Location"]


def test_the_marked_up_copy_keeps_each_authors_changes_in_place():
    first, second, third = "r1", "r2", "r3"
    marked = tracked([("请各地于12月底前完成排查。\n二、按时报送", first),
                      ("请各地于11月底前完成全面排查。\n二、按时报送", second),
                      ("请各地于11月底前完成排查。", third)])
    assert [[(s.text, s.inserted, s.deleted) for s in p] for p in marked] == [
        [("请各地于1", None, None), ("2", None, second), ("1", second, None), ("月底前完成", None, None),
         ("全面", second, third), ("排查。", None, None)],
        [("二、按时报送↵", None, third)]]  # a deleted paragraph stays a paragraph, struck through
    # A rewritten phrase reads as one deletion and one insertion, not a comb of single characters.
    rewritten = tracked([("现将有关事项通知如下。", first), ("现就有关工作通知如下。", second)])
    assert [(s.text, s.inserted, s.deleted) for s in rewritten[0]] == [
        ("现", None, None), ("将有关事项", None, second), ("就有关工作", second, None), ("通知如下。", None, None)]
