"""The form of the phone notice process (电话通知办理): the person routed to marks it done with a note."""

from __future__ import annotations

from engine.registry import form
from handlers.office_notes.models import PhoneNotice

from .fields import FormSchema, text


class PhoneNoticeHandle(FormSchema):
    note = text("办理情况", 1000)


def _record(session, task, data: dict) -> dict:
    """The phone notice as recorded, beside the form: who called whom, when, what, by when."""
    return {"phone_notice": session.get(PhoneNotice, data.get("phone_notice_id"))}


form("phone_notice_handle", PhoneNoticeHandle, "forms/phone_notice_handle.html", "办理电话通知", context=_record)
