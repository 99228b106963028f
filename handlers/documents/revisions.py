"""留痕: every version of a document's wording, and the tracked changes between them (花脸稿 and 清稿).

A revision (``DocumentRevision``) keeps the whole title and body as someone left them: the drafter's
submission (number 1, again after each return), a reviewer's or signing leader's change in their decision
step (部门审核, 办公室核稿, 签发), a proofreading correction. Only wording that changed makes a revision.
``Document.body`` stays the current text, which everything downstream (typesetting, sealing) reads.

Reviewers and signing leaders edit the body until the document is signed off; after that it is frozen
for them (proofreading corrects it in its own step, with a reason, and is kept as a revision too).
会签 by other departments and units gives opinions and does not edit: the countersigning party agrees
or disagrees with the text the issuing unit owns (its form has no body).

The tracked changes are computed when shown, never stored: paragraphs are matched first, then the
characters of changed paragraphs (Chinese has no spaces to split words on), and unchanged runs of one
or two characters between two changes are folded into them so a rewritten phrase reads as one deletion
and one insertion rather than a comb of single characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import Refused
from engine.models import Task, TaskState

from .models import DocStatus, Document, DocumentRevision

# The wording may be changed in a decision step while the document waits for review or sign-off.
EDITABLE = {DocStatus.REVIEWING, DocStatus.AWAITING_SIGN_OFF}
FROZEN = "公文已签发，正文不能再修改；如有错漏，请在校对时提出更正"
SIGNED_BY_ANOTHER = "联合发文的其他机关领导已签发此稿，正文不能再修改；如需修改，请退回修改"
SIGN_OFF_FORM = "outgoing_sign_off"
# Unchanged runs this short between two changes are shown as part of the change.
_FOLD = 2


def paragraphs(text: str) -> list[str]:
    """A body as typed, as the document keeps it: each non-blank line, stripped, is a paragraph."""
    return [p.strip() for p in text.splitlines() if p.strip()]


def revisions(session: Session, document_id: int) -> list[DocumentRevision]:
    """The document's revisions, first to last."""
    return list(session.scalars(select(DocumentRevision).where(DocumentRevision.document_id == document_id)
                                .order_by(DocumentRevision.number)))


def record(session: Session, document: Document, person_id: int, task: Task) -> DocumentRevision | None:
    """Keep the document's current title and body as its next revision, made by ``person_id`` in ``task``;
    None (and nothing written) when they are the same as the last revision's."""
    last = session.scalar(select(DocumentRevision).where(DocumentRevision.document_id == document.id)
                          .order_by(DocumentRevision.number.desc()).limit(1))
    body = "\n".join(document.body)
    if last is not None and last.body == body and last.title == document.title:
        return None
    revision = DocumentRevision(document_id=document.id, number=last.number + 1 if last else 1, title=document.title,
                                body=body, person_id=person_id, task_id=task.id, step=task.name,
                                created_at=clock.now())
    session.add(revision)
    return revision


def record_completed(ctx: Any, document: Document) -> DocumentRevision | None:
    """:func:`record` from a service step that follows a person's task (saving the draft, a correction)."""
    completion = ctx.completion
    return record(ctx.session, document, completion.person_id, ctx.session.get(Task, completion.task_id))


def edit_body(ctx: Any, task: Task, person_id: int, values: dict) -> None:
    """The 修改正文（留痕） of a decision form (``engine.registry.CompletionHook``).

    The submitted ``body`` is taken out of the values (the text lives in the document and its revision, not
    in the workflow); a changed one becomes the document's body and a new revision, whose number the step's
    values keep. A blank one (the field left out or emptied) leaves the body as it is. Refused when the
    document is already signed off, or (a joint document) another issuer's leader has signed it off.
    """
    text = values.pop("body", "")
    if not text.strip():
        return
    document = ctx.session.scalar(select(Document).where(Document.instance_id == task.instance_id))
    new = paragraphs(text)
    if new == document.body:
        return
    if document.status not in EDITABLE:
        raise Refused(FROZEN)
    if task.form_key == SIGN_OFF_FORM and _signed_off_by_another(ctx.session, task):
        raise Refused(SIGNED_BY_ANOTHER)
    document.body, document.updated_at = new, clock.now()
    revision = record(ctx.session, document, person_id, task)
    values["revision"] = revision.number
    ctx.audit("document.revise", actor_id=person_id, document_id=document.id, revision=revision.number)


def _signed_off_by_another(session: Session, task: Task) -> bool:
    """Whether another issuer's leader of a joint document already signed off the text as it stands: a 签发
    completed since the draft was last submitted. A change now would slip past their signature."""
    submitted = select(func.max(Task.completed_at)).where(Task.instance_id == task.instance_id,
                                                          Task.form_key == "outgoing_draft").scalar_subquery()
    return session.scalar(select(Task.id).where(
        Task.instance_id == task.instance_id, Task.form_key == SIGN_OFF_FORM, Task.state == TaskState.COMPLETED,
        Task.completed_at > submitted).limit(1)) is not None


@dataclass(frozen=True)
class Span:
    """A run of text in the 花脸稿: inserted by one revision (None: there from the first), deleted by a later
    one (None: still in the text). A deleted or inserted line break is shown as ``↵``."""

    text: str
    inserted: Any = None
    deleted: Any = None


@dataclass
class _Char:
    char: str
    inserted: Any = None
    deleted: Any = None


def tracked(versions: Sequence[tuple[str, Any]]) -> list[list[Span]]:
    """The 花脸稿 of texts ``versions`` (text, the revision that left it), first to last: the last text with
    every later version's insertions and deletions in place, as paragraphs of spans."""
    chars = [_Char(c) for c in versions[0][0] + "\n"]
    previous = versions[0][0]
    for text, revision in versions[1:]:
        chars = _apply(chars, _opcodes(previous + "\n", text + "\n"), text + "\n", revision)
        previous = text
    return _paragraphs(chars)


def _opcodes(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    """Character opcodes from ``old`` to ``new`` (both ending in a line break): lines matched first, the
    characters of each changed block of lines then, with short unchanged runs folded into the changes."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    a_at, b_at = _starts(a), _starts(b)
    ops = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        x, y = a_at[i1], b_at[j1]
        if tag != "replace":
            ops.append((tag, x, a_at[i2], y, b_at[j2]))
            continue
        inner = SequenceMatcher(None, old[x:a_at[i2]], new[y:b_at[j2]], autojunk=False).get_opcodes()
        ops += [(t, x + p1, x + p2, y + q1, y + q2) for t, p1, p2, q1, q2 in inner]
    return _folded(ops, old)


def _starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _folded(ops: list[tuple[str, int, int, int, int]], old: str) -> list[tuple[str, int, int, int, int]]:
    merged: list[tuple[str, int, int, int, int]] = []
    for op in ops:
        merged.append(op)
        while len(merged) >= 3 and merged[-2][0] == "equal" and "equal" not in (merged[-1][0], merged[-3][0]):
            _, i1, i2, _, _ = merged[-2]
            if i2 - i1 > _FOLD or "\n" in old[i1:i2]:
                break
            first, last = merged[-3], merged[-1]
            merged[-3:] = [("replace", first[1], last[2], first[3], last[4])]
    return merged


def _apply(chars: list[_Char], ops, new: str, revision: Any) -> list[_Char]:
    """``chars`` (the text so far, deleted characters kept in place) after ``revision``'s ``ops``."""
    live = [i for i, c in enumerate(chars) if c.deleted is None] + [len(chars)]
    out: list[_Char] = []
    cursor = 0
    for tag, i1, i2, j1, j2 in ops:
        out += chars[cursor:live[i1]]
        cursor = live[i1]
        if tag in ("equal", "delete", "replace"):
            for c in chars[cursor:live[i2]]:
                out.append(c if tag == "equal" or c.deleted is not None else _Char(c.char, c.inserted, revision))
            cursor = live[i2]
        if tag in ("insert", "replace"):
            out += [_Char(c, revision) for c in new[j1:j2]]
    return out + chars[cursor:]


def _paragraphs(chars: list[_Char]) -> list[list[Span]]:
    """Spans of like characters, a paragraph ending at each line break still in the text."""
    paragraphs: list[list[Span]] = [[]]
    for c in chars:
        shown = "↵" if c.char == "\n" and (c.inserted is not None or c.deleted is not None) else c.char
        current = paragraphs[-1]
        if shown != "\n":
            if current and (current[-1].inserted, current[-1].deleted) == (c.inserted, c.deleted):
                current[-1] = Span(current[-1].text + shown, c.inserted, c.deleted)
            else:
                current.append(Span(shown, c.inserted, c.deleted))
        if c.char == "\n" and c.deleted is None:
            paragraphs.append([])
    return paragraphs[:-1] if not paragraphs[-1] else paragraphs  # the line break every text was given
