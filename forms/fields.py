"""Field helpers shared by forms, with the error messages in Chinese."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

REQUIRED = {"required": "必填", "null": "不能为空", "invalid": "格式不正确"}


class FormSchema(Schema):
    """Base schema: unknown fields are refused, not silently dropped."""

    class Meta:
        unknown = "raise"

    def handle_error(self, error, data, **kwargs):
        for field, messages in list(error.messages.items()) if isinstance(error.messages, dict) else []:
            if messages == ["Unknown field."]:
                error.messages[field] = ["表单中没有这一项"]
        raise error


def text(label: str, max_length: int, *, required: bool = True) -> fields.String:
    length = validate.Length(min=1 if required else 0, max=max_length,
                             error=f"长度应在 {1 if required else 0} 到 {max_length} 字之间")
    extra = {} if required else {"load_default": ""}
    return fields.String(required=required, validate=length, error_messages=REQUIRED,
                         metadata={"label": label, "multiline": max_length > 100}, **extra)


def choice(label: str, options: dict[str, str]) -> fields.String:
    """One of ``options`` (value -> label shown in the form)."""
    return fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.OneOf(list(options), error="不是可选的值"),
                         metadata={"label": label, "options": options})


def day(label: str) -> fields.Date:
    return fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式应为 2026-12-01"},
                       metadata={"label": label})
