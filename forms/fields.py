"""Field helpers shared by forms, with the error messages in Chinese."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from engine.errors import Refused
from engine.files import Upload
from engine.text import clean
from handlers.opinions.handwriting import signature_png

REQUIRED = {"required": "必填", "null": "不能为空", "invalid": "格式不正确"}


# marshmallow's own messages, for fields that do not set theirs: people read Chinese.
_CHINESE = {
    "Unknown field.": "表单中没有这一项",
    "Missing data for required field.": "必填",
    "Field may not be null.": "不能为空",
    "Not a valid integer.": "应为整数",
    "Not a valid list.": "应为多项选择",
    "Not a valid boolean.": "应为是或否",
    "Not a valid string.": "应为文字",
    "Not a valid date.": "日期格式应为 2026-12-01",
}


def _translate(messages):
    if isinstance(messages, dict):
        return {key: _translate(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translate(m) for m in messages]
    return _CHINESE.get(messages, messages)


class FormSchema(Schema):
    """Base schema: unknown fields are refused, not silently dropped; every message is in Chinese."""

    class Meta:
        unknown = "raise"

    def handle_error(self, error, data, **kwargs):
        if isinstance(error.messages, dict):
            translated = _translate(error.messages)
            error.messages.clear()
            error.messages.update(translated)
        raise error


def text(label: str, max_length: int, *, required: bool = True, opinion: bool = False) -> fields.String:
    """Text a person types: at most ``max_length`` characters, no invisible control characters
    (line breaks only in a multi-line field, one over 100 characters). An ``opinion`` (意见, 批示, 拟办)
    is offered the person's 常用意见 on the page."""
    multiline = max_length > 100
    length = validate.Length(min=1 if required else 0, max=max_length,
                             error=f"长度应在 {1 if required else 0} 到 {max_length} 字之间")

    def visible(value: str) -> None:
        try:
            clean(value, field=label, max_length=len(value), required=False, lines=multiline)  # length: above
        except Refused as err:
            raise ValidationError(str(err)) from None

    extra = {} if required else {"load_default": ""}
    return fields.String(required=required, validate=[length, visible], error_messages=REQUIRED,
                         metadata={"label": label, "multiline": multiline, "opinion": opinion}, **extra)


class _Handwriting(fields.String):
    """A handwritten signature posted as a PNG data URL; loads as an ``Upload`` that the step keeps by hash."""

    def _deserialize(self, value, attr, data, **kwargs) -> Upload:
        try:
            return Upload(signature_png(super()._deserialize(value, attr, data, **kwargs)), "image/png")
        except Refused as err:
            raise ValidationError(str(err)) from None


def handwriting() -> fields.String:
    """An optional 手写签名 drawn on the page's signature pad (left out: none drawn)."""
    return _Handwriting(metadata={"label": "手写签名", "handwriting": True})


def choice(label: str, options: dict[str, str]) -> fields.String:
    """One of ``options`` (value -> label shown in the form)."""
    return fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.OneOf(list(options), error="不是可选的值"),
                         metadata={"label": label, "options": options})


def day(label: str) -> fields.Date:
    return fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式应为 2026-12-01"},
                       metadata={"label": label})
