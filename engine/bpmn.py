"""BPMN in and out of SpiffWorkflow: hardened parsing, deploy checks, specs and state.

Diagrams are data written by administrators, so a file is parsed without DTDs,
entities or network access, validated against the BPMN schema, and checked so that
every service task names a registered handler, every user task a registered form,
every lane a role, and every expression compiles under the restricted evaluator.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util import task as _spiff_bpmn_task_util
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util import task as _spiff_task_util

from .errors import DeployError
from .expressions import ExpressionError, compile_expression
from .models import ROLE_LABELS, Role
from .registry import DECLARED_PREFIX, FORMS, HANDLERS, declare_form

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# SpiffWorkflow stops walking the task tree at depth 1000 and then reports a long-running
# process as complete (notes §10a); Gongwen's reminder and return loops can go deeper.
_spiff_task_util.TaskIterator.__init__.__defaults__ = (None, 10**6, True, None)
_spiff_bpmn_task_util.BpmnTaskIterator.__init__.__defaults__ = (None, 10**6, True, False, None)



INITIATOR_LANE = "发起人"
LANE_ROLES: dict[str, Role] = {label: role for role, label in ROLE_LABELS.items() if not role.is_admin}
LANE_ROLES |= {role.value: role for role in Role if not role.is_admin}
# Properties of a user task that are expressions evaluated against the task's data.
EXPRESSION_PROPERTIES = ("candidateUnit", "candidateDepartment", "candidatePerson", "due")

# A user task declares a field of its form with the property ``field.<name>`` (see ``forms.declared``);
# a process says who may start it and under which heading with the properties named in START_PROPERTIES.
FIELD_PREFIX = "field."
START_PROPERTIES = ("startRoles", "category")
OTHER_CATEGORY = "其他"

_SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
)
MAX_BPMN_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ParsedProcess:
    process_id: str
    name: str
    spec: object
    subprocess_specs: dict
    # Messages that start a non-interrupting event subprocess: the instance listens for them while it runs
    # (SpiffWorkflow does not list them among its waiting events).
    event_messages: tuple[str, ...] = ()
    content: bytes = b""


def _event_messages(root: etree._Element) -> tuple[str, ...]:
    names = {m.get("id"): m.get("name") for m in root.iter(f"{{{BPMN_NS}}}message")}
    found = []
    for sub in root.iter(f"{{{BPMN_NS}}}subProcess"):
        if sub.get("triggeredByEvent") != "true":
            continue
        for start in sub.findall(f"{{{BPMN_NS}}}startEvent"):
            for definition in start.findall(f"{{{BPMN_NS}}}messageEventDefinition"):
                found.append(names.get(definition.get("messageRef")))
    return tuple(sorted(n for n in found if n))


@dataclass(frozen=True)
class StartDeclaration:
    """Who may start a process from the 发起 page (none: it is started by the system or a page of its own)."""

    start_roles: frozenset[Role]
    category: str


def _own_properties(element: etree._Element) -> list[tuple[str, str]]:
    """The ``spiffworkflow:property`` names and values of ``element`` itself (not its children's), in order."""
    path = f"./{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"
    return [(p.get("name") or "", p.get("value") or "") for p in element.findall(path)]


def start_declaration(root: etree._Element, filename: str) -> StartDeclaration:
    """The process's ``startRoles`` (business roles by code or Chinese name, comma-separated) and ``category``."""
    process = root.find(f"{{{BPMN_NS}}}process")
    props = dict(_own_properties(process))
    roles = set()
    for name in filter(None, (n.strip() for n in re.split(r"[,，、]", props.get("startRoles", "")))):
        if name not in LANE_ROLES:
            known = "、".join(r.value for r in Role if not r.is_admin)
            raise DeployError(filename, f"流程的 startRoles 中“{name}”不是业务角色（可用：{known}）", process.get("id"))
        roles.add(LANE_ROLES[name])
    category = props.get("category", "").strip() or OTHER_CATEGORY
    if len(category) > 20 or not category.isprintable():
        raise DeployError(filename, "流程的 category（分类）应为至多 20 个可见字符", process.get("id"))
    return StartDeclaration(frozenset(roles), category)


def declare_forms(root: etree._Element, filename: str) -> dict[str, str]:
    """Build and register the form each user task declares with ``field.*`` properties; returns the form
    key by task id. The key is a hash of the declaration, so versions declaring the same form share it."""
    keys = {}
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        declared = [(name.removeprefix(FIELD_PREFIX), value) for name, value in _own_properties(task)
                    if name.startswith(FIELD_PREFIX)]
        if not declared:
            continue
        title = task.get("name") or task.get("id")
        digest = hashlib.sha256(json.dumps([title, declared], ensure_ascii=False).encode()).hexdigest()
        key = DECLARED_PREFIX + digest[:40]
        try:
            declare_form(key, title, declared)
        except ValueError as err:
            raise DeployError(filename, f"用户任务“{title}”的表单声明有误：{err}", task.get("id")) from None
        keys[task.get("id")] = key
    return keys


def _use_declared_forms(keys: dict[str, str], spec: object, subprocess_specs: dict) -> None:
    """Name each declared form as the task's ``formKey``, where the inbox projection reads it."""
    for process_spec in (spec, *subprocess_specs.values()):
        for task_id, key in keys.items():
            if task_id in process_spec.task_specs:
                process_spec.task_specs[task_id].extensions.setdefault("properties", {})["formKey"] = key


def parse_xml(content: bytes, filename: str) -> etree._Element:
    """Parse with no DTD, entities or network; refuse any DOCTYPE."""
    if len(content) > MAX_BPMN_BYTES:
        raise DeployError(filename, f"文件过大（{len(content)} 字节），上限为 {MAX_BPMN_BYTES} 字节")
    try:
        root = etree.fromstring(content, _SAFE_XML)
    except etree.XMLSyntaxError as err:
        raise DeployError(filename, f"不是格式正确的 XML：第 {err.lineno} 行：{err.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise DeployError(filename, "含有 DOCTYPE 声明；为安全起见，流程文件不得声明 DTD 或实体")
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DeployError(filename, "根元素不是 BPMN 2.0 的 definitions")
    return root


def _element_id(node: etree._Element) -> str | None:
    for el in (node, *node.iterancestors()):
        if el.get("id") and etree.QName(el).namespace == BPMN_NS:
            return el.get("id")
    return None


def check_definition(content: bytes, filename: str) -> ParsedProcess:
    """Everything a deploy checks; returns the parsed process or raises :class:`DeployError`."""
    root = parse_xml(content, filename)
    try:
        VALIDATOR.validate(root, filename)
    except ValidationException as err:
        raise DeployError(filename, f"不符合 BPMN 2.0 模式：第 {err.line_number} 行：{err}") from None
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if len(processes) != 1:
        raise DeployError(filename, f"应当恰好包含一个流程（process），实际有 {len(processes)} 个")
    process_id = processes[0].get("id")
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        name = (lane.get("name") or "").strip()
        if name != INITIATOR_LANE and name not in LANE_ROLES:
            known = "、".join([INITIATOR_LANE, *(r.label for r in Role if not r.is_admin)])
            raise DeployError(filename, f"泳道“{name}”没有对应的角色（可用：{known}）", lane.get("id"))
    _check_ids(root, filename)
    _check_tasks(processes[0], filename)
    start_declaration(root, filename)
    declared = declare_forms(root, filename)
    _check_expressions(root, filename)
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except (ValidationException, SpiffWorkflowException) as err:
        raise DeployError(filename, f"无法解析：{err}", getattr(err, "id", None)) from None
    _use_declared_forms(declared, spec, subprocess_specs)
    return ParsedProcess(process_id, processes[0].get("name") or process_id, spec, subprocess_specs,
                         _event_messages(root), content)


def _check_ids(root: etree._Element, filename: str) -> None:
    """SpiffWorkflow indexes extension elements' ids with the diagram's, and the later one wins.

    A parameter or operator whose id equals an element's would silently replace that
    element, so the clash is refused here with both named.
    """
    elements = {el.get("id") for el in root.iter() if el.get("id") and etree.QName(el).namespace == BPMN_NS}
    for ext in root.iter(f"{{{SPIFF_NS}}}*"):
        if ext.get("id") in elements:
            kind = etree.QName(ext).localname
            raise DeployError(filename, f"扩展元素 spiffworkflow:{kind} 的 id “{ext.get('id')}”与流程元素重名，请改名",
                              _element_id(ext))


def _check_tasks(process: etree._Element, filename: str) -> None:
    """Every service task names a registered handler; every user task a form and someone to do it."""
    in_lane = {ref.text.strip() for ref in process.iter(f"{{{BPMN_NS}}}flowNodeRef") if ref.text}
    for task in process.iter(f"{{{BPMN_NS}}}serviceTask"):
        label = task.get("name") or task.get("id")
        operator = task.find(f".//{{{SPIFF_NS}}}serviceTaskOperator")
        if operator is None:
            raise DeployError(filename, f"服务任务“{label}”没有指定处理程序（spiffworkflow:serviceTaskOperator）",
                              task.get("id"))
        if operator.get("id") not in HANDLERS:
            message = f"服务任务“{label}”调用的处理程序 {operator.get('id')!r} 未注册"
            raise DeployError(filename, message, task.get("id"))
    business_roles = {r.value for r in Role if not r.is_admin}
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        label = task.get("name") or task.get("id")
        props = {p.get("name"): p.get("value") for p in task.iter(f"{{{SPIFF_NS}}}property")}
        form_key = props.get("formKey")
        declared = any((name or "").startswith(FIELD_PREFIX) for name in props)
        if form_key and declared:
            message = f"用户任务“{label}”既指定了表单 formKey 又声明了字段（field.*），只能二选一"
            raise DeployError(filename, message, task.get("id"))
        if not form_key and not declared:
            message = f"用户任务“{label}”没有指定表单（spiffworkflow:property formKey）或声明字段（field.*）"
            raise DeployError(filename, message, task.get("id"))
        if form_key and form_key not in FORMS:
            raise DeployError(filename, f"用户任务“{label}”的表单 {form_key!r} 未注册", task.get("id"))
        role = props.get("candidateRole")
        if role is not None and role not in business_roles:
            raise DeployError(filename, f"用户任务“{label}”的 candidateRole {role!r} 不是业务角色", task.get("id"))
        if task.get("id") not in in_lane and role is None and "candidatePerson" not in props:
            raise DeployError(filename, f"用户任务“{label}”不在任何泳道中，也没有指定办理角色或办理人", task.get("id"))


def _check_expressions(root: etree._Element, filename: str) -> None:
    found: list[tuple[etree._Element, str, str]] = []
    for tag in ("conditionExpression", "timeDate", "timeDuration", "timeCycle",
                "loopCardinality", "completionCondition"):
        found += [(el, el.text or "", "eval") for el in root.iter(f"{{{BPMN_NS}}}{tag}")]
    found += [(el, el.text or "", "exec") for el in root.iter(f"{{{BPMN_NS}}}script")]
    for tag in ("preScript", "postScript"):
        found += [(el, el.text or "", "exec") for el in root.iter(f"{{{SPIFF_NS}}}{tag}")]
    found += [(el, el.text or "", "eval") for el in root.iter(f"{{{SPIFF_NS}}}messagePayload")]
    found += [(el, el.get("value", ""), "eval") for el in root.iter(f"{{{SPIFF_NS}}}parameter")]
    found += [(el, el.get("value", ""), "eval") for el in root.iter(f"{{{SPIFF_NS}}}property")
              if el.get("name") in EXPRESSION_PROPERTIES]
    for el, source, mode in found:
        if not source.strip():
            continue
        try:
            compile_expression(source, mode)
        except ExpressionError as err:
            raise DeployError(filename, str(err), _element_id(el)) from None


def _parse(content: bytes, filename: str, process_id: str) -> tuple[object, dict, etree._Element]:
    """Specs ready to run, including after a workflow is loaded back from its state.

    Multi-instance tasks learn of their children's completion through an event hook that
    SpiffWorkflow connects when it creates the children, or when its serializer restores a
    spec. Gongwen restores specs by parsing, so it connects the hooks itself; without this a
    countersign whose children were created before a reload would never finish.
    """
    parser = SpiffBpmnParser()
    root = etree.fromstring(content, _SAFE_XML)
    parser.add_bpmn_xml(root, filename)
    spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    _use_declared_forms(declare_forms(root, filename), spec, subprocess_specs)
    for process_spec in (spec, *subprocess_specs.values()):
        for task_spec in list(process_spec.task_specs.values()):
            if isinstance(task_spec, LoopTask):
                child = process_spec.task_specs[task_spec.task_spec]
                if not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)
    return spec, subprocess_specs, root


# -- specs, cached by content hash (stored content never changes) -----------------------------------------

_spec_cache: dict[tuple[str, str], ParsedProcess] = {}
_spec_lock = threading.Lock()


def cached_spec(sha256: str, process_id: str) -> ParsedProcess | None:
    """The parsed spec if this process already parsed it (no need to fetch the XML)."""
    with _spec_lock:
        return _spec_cache.get((sha256, process_id))


def load_spec(sha256: str, content: bytes, filename: str, process_id: str) -> ParsedProcess:
    key = (sha256, process_id)
    with _spec_lock:
        parsed = _spec_cache.get(key)
    if parsed is None:
        spec, subprocess_specs, root = _parse(content, filename, process_id)
        parsed = ParsedProcess(process_id, process_id, spec, subprocess_specs, _event_messages(root), content)
        with _spec_lock:
            _spec_cache[key] = parsed
    return parsed


# -- workflow state --------------------------------------------------------------------------------------

class _WorkflowWithoutSpec(BpmnWorkflowConverter):
    """Leaves the spec out of the state: it is stored once per definition, not per instance."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _WorkflowWithoutSpec
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]),
                      typename="date")
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]), typename="Decimal")
    return BpmnWorkflowSerializer(registry)


# The serializer's registry flips a shared "encoder mode" flag while it works, so each
# thread gets its own.
_serializers = threading.local()


def _serializer() -> BpmnWorkflowSerializer:
    serializer = getattr(_serializers, "serializer", None)
    if serializer is None:
        serializer = _serializers.serializer = _make_serializer()
    return serializer


def dump_state(workflow: BpmnWorkflow) -> str:
    """Compact JSON: no spec, no ``\\uXXXX`` escapes, no spaces."""
    serializer = _serializer()
    serializer.registry._encoder_mode = True  # task data is converted by the JSON encoder below
    try:
        dct = serializer.to_dict(workflow)
    finally:
        serializer.registry._encoder_mode = False
    dct[serializer.VERSION_KEY] = serializer.VERSION
    return json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))


def _specs(parsed: ParsedProcess) -> tuple[object, dict]:
    """The specs for one workflow object.

    Specs are parsed once and shared, but SpiffWorkflow rewires the start task of a spec the
    first time an event subprocess is triggered; shared, that edit would make every later
    instance start the event subprocess twice. Processes with event subprocesses are therefore
    parsed afresh for each workflow object (about 4 ms for the outgoing process; a deep copy of
    the spec is no cheaper and loses SpiffWorkflow's internal event wiring); all others share.
    """
    if parsed.event_messages:
        spec, subprocess_specs, _ = _parse(parsed.content, parsed.process_id, parsed.process_id)
        return spec, subprocess_specs
    return parsed.spec, dict(parsed.subprocess_specs)


def _rewire_event_subprocesses(workflow: BpmnWorkflow) -> None:
    """Redo, on this workflow's own spec, the wiring SpiffWorkflow made when it triggered them."""
    start = workflow.spec.start
    for name in start.trigger_specs:
        spec = workflow.spec.task_specs[name]
        if start not in spec.inputs and any(c.task_spec is spec for c in workflow.get_tasks(spec_name=name)):
            start.connect(spec)
            spec.connect(workflow.spec.end)


def load_state(state: str, parsed: ParsedProcess, script_engine) -> BpmnWorkflow:
    serializer = _serializer()
    dct = json.loads(state)
    serializer.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = _specs(parsed)
    workflow = serializer.from_dict(dct)
    if parsed.event_messages:
        _rewire_event_subprocesses(workflow)
    workflow.script_engine = script_engine
    return workflow


def new_workflow(parsed: ParsedProcess, script_engine) -> BpmnWorkflow:
    spec, subprocess_specs = _specs(parsed)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def to_plain(value):
    """Task data as plain JSON-able values (dates as ISO text) for handlers' results and messages."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_default))


def _default(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
