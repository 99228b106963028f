"""The outgoing process (发文) with the demo organisation: draft to dispatch, every return path."""

import subprocess

import pytest
from sqlalchemy import select

from engine.models import ProcessInstance
from handlers.documents.models import DocStatus, Document
from handlers.exchange.models import Receipt, ReceiptStatus
from handlers.seals.register import verify
from tests.outgoing_support import NOTICE, act, document, start, task_of, trail
from tests.support import pdfsig, ready_for

pytestmark = pytest.mark.usefixtures("deployed")


def _draft(gongwen, org, **changes):
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    data = {**NOTICE, "main_to": [org.unit("donghai_office").id, org.unit("guanyun_office").id], **changes}
    act(gongwen, drafter, "拟稿", data)
    return doc, data


def _through_office_review(gongwen, org):
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve", "opinion": "同意"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve", "opinion": "格式无误"})


def _to_dispatch(gongwen, org, doc):
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve", "opinion": "同意印发"})
    act(gongwen, org.person("lyg.drafter"), "校对", {"decision": "ok"})
    act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})


def test_a_notice_goes_from_draft_to_two_counties_through_every_return(gongwen, sealed):
    org = sealed
    drafter, head, reviewer, signer = (org.person(x) for x in ("lyg.drafter", "lyg.head", "lyg.reviewer",
                                                                "lyg.signer"))
    doc, data = _draft(gongwen, org)
    act(gongwen, head, "部门审核", {"decision": "return", "opinion": "请补充排查时限"})
    act(gongwen, drafter, "拟稿", {**data, "body": data["body"] + "\n二、按时报送\n12月31日前报送排查结果。"})
    act(gongwen, head, "部门审核", {"decision": "approve", "opinion": "同意"})
    act(gongwen, reviewer, "办公室核稿", {"decision": "return", "opinion": "标题文种有误"})
    act(gongwen, drafter, "拟稿", data)
    act(gongwen, head, "部门审核", {"decision": "approve"})
    act(gongwen, reviewer, "办公室核稿", {"decision": "approve"})
    act(gongwen, signer, "签发", {"decision": "return", "opinion": "请再斟酌措辞"})
    act(gongwen, drafter, "拟稿", data)
    _through_office_review(gongwen, org)
    act(gongwen, signer, "签发", {"decision": "approve", "opinion": "同意印发"})

    numbered = document(gongwen, doc.id)
    assert numbered.doc_number == "连政办发〔2026〕1号" and numbered.status == DocStatus.TYPESET
    assert numbered.signing_date.isoformat() == "2026-11-23"
    act(gongwen, drafter, "校对", {"decision": "return", "opinion": "第二段有错字"})
    act(gongwen, drafter, "更正文字", {"title": data["title"], "body": data["body"].replace("明春", "明年春季"),
                                   "opinion": "改正错字"})
    corrected = document(gongwen, doc.id)
    assert corrected.doc_number == numbered.doc_number and corrected.pdf_sha256 != numbered.pdf_sha256
    act(gongwen, drafter, "校对", {"decision": "ok"})
    act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})

    sent = document(gongwen, doc.id)
    assert sent.status == DocStatus.DISPATCHED
    opinions = [(step, form.get("opinion")) for step, _, form in trail(gongwen, doc.instance_id)
                if form.get("opinion")]
    assert ("部门审核", "请补充排查时限") in opinions and ("办公室核稿", "标题文种有误") in opinions
    assert ("签发", "请再斟酌措辞") in opinions and ("校对", "第二段有错字") in opinions

    sealed_pdf = gongwen.files.get(sent.sealed_sha256)
    with gongwen.db.session() as session:
        report = verify(session, sealed_pdf, ["连云港市人民政府办公室"])
        receipts = session.scalars(select(Receipt).where(Receipt.document_id == doc.id)).all()
    assert report.ok, report.reason
    assert {(r.unit_id, r.status) for r in receipts} == {(org.unit("donghai_office").id, ReceiptStatus.PENDING),
                                                        (org.unit("guanyun_office").id, ReceiptStatus.PENDING)}
    incoming = {r.incoming_instance_id for r in receipts}
    assert task_of(gongwen, org.person("dh.clerk"), "签收").instance_id in incoming
    assert task_of(gongwen, org.person("gy.clerk"), "签收").instance_id in incoming
    text = subprocess.run(["pdftotext", "-", "-"], input=sealed_pdf, capture_output=True, check=True).stdout.decode()
    assert "连政办发〔2026〕1号" in text and "明年春季" in text


def test_a_countersign_with_three_parties_keeps_every_opinion(gongwen, sealed):
    org = sealed
    doc, _ = _draft(gongwen, org, countersign_departments=[org.departments["secretariat_2"].id,
                                                           org.departments["general"].id],
                    countersign_units=[org.unit("finance").id])
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.head2"), "会签", {"decision": "agree", "opinion": "秘书二处同意"})
    act(gongwen, org.person("cz.head"), "会签", {"decision": "disagree", "opinion": "财政局建议删去第三条"})
    assert ready_for(gongwen, org.person("lyg.reviewer")) == []  # the join waits for the third party
    act(gongwen, org.person("lyg.head3"), "会签", {"decision": "agree", "opinion": "综合处同意"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    with gongwen.db.session() as session:
        state = session.get(ProcessInstance, doc.instance_id).state
    for opinion in ("秘书二处同意", "财政局建议删去第三条", "综合处同意"):
        assert opinion in state
    countersigned = [(form["opinion"], who) for step, who, form in trail(gongwen, doc.instance_id) if step == "会签"]
    assert sorted(countersigned) == sorted([("秘书二处同意", org.person("lyg.head2").id),
                                            ("财政局建议删去第三条", org.person("cz.head").id),
                                            ("综合处同意", org.person("lyg.head3").id)])


def test_a_joint_document_is_signed_off_and_sealed_by_each_issuer(gongwen, sealed):
    org = sealed
    doc, _ = _draft(gongwen, org, co_issuers=[org.unit("finance").id])
    _through_office_review(gongwen, org)
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve"})
    assert document(gongwen, doc.id).doc_number is None  # waits for the co-issuer
    act(gongwen, org.person("cz.signer"), "签发", {"decision": "approve"})
    assert document(gongwen, doc.id).doc_number == "连政办发〔2026〕1号"  # the lead unit's number
    act(gongwen, org.person("lyg.drafter"), "校对", {"decision": "ok"})
    act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})
    act(gongwen, org.person("cz.clerk"), "用印", {"confirm": True})
    sent = document(gongwen, doc.id)
    with gongwen.db.session() as session:
        report = verify(session, gongwen.files.get(sent.sealed_sha256),
                                          ["连云港市人民政府办公室", "连云港市财政局"])
    assert report.ok, report.reason
    assert [s["unit"] for s in report.signers] == ["连云港市人民政府办公室", "连云港市财政局"]


def test_a_classified_document_is_refused_at_every_gate(gongwen, sealed):
    from engine.errors import FormInvalid, Refused
    from engine.models import AuditEvent, Outbox

    org = sealed
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    for level in ("秘密", "机密", "绝密", "内部"):
        with pytest.raises(FormInvalid) as refused:
            act(gongwen, drafter, "拟稿", {**NOTICE, "classification": level, "main_to": [org.unit("donghai").id]})
        assert "机要渠道" in refused.value.errors["classification"][0]
    assert document(gongwen, doc.id).status == DocStatus.DRAFTING

    # A document whose classification was changed behind the system's back is stopped at dispatch ...
    act(gongwen, drafter, "拟稿", {**NOTICE, "main_to": [org.unit("donghai_office").id]})
    _through_office_review(gongwen, org)
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve"})
    act(gongwen, drafter, "校对", {"decision": "ok"})
    with gongwen.db.write() as session:
        document_row = session.scalar(select(Document).where(Document.drafter_id == drafter.id))
        document_row.classification = "机密"
    with pytest.raises(Refused, match="分发：涉密公文（机密）必须通过机要渠道传递"):
        act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})
    with gongwen.db.session() as session:
        assert session.get(Document, document_row.id).status == DocStatus.TYPESET
        assert session.scalar(select(Receipt).where(Receipt.document_id == document_row.id)) is None
        refusals = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "task.refused")).all()
    assert any("机要渠道" in r["reason"] for r in refusals)

    # ... and a receiver's system refuses it on arrival as well.
    with gongwen.db.write() as session:
        gongwen.runtime.enqueue(session, "dispatch", "dispatch:forced", {
            "document_id": document_row.id, "recipients": [[org.unit("donghai_office").id, False]]})
    with gongwen.db.session() as session:
        failed = session.scalar(select(Outbox).where(Outbox.key == "dispatch:forced"))
        assert session.scalar(select(Receipt).where(Receipt.document_id == document_row.id)) is None
    assert "收文：涉密公文（机密）" in failed.last_error


def test_classification_is_a_pick_of_the_non_classified_levels_and_none_is_not_called_classified(gongwen, org):
    """密级 is chosen from the offered levels (无 and 公开, both non-classified); a word that is not one of
    them, such as a typed "无", is told which levels there are, never that the document is classified."""
    from engine.errors import FormInvalid

    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    main_to = [org.unit("donghai_office").id]
    for typed in ("无", "普通"):
        with pytest.raises(FormInvalid) as refused:
            act(gongwen, drafter, "拟稿", {**NOTICE, "classification": typed, "main_to": main_to})
        (message,) = refused.value.errors["classification"]
        assert message == "密级应为“无（非密）”、“公开（非密）”之一" and "涉密" not in message
    assert document(gongwen, doc.id).status == DocStatus.DRAFTING
    act(gongwen, drafter, "拟稿", {**NOTICE, "classification": "公开", "main_to": main_to})
    assert document(gongwen, doc.id).classification == "公开"


def test_a_draft_left_without_a_classification_is_non_classified(gongwen, org):
    drafter = org.person("lyg.drafter")
    doc = start(gongwen, drafter)
    act(gongwen, drafter, "拟稿", {**{k: v for k, v in NOTICE.items() if k != "classification"},
                                  "main_to": [org.unit("donghai_office").id]})
    assert document(gongwen, doc.id).classification == "非密"


def test_rules_refuse_a_request_to_two_recipients_and_other_breaches(gongwen, sealed):
    from engine.errors import Refused

    org = sealed
    drafter = org.person("lyg.drafter")
    start(gongwen, drafter)
    request = {**NOTICE, "doc_type": "request", "direction": "upward", "title": "关于申请专项资金的请示",
               "one_matter": True}
    cases = [
        ({"main_to": [org.unit("city").id, org.unit("province").id]}, "请示只能主送一个上级机关"),
        ({"main_to": [org.unit("donghai").id]}, "不是连云港市人民政府办公室的上级"),
        ({"main_to": [org.unit("city").id], "one_matter": False}, "一文一事"),
        ({"main_to": [org.unit("city").id], "cc": [org.unit("donghai_office").id]}, "上行文不得抄送下级机关"),
        ({"main_to": [org.unit("city").id], "in_department_name": True}, "秘书一处是内设机构"),
        ({"main_to": [org.unit("city").id], "direction": "downward"}, "行文方向应为“上行”"),
    ]
    for change, message in cases:
        with pytest.raises(Refused, match=message):
            act(gongwen, drafter, "拟稿", {**request, **change})
    assert task_of(gongwen, drafter, "拟稿")  # still at the draft, nothing saved


def test_a_wide_dispatch_waits_for_the_clerk(gongwen, sealed):
    org = sealed
    everyone = [u.id for key, u in org.units.items() if key not in ("city_office",)]
    doc, _ = _draft(gongwen, org, main_to=everyone)
    _through_office_review(gongwen, org)
    _to_dispatch(gongwen, org, doc)
    assert document(gongwen, doc.id).status == DocStatus.SEALED
    act(gongwen, org.person("lyg.clerk"), "确认分发范围", {"decision": "dispatch"})
    assert document(gongwen, doc.id).status == DocStatus.DISPATCHED
    with gongwen.db.session() as session:
        assert len(session.scalars(select(Receipt).where(Receipt.document_id == doc.id)).all()) == len(everyone)


def test_a_revoked_seal_cannot_seal(gongwen, sealed):
    from engine.errors import Refused
    from handlers.seals.models import Seal
    from handlers.seals.register import revoke_seal

    org = sealed
    doc, _ = _draft(gongwen, org)
    _through_office_review(gongwen, org)
    act(gongwen, org.person("lyg.signer"), "签发", {"decision": "approve"})
    act(gongwen, org.person("lyg.drafter"), "校对", {"decision": "ok"})
    with gongwen.db.write() as session:
        seal = session.scalar(select(Seal).where(Seal.unit_id == org.unit("city_office").id))
        revoke_seal(session, gongwen.settings, seal, "lost")
    with pytest.raises(Refused, match="已吊销，不能用印"):
        act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})
    assert document(gongwen, doc.id).status == DocStatus.TYPESET


def test_gongwen_verify_accepts_the_sealed_file_and_refuses_a_changed_byte(gongwen, sealed, run, tmp_path):
    org = sealed
    doc, _ = _draft(gongwen, org)
    _through_office_review(gongwen, org)
    _to_dispatch(gongwen, org, doc)
    good = tmp_path / "good.pdf"
    good.write_bytes(gongwen.files.get(document(gongwen, doc.id).sealed_sha256))
    result = run("verify", str(good))
    assert result.exit_code == 0, result.output
    assert "✓ 签章单位与发文机关一致" in result.output and result.output.strip().endswith("验证通过")

    assert "✓ 盖章时间可信" in result.output
    # An office that imported Gongwen's root (exported by the CLI) sees the seal valid and trusted.
    assert run("ca", "export-root", str(tmp_path / "root.pem")).exit_code == 0
    out = pdfsig(good, (tmp_path / "root.pem").read_bytes())
    assert "Signature is Valid." in out and "Certificate is Trusted." in out

    content = good.read_bytes()
    at = content.index(b"/Creator")  # inside the signed bytes: one changed letter
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(content[:at] + b"/Crea7or" + content[at + 8:])
    result = run("verify", str(tampered))
    assert result.exit_code == 1 and "✗ 文件完整" in result.output

    (tmp_path / "note.txt").write_text("不是 PDF")
    result = run("verify", str(tmp_path / "note.txt"))
    assert result.exit_code == 1 and "不是可读取的 PDF 文件" in result.output and "Traceback" not in result.output
    assert run("verify", str(tmp_path / "missing.pdf")).exit_code == 2


def test_a_countersign_finishes_when_the_server_restarted_half_way(gongwen, sealed, settings):
    """Specs are parsed again after a restart; the countersign must still notice its last opinion."""
    from engine import bpmn
    from engine.core import Gongwen

    org = sealed
    _draft(gongwen, org, countersign_departments=[org.departments["secretariat_2"].id,
                                                       org.departments["general"].id])
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve"})
    act(gongwen, org.person("lyg.head2"), "会签", {"decision": "agree", "opinion": "同意"})
    bpmn._spec_cache.clear()
    restarted = Gongwen(settings)
    act(restarted, org.person("lyg.head3"), "会签", {"decision": "agree", "opinion": "同意"})
    assert task_of(restarted, org.person("lyg.reviewer"), "办公室核稿")
    restarted.close()


def test_recipients_can_come_from_a_saved_distribution_list(gongwen, sealed):
    from handlers.documents.models import DistributionList

    org = sealed
    with gongwen.db.write() as session:
        counties = DistributionList(owner_unit_id=org.unit("city_office").id, name="各县政府办",
                                    unit_ids=[org.unit(k).id for k in ("donghai_office", "guanyun_office")])
        session.add(counties)
        session.flush()
        list_id = counties.id
    doc, _ = _draft(gongwen, org, main_to=[], main_to_lists=[list_id], cc=[org.unit("finance").id])
    drafted = document(gongwen, doc.id)
    assert drafted.main_to == [org.unit("donghai_office").id, org.unit("guanyun_office").id]
    assert drafted.main_to_text == "东海县人民政府办公室，灌云县人民政府办公室"
    assert drafted.cc == [org.unit("finance").id]
