"""常用意见, 职务 and decisions in the opinion trail, the handwritten signature of a 签发, and the print pages.

Run on SQLite and PostgreSQL; every refusal leaves the data as it was.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from engine.models import AuditEvent, Person, Task, TaskState
from handlers.exchange.holdings import document_for_instance
from handlers.incoming.models import IncomingRecord
from handlers.opinions import saved
from handlers.opinions.models import SavedOpinion
from tests.outgoing_support import NOTICE, act, send, start, task_of
from tests.support import csrf_token, logged_in

pytestmark = pytest.mark.usefixtures("deployed")
OUTSIDERS = ("dh.clerk", "cz.signer", "sysadmin", "secadmin", "auditor")


def _png(drawn: bool = True, size=(600, 200), mode="RGBA") -> bytes:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    if drawn:
        ImageDraw.Draw(image).line((20, 150, 200, 40, 380, 160, 560, 30), fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _data_url(content: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def _to_sign_off(gongwen, org, *, returned: bool = False) -> Task:
    """A city-office notice waiting at 签发 for lyg.signer (``returned``: the head sent it back once)."""
    drafter = org.person("lyg.drafter")
    start(gongwen, drafter)
    draft = {**NOTICE, "main_to": [org.unit("donghai_office").id]}
    act(gongwen, drafter, "拟稿", draft)
    if returned:
        act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "return", "opinion": "请补充排查时限"})
        act(gongwen, drafter, "拟稿", draft)
    act(gongwen, org.person("lyg.head"), "部门审核", {"decision": "approve", "opinion": "拟同意"})
    act(gongwen, org.person("lyg.reviewer"), "办公室核稿", {"decision": "approve"})
    return task_of(gongwen, org.person("lyg.signer"), "签发")


def _sign_off(app, task: Task, **extra):
    signer = logged_in(app, "lyg.signer")
    url = f"/tasks/{task.id}"
    return signer.post(url, data={"csrf_token": csrf_token(signer, url), "decision": "approve",
                                  "opinion": "同意印发", **extra})


def _count(gongwen, model, *where) -> int:
    with gongwen.db.session() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where))


def test_saved_opinions_are_offered_on_the_task_page_and_only_their_owner_removes_them(gongwen, org, app):
    task = _to_sign_off(gongwen, org)
    signer = logged_in(app, "lyg.signer")
    token = csrf_token(signer, "/settings/opinions")
    page = signer.post("/settings/opinions", data={"csrf_token": token, "text": "同意，请按程序印发"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已存为常用意见" in page and "同意，请按程序印发" in page
    answer = signer.post("/settings/opinions", data={"csrf_token": token, "text": "同意，请抓紧落实"},
                         headers={"Accept": "application/json"})  # 存为常用意见 on a task page, by script
    assert answer.status_code == 200 and answer.get_json() == {"message": "已存为常用意见", "text": "同意，请抓紧落实"}
    again = signer.post("/settings/opinions", data={"csrf_token": token, "text": "同意，请抓紧落实"},
                        headers={"Accept": "application/json"})
    assert again.status_code == 422 and again.get_json()["message"] == "这条意见已在常用意见中"

    form = signer.get(f"/tasks/{task.id}").get_data(as_text=True)
    offered = re.search(r'<select id="opinion-saved" data-fills="opinion">(.*?)</select>', form, re.S).group(1)
    assert "<option>同意，请按程序印发</option>" in offered and "<option>同意，请抓紧落实</option>" in offered
    assert "常用意见" in form and "存为常用意见" in form

    mine = _count(gongwen, SavedOpinion, SavedOpinion.person_id == org.person("lyg.signer").id)
    with gongwen.db.session() as db:
        first = saved.own(db, org.person("lyg.signer").id)[0].id
    for other in ("lyg.head", "dh.leader", "sysadmin"):
        client = logged_in(app, other)
        refused = client.post(f"/settings/opinions/{first}/delete",
                              data={"csrf_token": csrf_token(client, "/inbox" if other == "sysadmin" else "/")})
        assert refused.status_code == 404
    assert _count(gongwen, SavedOpinion, SavedOpinion.person_id == org.person("lyg.signer").id) == mine
    assert "同意，请按程序印发" not in logged_in(app, "lyg.head").get("/settings/opinions").get_data(as_text=True)

    signer.post(f"/settings/opinions/{first}/delete", data={"csrf_token": token})
    assert "同意，请按程序印发" not in signer.get("/settings/opinions").get_data(as_text=True)
    assert signer.post("/settings/opinions/99999999999/delete", data={"csrf_token": token}).status_code == 404


def test_a_saved_opinion_is_checked_like_an_opinion_and_limited_per_person(gongwen, org, app):
    person = org.person("lyg.head")
    client = logged_in(app, "lyg.head")
    token = csrf_token(client, "/settings/opinions")

    def post(text):
        return client.post("/settings/opinions", data={"csrf_token": token, "text": text},
                           headers={"Accept": "application/json"})

    for text, said in (("", "请填写常用意见"), ("同意" * 101, "常用意见不能超过 200 个字"),
                       ("同意\u202e发印", "不可见的控制字符")):
        answer = post(text)
        assert answer.status_code == 422 and said in answer.get_json()["message"]
    with gongwen.db.write() as db:
        for n in range(saved.PERSONAL_LIMIT):
            saved.add(db, person.id, f"意见{n}")
    answer = post("再多一条")
    assert answer.status_code == 422 and answer.get_json()["message"] == "常用意见最多 30 条，请先删除不再使用的"
    assert _count(gongwen, SavedOpinion, SavedOpinion.person_id == person.id) == saved.PERSONAL_LIMIT
    for admin in ("sysadmin", "auditor"):
        outsider = logged_in(app, admin)
        assert outsider.get("/settings/opinions").status_code == 403
        refused = outsider.post("/settings/opinions", data={"csrf_token": csrf_token(outsider, "/notices"),
                                                            "text": "同意"}, headers={"Accept": "application/json"})
        assert refused.status_code == 403
    assert _count(gongwen, SavedOpinion, SavedOpinion.person_id != person.id) == 0


def test_a_units_defaults_are_kept_by_its_office_head_and_offered_to_its_people(gongwen, org, app):
    task = _to_sign_off(gongwen, org)
    city = org.unit("city_office").id
    office_head = logged_in(app, "lyg.head3")  # 综合处, the city office's own 办公室
    page = office_head.get("/settings/opinions").get_data(as_text=True)
    assert "连云港市人民政府办公室的默认常用意见" in page
    office_head.post("/settings/opinions", data={"csrf_token": csrf_token(office_head, "/settings/opinions"),
                                                 "text": "请各地认真贯彻落实", "unit_id": str(city)})
    assert "<option>请各地认真贯彻落实</option>" in logged_in(app, "lyg.signer").get(f"/tasks/{task.id}").get_data(
        as_text=True)
    assert "请各地认真贯彻落实" not in logged_in(app, "dh.leader").get("/settings/opinions").get_data(as_text=True)

    before = _count(gongwen, AuditEvent, AuditEvent.action == "opinion.refused")
    for login, unit in (("lyg.head", str(city)), ("dh.head", str(city)), ("lyg.head3", "abc"),
                        ("lyg.head3", str(org.unit("finance").id))):
        client = logged_in(app, login)
        refused = client.post("/settings/opinions", headers={"Accept": "application/json"}, data={
            "csrf_token": csrf_token(client, "/settings/opinions"), "text": "冒充的默认意见", "unit_id": unit})
        assert refused.status_code == 403
    assert _count(gongwen, AuditEvent, AuditEvent.action == "opinion.refused") == before + 4
    assert _count(gongwen, SavedOpinion, SavedOpinion.text == "冒充的默认意见") == 0
    with gongwen.db.session() as db:
        default = db.scalar(select(SavedOpinion.id).where(SavedOpinion.unit_id == city))
    client = logged_in(app, "lyg.signer")  # a leader of the unit uses its defaults, but does not keep them
    assert client.post(f"/settings/opinions/{default}/delete",
                       data={"csrf_token": csrf_token(client, "/settings/opinions")}).status_code == 404
    office_head.post(f"/settings/opinions/{default}/delete",
                     data={"csrf_token": csrf_token(office_head, "/settings/opinions")})
    assert _count(gongwen, SavedOpinion, SavedOpinion.unit_id == city) == 0


def test_the_trail_states_each_decision_in_words_with_the_persons_job_title(gongwen, org, app):
    task = _to_sign_off(gongwen, org, returned=True)
    page = logged_in(app, "lyg.signer").get(f"/tasks/{task.id}").get_data(as_text=True)
    trail = re.search(r'<ol class="trail">(.*?)</ol>', page, re.S).group(1)
    head = org.person("lyg.head").name
    assert f"部门审核 · {head}（秘书一处处长） · <strong class=\"decision\">退回修改</strong>：请补充排查时限" in trail
    assert f"部门审核 · {head}（秘书一处处长） · <strong class=\"decision\">同意</strong>：拟同意" in trail
    assert f"{org.person('lyg.reviewer').name}（综合处副处长） · <strong class=\"decision\">同意</strong>" in trail


def test_forged_signatures_are_refused_and_the_step_stays_undone(gongwen, org, app):
    task = _to_sign_off(gongwen, org)
    huge = Image.frombytes("RGBA", (1000, 1000), bytes(range(256)) * (4000 * 1000 // 256) + bytes(4000 * 1000 % 256))
    out = io.BytesIO()
    huge.save(out, "PNG", compress_level=0)
    gif = io.BytesIO()
    Image.new("RGB", (60, 20), "black").save(gif, "GIF")
    forgeries = {
        "手写签名应为签名板生成的 PNG 图片": ["<script>alert(1)</script>", _data_url(_png(), "image/svg+xml")],
        "手写签名应为 PNG 图片": [_data_url(gif.getvalue()), _data_url(b"GIF89a" + b"\0" * 40)],
        "手写签名图片的编码不正确": ["data:image/png;base64,@@@not-base64@@@"],
        "手写签名图片不能超过 200 KB": [_data_url(out.getvalue())],
        "手写签名图片的尺寸应在 2400×1200 像素以内": [_data_url(_png(size=(5000, 100)))],
        "手写签名是空白的": [_data_url(_png(drawn=False)), _data_url(_png(drawn=False, mode="RGB"))],
        "手写签名图片已损坏": [_data_url(_png()[:60])],
    }
    refusals = _count(gongwen, AuditEvent, AuditEvent.action == "task.refused")
    for said, urls in forgeries.items():
        for url in urls:
            answer = _sign_off(app, task, signature=url)
            assert answer.status_code == 422 and said in answer.get_data(as_text=True), (said, url[:60])
    assert _count(gongwen, AuditEvent, AuditEvent.action == "task.refused") == refusals + 10
    with gongwen.db.session() as db:
        assert db.get(Task, task.id).state == TaskState.READY
    assert task_of(gongwen, org.person("lyg.signer"), "签发").id == task.id


def test_a_drawn_signature_is_kept_with_the_signed_opinion_and_shown_only_to_the_units_people(gongwen, org, app):
    task = _to_sign_off(gongwen, org)
    assert _sign_off(app, task, signature=_data_url(_png())).status_code == 302
    with gongwen.db.session() as db:
        done = db.get(Task, task.id)
        kept = done.form_data["signature"]
    assert re.fullmatch(r"[0-9a-f]{64}", kept)  # the step keeps the hash; the PNG is in the file store
    assert Image.open(io.BytesIO(gongwen.files.get(kept))).size == (600, 200)

    drafter = logged_in(app, "lyg.drafter")
    proofread = task_of(gongwen, org.person("lyg.drafter"), "校对")
    page = drafter.get(f"/tasks/{proofread.id}").get_data(as_text=True)
    signer = org.person("lyg.signer")
    assert f"签发 · {signer.name}（主任） · <strong class=\"decision\">同意签发</strong>：同意印发" in page
    assert f'<img class="handwriting" src="/signatures/{task.id}" alt="手写签名">' in page
    assert "验证通过" in page  # the certificate's signature covers the signature's hash with the opinion
    image = drafter.get(f"/signatures/{task.id}")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == gongwen.files.get(kept)

    for outsider in OUTSIDERS:
        assert logged_in(app, outsider).get(f"/signatures/{task.id}").status_code == 404
    assert "/login" in app.test_client().get(f"/signatures/{task.id}").headers["Location"]
    unsigned = task_of(gongwen, org.person("lyg.drafter"), "校对").id
    assert drafter.get(f"/signatures/{unsigned}").status_code == 404  # a step without one
    assert drafter.get("/signatures/not-a-uuid").status_code == 404


def test_the_printed_sign_off_sheet_shows_every_opinion_with_job_title_date_and_signature(gongwen, sealed, app):
    org = sealed
    task = _to_sign_off(gongwen, org)
    _sign_off(app, task, signature=_data_url(_png()))
    with gongwen.db.session() as db:
        document_id = document_for_instance(db, task.instance_id).id
    act(gongwen, org.person("lyg.drafter"), "校对", {"decision": "ok"})
    act(gongwen, org.person("lyg.sealer"), "用印", {"confirm": True})

    url = f"/documents/{document_id}/print/sign-off"
    sheet = logged_in(app, "lyg.drafter").get(url).get_data(as_text=True)
    signer, head = org.person("lyg.signer"), org.person("lyg.head")
    assert "连云港市人民政府办公室发文稿纸" in sheet and NOTICE["title"] in sheet and "连政办发〔2026〕" in sheet
    assert "@page { size: A4" in sheet and '<button type="button" id="print">打印</button>' in sheet
    assert "同意签发。同意印发" in sheet and f"{signer.name}（主任）　2026-11-23" in sheet
    assert f'<img src="/signatures/{task.id}" alt="手写签名">' in sheet
    assert "同意。拟同意" in sheet and f"{head.name}（秘书一处处长）" in sheet
    assert "东海县人民政府办公室" in sheet and "平件" in sheet and "无（非密）" in sheet
    assert "<header>" not in sheet  # no menu on a print page

    for outsider in ("dh.clerk", "dh.leader", "cz.signer", "sysadmin", "auditor"):  # dh received it
        assert logged_in(app, outsider).get(url).status_code == 404
    assert logged_in(app, "lyg.drafter").get(f"/documents/{document_id}/print/handling").status_code == 404
    assert logged_in(app, "lyg.drafter").get("/documents/99999999999/print/sign-off").status_code == 404


def test_the_system_administrator_sets_a_job_title_and_a_bad_one_changes_nothing(gongwen, org, app):
    person = org.person("lyg.clerk")
    admin = logged_in(app, "sysadmin")
    token = csrf_token(admin, "/admin/system/")
    url = f"/admin/system/people/{person.id}/job-title"
    done = admin.post(url, data={"csrf_token": token, "job_title": "文电处副处长"}, follow_redirects=True)
    assert "已修改职务" in done.get_data(as_text=True)
    for bad, said in (("处" * 51, "职务不能超过 50 个字"), ("科员\u200b", "不可见的控制字符")):
        page = admin.post(url, data={"csrf_token": token, "job_title": bad}, follow_redirects=True)
        assert "未生效" in page.get_data(as_text=True) and said in page.get_data(as_text=True)
    with gongwen.db.session() as db:
        assert db.get(Person, person.id).job_title == "文电处副处长"
    head = logged_in(app, "lyg.head")
    assert head.post(url, data={"csrf_token": csrf_token(head), "job_title": "局长"}).status_code == 403
    assert admin.post("/admin/system/people/99999999/job-title",
                      data={"csrf_token": token, "job_title": "x"}).status_code == 404


def test_the_printed_handling_sheet_shows_the_proposal_the_signed_instruction_and_the_result(gongwen, sealed, app):
    org = sealed
    document = send(gongwen, org, main_to=("donghai_office",))
    act(gongwen, org.person("dh.clerk"), "签收", {"decision": "sign"})
    act(gongwen, org.person("dh.clerk"), "分办", {"lead_department": org.departments["donghai_general"].id})
    act(gongwen, org.person("dh.head"), "拟办", {"proposal": "建议呈县领导阅示后由综合股办理"})
    act(gongwen, org.person("dh.handler"), "承办人决定下一步",
        {"next": "instruct", "leader": org.person("dh.leader").id})
    instruct = task_of(gongwen, org.person("dh.leader"), "领导批示")
    leader = logged_in(app, "dh.leader")
    url = f"/tasks/{instruct.id}"
    page = leader.get(url).get_data(as_text=True)
    assert 'aria-label="手写签名板"' in page and 'id="instruction-saved"' in page  # 批示 has the pad and the list
    assert leader.post(url, data={"csrf_token": csrf_token(leader, url), "instruction": "请综合股抓紧落实",
                                  "signature": _data_url(_png())}).status_code == 302
    act(gongwen, org.person("dh.handler"), "办理", {"result": "已组织全县排查，报送排查表"})

    sheet_url = f"/documents/{document.id}/print/handling"
    sheet = logged_in(app, "dh.handler").get(sheet_url).get_data(as_text=True)
    with gongwen.db.session() as db:
        number = db.scalar(select(IncomingRecord.incoming_number).where(IncomingRecord.document_id == document.id))
    assert "收文处理笺" in sheet and number in sheet and document.doc_number in sheet
    assert "连云港市人民政府办公室" in sheet and NOTICE["title"] in sheet
    assert "建议呈县领导阅示后由综合股办理" in sheet and f"{org.person('dh.head').name}（综合股股长）" in sheet
    assert "请综合股抓紧落实" in sheet and f"{org.person('dh.leader').name}（主任）" in sheet
    assert f'<img src="/signatures/{instruct.id}" alt="手写签名">' in sheet and "已组织全县排查，报送排查表" in sheet
    assert logged_in(app, "dh.clerk").get(f"/signatures/{instruct.id}").status_code == 200
    # The sender reads the document, never how the county worked it.
    for outsider in ("lyg.drafter", "lyg.signer", "gy.clerk", "sysadmin", "auditor"):
        client = logged_in(app, outsider)
        assert client.get(sheet_url).status_code == 404 and client.get(f"/signatures/{instruct.id}").status_code == 404
    assert "/login" in app.test_client().get(sheet_url).headers["Location"]
