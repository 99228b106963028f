"""Forms declared in a diagram: a user task lists its fields as properties, one per field, and gets a
``FormSpec`` built from them, validated and laid out like a coded form.

A field is the property ``field.<name>`` with the value ``<type>|label=<标签>[|required][|…]``:

========== ======================================= =============================================
type       what the person fills in                  options
========== ======================================= =============================================
text       one line (100 characters)                 ``max=N`` characters (at most 2000)
longtext   several lines (2000 characters)           ``max=N``
number     a whole number, 0 or more                  ``max=N`` the largest allowed
date       a day                                     —
daterange  two days, ``<name>_from`` ≤ ``<name>_to``   —
choice     one of the options                        ``options=value:标签,value:标签`` (required)
person     a person offered in the scope             ``scope=unit|department|area`` (default unit)
unit       a unit (or department) in the scope       ``scope=unit|department|area`` (default unit)
========== ======================================= =============================================

Person and unit pickers offer a list from the scope and the server refuses anything not offered.
Attachments are not a declared field type yet. :func:`build` raises ``ValueError`` with a Chinese
sentence for a declaration that is wrong; the engine reports it at deploy against the task.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Person, PersonStatus, RoleGrant
from engine.organisation import area_root
from engine.registry import FormSpec, declared_form_builder

from . import choices
from .fields import REQUIRED, FormSchema, text

TEMPLATE = "forms/declared.html"
TYPES = {"text": "单行文字", "longtext": "多行文字", "number": "数字", "date": "日期", "daterange": "日期范围",
         "choice": "选择", "person": "人员选择", "unit": "单位选择"}
SCOPES = ("unit", "department", "area")
_PICKERS = ("person", "unit")
_KEYS = {"label", "required", "max", "options", "scope"}
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
# What the engine and the start put in an instance's data: a form must not overwrite who it is routed to.
RESERVED = {"instance_id", "owning_unit_id", "initiator_id", "department_id", "office_department_id"}
_DEFAULT_MAX = {"text": 100, "longtext": 2000, "number": 10**9}
_MAX_LENGTH = 2000


def _attributes(value: str) -> tuple[str, dict[str, str]]:
    """``type|key=value|flag`` as the type and its attributes (a flag reads as ``"true"``)."""
    kind, *parts = [part.strip() for part in value.split("|")]
    attributes: dict[str, str] = {}
    for part in parts:
        key, _, given = part.partition("=")
        key = key.strip()
        if key not in _KEYS:
            raise ValueError(f"不认识的设置“{key}”（可用：{'、'.join(sorted(_KEYS))}）")
        if key in attributes:
            raise ValueError(f"设置“{key}”写了两次")
        attributes[key] = given.strip() if given else "true"
    return kind, attributes


def _options(text_: str) -> dict[str, str]:
    """``value:标签,value:标签`` (a bare ``标签`` is its own value)."""
    options: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in text_.split(","))):
        value, _, label = item.partition(":")
        value, label = value.strip(), (label.strip() or value.strip())
        if value in options:
            raise ValueError(f"选项“{value}”重复")
        options[value] = label
    if not options:
        raise ValueError("选择字段要列出选项（options=值:标签,值:标签）")
    return options


def _limit(attributes: dict[str, str], kind: str) -> int:
    given = attributes.get("max")
    if given is None:
        return _DEFAULT_MAX[kind]
    if not given.isdigit() or int(given) < 1 or (kind != "number" and int(given) > _MAX_LENGTH):
        raise ValueError(f"max 应为 1 到 {_MAX_LENGTH if kind != 'number' else '10 亿'} 之间的整数")
    return int(given)


def _fields(name: str, kind: str, attributes: dict[str, str]) -> dict[str, fields.Field]:
    """The schema fields one declaration makes (a date range makes two)."""
    label, required = attributes["label"], attributes.get("required") == "true"
    optional = {} if required else {"load_default": None}
    if kind in ("text", "longtext"):
        limit = _limit(attributes, kind)
        if kind == "longtext":
            limit = max(limit, 101)  # a field over 100 characters is the multi-line one
        return {name: text(label, limit, required=required)}
    if kind == "number":
        top = _limit(attributes, kind)
        return {name: fields.Integer(required=required, metadata={"label": label},
                                     validate=validate.Range(0, top, error=f"应为 0 到 {top} 之间的整数"),
                                     error_messages={**REQUIRED, "invalid": "应为整数"}, **optional)}
    if kind in ("date", "daterange"):
        def day(suffix: str) -> fields.Date:
            return fields.Date(required=required, metadata={"label": label + suffix},
                               error_messages={**REQUIRED, "invalid": "日期格式应为 2026-12-01"}, **optional)
        if kind == "date":
            return {name: day("")}
        return {f"{name}_from": day("（起）"), f"{name}_to": day("（止）")}
    if kind == "choice":
        options = _options(attributes.get("options", ""))
        return {name: fields.String(required=required, error_messages=REQUIRED, metadata={"label": label,
                                    "options": options}, validate=validate.OneOf(list(options), error="不是可选的值"),
                                    **optional)}
    return {name: fields.Integer(required=required, metadata={"label": label},
                                 error_messages={**REQUIRED, "invalid": "不是可选的值"}, **optional)}


def _check(name: str, kind: str, attributes: dict[str, str]) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError("字段名应以小写字母开头，只含小写字母、数字和下划线，至多 40 个字符")
    if name in RESERVED:
        raise ValueError(f"字段名 {name} 是流程自用的数据，请换一个")
    if kind not in TYPES:
        raise ValueError(f"不认识的字段类型“{kind}”（可用：{'、'.join(f'{k}（{v}）' for k, v in TYPES.items())}）")
    if not attributes.get("label"):
        raise ValueError("缺少标签（label=…）")
    if len(attributes["label"]) > 40:
        raise ValueError("标签至多 40 个字")
    if "options" in attributes and kind != "choice":
        raise ValueError("只有选择字段（choice）可以列出选项")
    if kind == "choice" and "options" not in attributes:
        raise ValueError("选择字段要列出选项（options=值:标签,值:标签）")
    if "scope" in attributes and kind not in _PICKERS:
        raise ValueError("只有人员选择和单位选择可以指定范围（scope）")
    if attributes.get("scope", "unit") not in SCOPES:
        raise ValueError(f"范围“{attributes['scope']}”不是 unit（本单位）、department（本部门）、area（本地区）之一")
    if "max" in attributes and kind not in _DEFAULT_MAX:
        raise ValueError("只有文字和数字字段可以设 max")


def _people(session: Session, person_id: int, unit_id: int, scope: str) -> list[tuple[Any, str]]:
    if scope == "unit":
        return choices.people(session, unit_id)
    query = select(Person.id, Person.name).where(Person.status == PersonStatus.ACTIVE)
    if scope == "department":
        department = session.get(Person, person_id).department_id
        query = query.where(Person.department_id == department, Person.unit_id == unit_id)
    else:
        area = {u for u, _ in _units(session, unit_id, "area")}
        query = query.join(RoleGrant, RoleGrant.person_id == Person.id).where(RoleGrant.unit_id.in_(area))
    return [tuple(row) for row in session.execute(query.distinct().order_by(Person.id)).all()]


def _units(session: Session, unit_id: int, scope: str) -> list[tuple[Any, str]]:
    """The instance's unit and the units under it; its departments; or every unit of its government's area."""
    if scope == "department":
        return choices.departments(session, unit_id)
    tree = choices.unit_tree(session)
    top = area_root(session, unit_id).id if scope == "area" else unit_id
    inside, grew = {top}, True
    while grew:
        below = {u["id"] for u in tree if u["parent"] in inside} - inside
        inside, grew = inside | below, bool(below)
    return [(u["id"], u["name"]) for u in tree if u["id"] in inside]


def _ranges_in_order(names: list[str]):
    @validates_schema
    def check(self, data, **kwargs):
        for name in names:
            first, last = data.get(f"{name}_from"), data.get(f"{name}_to")
            if first and last and last < first:
                raise ValidationError("结束日期不能早于开始日期", field_name=f"{name}_to")
    return check


def build(key: str, title: str, declared: list[tuple[str, str]]) -> FormSpec:
    """The form ``declared`` (``(name, "type|label=…")`` in the diagram's order) describes, under ``key``.

    Raises ``ValueError`` naming the field and what is wrong; nothing is registered then.
    """
    if not declared:
        raise ValueError("没有声明字段")
    attrs: dict[str, Any] = {}
    pickers: dict[str, tuple[str, str]] = {}
    ranges = []
    for name, value in declared:
        try:
            kind, attributes = _attributes(value)
            _check(name, kind, attributes)
            made = _fields(name, kind, attributes)
        except ValueError as err:
            raise ValueError(f"字段 {name}：{err}") from None
        for field_name in made:
            if field_name in attrs:
                raise ValueError(f"字段 {field_name} 重复声明")
        attrs |= made
        if kind in _PICKERS:
            pickers[name] = (kind, attributes.get("scope", "unit"))
        if kind == "daterange":
            ranges.append(name)
    if ranges:
        attrs["_ranges_in_order"] = _ranges_in_order(ranges)
    schema = type("DeclaredForm", (FormSchema,), attrs)

    def offered(session: Session, person_id: int, unit_id: int) -> dict[str, list[tuple[Any, str]]]:
        return {name: _people(session, person_id, unit_id, scope) if kind == "person" else
                _units(session, unit_id, scope) for name, (kind, scope) in pickers.items()}

    return FormSpec(key, schema, TEMPLATE, title, offered if pickers else None)


declared_form_builder(build)
