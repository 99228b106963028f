"""留痕 in the browser: the department head changes a sentence of the draft in 部门审核, and the office reviewer
sees the change in the 花脸稿 as a deletion and an insertion attributed to the head."""

from sqlalchemy import create_engine, select

from engine.models import Person as Account
from tests.browser_support import SHOTS, Person

TITLE = "连云港市人民政府办公室关于做好元旦期间值班工作的通知"
BODY = "为做好元旦期间值班工作，现将有关事项通知如下。\n一、严格值班制度\n各单位须于12月25日前报送值班表。"
# The head rewrites the heading and changes a date, adding a clause to the sentence.
EDITED = ("为做好元旦期间值班工作，现将有关事项通知如下。\n一、落实领导带班制度\n"
          "各单位须于12月20日前报送值班表，并明确带班领导。")


def test_a_heads_change_shows_as_tracked_changes_in_the_marked_up_copy(browser, server, server_env):
    drafter = Person(browser, server, "lyg.drafter", title=TITLE)
    drafter.page.get_by_role("button", name="起草公文").click()
    page = drafter.page
    page.locator("#doc_type").select_option(label="通知")
    page.locator("#direction").select_option(label="下行文")
    page.locator("#title").fill(TITLE)
    page.locator("#main_to").select_option(label=["东海县人民政府办公室"])
    page.locator("#body").fill(BODY)
    drafter.submit()

    head = Person(browser, server, "lyg.head", title=TITLE)
    head.open_task("部门审核")
    assert head.page.get_by_label("修改正文（留痕）").input_value() == BODY  # the text as it stands, to change
    head.page.locator("#decision").select_option(label="同意")
    head.page.get_by_label("修改正文（留痕）").fill(EDITED)
    head.shot("traces-editing-in-review")
    head.submit()
    head_name = _name(server_env, "lyg.head")

    reviewer = Person(browser, server, "lyg.reviewer", title=TITLE)
    reviewer.open_task("办公室核稿")
    assert reviewer.page.get_by_label("修改正文（留痕）").input_value() == EDITED
    with reviewer.context.expect_page() as opened:
        reviewer.page.get_by_role("link", name="查看花脸稿").press("Enter")  # the keyboard: see Person.submit
    traces = opened.value
    traces.wait_for_load_state()
    deleted, inserted = traces.locator(".traces del"), traces.locator(".traces ins")
    assert deleted.all_inner_texts() == ["严格值", "5"]
    assert inserted.all_inner_texts() == ["落实领导带", "0", "，并明确带班领导"]
    for mark in deleted.all() + inserted.all():
        assert mark.get_attribute("title").split("：")[1].startswith(f"{head_name} · 部门审核 · ")
    legend = traces.get_by_role("region", name="版本").inner_text()
    assert "第 2 版" in legend and head_name in legend and "部门审核" in legend
    SHOTS.mkdir(parents=True, exist_ok=True)
    traces.screenshot(path=str(SHOTS / "traces-marked-up.png"), full_page=True)

    traces.get_by_role("link", name="清稿").click()
    clean = traces.get_by_role("region", name="清稿").inner_text()
    assert "各单位须于12月20日前报送值班表，并明确带班领导。" in clean and "25日" not in clean
    for person in (drafter, head, reviewer):
        person.close()


def _name(server_env: dict[str, str], login: str) -> str:
    """A person's name in the server's database (the demo's names are the demo's to change)."""
    engine = create_engine(server_env["GONGWEN_DATABASE_URL"])
    with engine.connect() as connection:
        name = connection.scalar(select(Account.name).where(Account.login == login))
    engine.dispose()
    return name
