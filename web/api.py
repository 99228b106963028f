"""The REST API: JSON under ``/api/v1`` for programs, described at ``/api/v1/openapi.json``.

Callers get a bearer token from ``POST /api/v1/auth/token`` and send it as
``Authorization: Bearer …``. Every endpoint acts as that person and the engine checks
their roles and units: a document or task outside their reach is a 404, exactly as if
it did not exist. Forms are the same marshmallow schemas the pages use; a task's
endpoint returns its form as JSON Schema.
"""

from __future__ import annotations

import functools
import re

from flask import Response, g, request
from flask_smorest import Api, Blueprint, abort
from flask_smorest.fields import Upload
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy import select
from werkzeug.http import HTTP_STATUS_CODES

from engine import clock, inbox, organisation
from engine.deploy import deploy, startable
from engine.errors import DeployError, Forbidden, FormInvalid, GongwenError, NotFound, Refused
from engine.models import ProcessInstance, Role, Task, TaskState
from engine.registry import FORMS
from handlers.documents.drafting import start_outgoing
from handlers.documents.models import Document
from handlers.exchange.receipts import receipt_overview
from handlers.incoming.external import EXTERNAL_MAX_BYTES, incoming_number, register_external
from handlers.seals.verification import verify_document

from . import access, current_gongwen
from .errors import refused
from .external import received
from .start import start_process

# The sentence of an API answer whose refusal brought none in Chinese: a path or id that matches no route,
# a method the route lacks, a rate limit, a body webargs could not read or validate, an unexpected error.
_MESSAGES = {
    400: "请求无效：请求体或参数无法读取",
    404: "没有这个接口或事项，或者不在您的办理范围内",
    405: "这个接口不接受这种请求方式",
    413: "请求体太大",
    422: "请求的内容不符合要求，详见 errors",
    429: "请求过于频繁，已暂停受理，请一分钟后再试",
    500: "系统出错了，操作没有生效，数据保持原样",
}
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


class _Api(Api):
    def handle_http_exception(self, error):
        """flask-smorest's JSON answer, always with a ``message`` in Chinese: the one given to ``abort``, else
        the error's description where it is ours (Chinese, e.g. the NUL refusal), else the status's sentence."""
        data = getattr(error, "data", None) or {}
        if "message" not in data and error.code in _MESSAGES:
            own = error.description if _CHINESE.search(str(error.description or "")) else None
            error.data = {**data, "message": own or _MESSAGES[error.code]}
        return super().handle_http_exception(error)


api = _Api()
blp = Blueprint("api", __name__, url_prefix="/api/v1", description="公文系统接口")


# -- schemas of what the API sends and takes ----------------------------------------------------------------

class Credentials(Schema):
    login = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class TokenOut(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class TaskOut(Schema):
    id = fields.UUID()
    name = fields.String()
    form_key = fields.String()
    instance_id = fields.Integer()
    title = fields.String()
    due_at = fields.DateTime(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)


class TaskDetail(TaskOut):
    form = fields.Dict(metadata={"description": "the form's JSON Schema"})


class DocumentIn(Schema):
    """Starts the outgoing process; the fields themselves are submitted with the 拟稿 task (send ``{}``)."""


class FormValues(Schema):
    """A task's form values, as its form's JSON Schema (``GET /tasks/{id}``) describes them."""

    class Meta:
        unknown = INCLUDE


class Check(Schema):
    key = fields.String()
    label = fields.String()
    ok = fields.Boolean()
    detail = fields.String()


class VerificationOut(Schema):
    ok = fields.Boolean()
    reason = fields.String(allow_none=True)
    signers = fields.List(fields.Dict(), metadata={"description": "each seal found: unit, seal_id, signed_at"})
    checks = fields.List(fields.Nested(Check))
    at = fields.String()


class ReceiptOut(Schema):
    unit = fields.String()
    copy = fields.Boolean()
    version = fields.Integer()
    status = fields.String(metadata={"description": "pending | signed | returned"})
    due_at = fields.DateTime(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)
    signed_by = fields.String(allow_none=True)
    return_reason = fields.String(allow_none=True)
    overdue_since = fields.DateTime(allow_none=True)
    receipt_id = fields.Integer()


class ReceiptsOut(Schema):
    receipts = fields.List(fields.Nested(ReceiptOut))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    overdue = fields.List(fields.String(), metadata={"description": "the units overdue now"})


class DefinitionUpload(Schema):
    file = Upload(required=True, metadata={"description": "a .bpmn file"})


class StartIn(Schema):
    """Nothing (send ``{}``): the fields of a process are submitted with its first task."""


class DocumentOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    doc_type = fields.String()
    title = fields.String()
    doc_number = fields.String(allow_none=True)
    status = fields.String()
    urgency = fields.String()
    main_to = fields.String(attribute="main_to_text")
    cc = fields.String(attribute="cc_text")
    body = fields.List(fields.String())
    version = fields.Integer()
    sealed = fields.Boolean()
    reply_to_id = fields.Integer(allow_none=True)


class ProcessOut(Schema):
    process_id = fields.String()
    name = fields.String()
    category = fields.String()
    version = fields.Integer()


class StartedOut(Schema):
    instance_id = fields.Integer()
    task_id = fields.UUID(allow_none=True, metadata={"description": "my first step, if the process gives me one"})


class Deployment(Schema):
    process_id = fields.String()
    version = fields.Integer()
    filename = fields.String()
    changed = fields.Boolean()


# -- authentication and errors -------------------------------------------------------------------------------

def json_object(view):
    """Refuse a body that is not a JSON object (400), instead of reading it as an empty form."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not isinstance(request.get_json(silent=True), dict):
            abort(400, message="请求体应为 JSON 对象（Content-Type: application/json），没有内容时请发送 {}")
        return view(*args, **kwargs)
    return wrapped


def authenticated(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            abort(401, message="请先用 POST /api/v1/auth/token 取得令牌")
        with current_gongwen().db.session() as session:
            person = organisation.person_for_token(session, header.removeprefix("Bearer ").strip())
        if person is None:
            abort(401, message="令牌无效、已过期，或账号已冻结")
        g.api_person = person
        return view(*args, **kwargs)
    return wrapped


@blp.errorhandler(GongwenError)
def _refused(err: GongwenError):
    """Refusals as JSON, shaped like flask-smorest's own errors: the sentence, and for forms and diagrams
    what exactly is wrong. A document or task out of reach (``web.access``) is a 404 like any missing one."""
    body: dict = {"code": err.status, "status": HTTP_STATUS_CODES[err.status], "message": str(err)}
    if isinstance(err, (NotFound, Forbidden)):
        refused("access.refused" if isinstance(err, NotFound) else "request.refused", status=err.status)
    if isinstance(err, FormInvalid):
        body["errors"] = err.errors
    elif isinstance(err, DeployError):
        body["errors"] = {"file": err.filename, "element": err.element_id}
    return body, err.status


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(Credentials)
@blp.response(200, TokenOut)
def token(credentials):
    """Exchange a login and password for a bearer token (valid 8 hours)."""
    with current_gongwen().db.write() as session:
        result = organisation.authenticate(session, credentials["login"], credentials["password"])
        if result.person is None:
            refusal = result.refusal
        else:
            value, expires = organisation.issue_token(session, result.person)
    if result.person is None:
        abort(401, message=refusal)
    return {"token": value, "expires_at": expires}


# -- tasks --------------------------------------------------------------------------------------------------

def _task_out(session, task: Task) -> dict:
    title = session.scalar(ProcessInstance.__table__.select().with_only_columns(ProcessInstance.title)
                           .where(ProcessInstance.id == task.instance_id))
    return {"id": task.id, "name": task.name, "form_key": task.form_key, "instance_id": task.instance_id,
            "title": title, "due_at": task.due_at, "assignee_id": task.assignee_id}


@blp.route("/tasks")
@authenticated
@blp.response(200, TaskOut(many=True))
def my_tasks():
    """My ready tasks across all my roles and units, soonest due first."""
    with current_gongwen().db.session() as session:
        return [_task_out(session, t) for t in inbox.ready_tasks(session, g.api_person.id, limit=200)]


@blp.route("/tasks/<uuid:task_id>")
@authenticated
@blp.response(200, TaskDetail)
def task_detail(task_id):
    """One of my tasks, with its form as JSON Schema."""
    with current_gongwen().db.session() as session:
        task = access.actionable_task(session, task_id, g.api_person.id)
        out = _task_out(session, task)
    out["form"] = api.ma_plugin.converter.schema2jsonschema(FORMS[task.form_key].schema)
    return out


@blp.route("/tasks/<uuid:task_id>/complete", methods=["POST"])
@authenticated
@json_object
@blp.arguments(FormValues)
@blp.response(204)
def complete_task(values, task_id):
    """Complete one of my tasks with its form's data; 422 lists each bad field and nothing changes."""
    with current_gongwen().db.session() as session:
        access.actionable_task(session, task_id, g.api_person.id)
    current_gongwen().runtime.complete(task_id, g.api_person.id, values)


# -- documents ----------------------------------------------------------------------------------------------

def _document_out(document: Document) -> dict:
    return {**{k: getattr(document, k) for k in ("id", "instance_id", "title", "doc_number", "body", "version",
                                                  "reply_to_id", "main_to_text", "cc_text")},
            "doc_type": document.doc_type.value, "status": document.status.value,
            "urgency": document.urgency.value, "sealed": document.sealed_sha256 is not None}


@blp.route("/documents", methods=["POST"])
@authenticated
@json_object
@blp.arguments(DocumentIn)
@blp.response(201, DocumentOut)
def create_document(_):
    """Start a new outgoing document in my unit; its 拟稿 task comes to me."""
    with current_gongwen().db.write() as session:
        document = start_outgoing(current_gongwen().runtime, session, session.get(type(g.api_person), g.api_person.id))
        return _document_out(document)


@blp.route("/documents/<int:document_id>")
@authenticated
@blp.response(200, DocumentOut)
def document_detail(document_id):
    """A document of my unit, or one sent to it."""
    with current_gongwen().db.session() as session:
        return _document_out(access.readable_document(session, document_id, g.api_person.id))


@blp.route("/documents/<int:document_id>/pdf")
@authenticated
@blp.response(200, content_type="application/pdf")
def document_pdf(document_id):
    """The sealed PDF (or, before sealing, the typeset one)."""
    with current_gongwen().db.session() as session:
        document = access.readable_document(session, document_id, g.api_person.id)
        sha256 = document.sealed_sha256 or document.pdf_sha256
    if sha256 is None:
        abort(404, message="这份公文还没有排版")
    return Response(current_gongwen().files.get(sha256), mimetype="application/pdf")


@blp.route("/documents/<int:document_id>/verification")
@authenticated
@blp.response(200, VerificationOut)
def document_verification(document_id):
    """The verification report of the sealed PDF: every check, and the seals found."""
    with current_gongwen().db.session() as session:
        document = access.readable_document(session, document_id, g.api_person.id)
        if document.sealed_sha256 is None:
            abort(404, message="这份公文还没有用印")
        report = verify_document(session, current_gongwen().files.get(document.sealed_sha256), document.id)
    return {"ok": report.ok, "reason": report.reason, "signers": report.signers,
            "checks": [c.__dict__ for c in report.checks], "at": clock.now().isoformat()}


@blp.route("/documents/<int:document_id>/receipts")
@authenticated
@blp.response(200, ReceiptsOut)
def document_receipts(document_id):
    """For the issuing unit: every recipient's receipt, the counts and the overdue ones."""
    with current_gongwen().db.session() as session:
        document = access.readable_document(session, document_id, g.api_person.id)
        if not access.issuing_side(session, document, g.api_person.id):
            abort(404, message="没有这份公文的签收记录")
        overview = receipt_overview(session, document_id)
    rows = [{k: (getattr(v, k).value if k == "status" else getattr(v, k)) for k in v.__dataclass_fields__}
            for v in overview["receipts"]]
    return {"receipts": rows, "counts": overview["counts"], "overdue": [v.unit for v in overview["overdue"]]}


# -- processes people start -----------------------------------------------------------------------------------

@blp.route("/processes")
@authenticated
@blp.response(200, ProcessOut(many=True))
def processes():
    """The processes I may start (their diagrams' ``startRoles``), by category and name."""
    with current_gongwen().db.session() as session:
        roles = organisation.roles_of(session, g.api_person.id) if g.api_person.unit_id is not None else set()
        return [p.__dict__ for p in startable(session, roles)]


@blp.route("/processes/<process_id>/start", methods=["POST"])
@authenticated
@json_object
@blp.arguments(StartIn)
@blp.response(201, StartedOut)
def start(_, process_id):
    """Start a process in my unit (send ``{}``); its first step's fields are submitted with that task. 403 if I
    may not start it, 404 if there is no such process people start."""
    instance_id = start_process(g.api_person, process_id)
    with current_gongwen().db.session() as session:
        ready = session.scalars(select(Task.id).where(Task.instance_id == instance_id,
                                                      Task.state == TaskState.READY)).all()
        mine = [task_id for task_id in ready if _actionable(session, task_id)]
    return {"instance_id": instance_id, "task_id": mine[0] if mine else None}


def _actionable(session, task_id) -> bool:
    try:
        access.actionable_task(session, task_id, g.api_person.id)
    except NotFound:
        return False
    return True


# -- definitions --------------------------------------------------------------------------------------------

@blp.route("/definitions", methods=["POST"])
@authenticated
@blp.arguments(DefinitionUpload, location="files")
@blp.response(201, Deployment(many=True))
def deploy_definition(files):
    """Deploy an uploaded .bpmn file (system administrators only), through the same checks as the CLI."""
    with current_gongwen().db.session() as session:
        if not organisation.holds(session, g.api_person.id, Role.SYSTEM_ADMIN):
            abort(403, message="只有系统管理员可以部署流程")
    upload = files["file"]
    with current_gongwen().db.write() as session:
        results = deploy(session, [(upload.filename or "upload.bpmn", upload.read())], actor_id=g.api_person.id)
    return [r.__dict__ for r in results]


# -- documents from outside ------------------------------------------------------------------------------

class ExternalFiles(Schema):
    scan = Upload(required=True, metadata={"description": "the scan: PDF, PNG, JPEG or TIFF"})
    editable = Upload(metadata={"description": "the editable file, where given: .docx, .doc, .wps or .txt"})


class ExternalFields(Schema):
    title = fields.String(required=True, metadata={"description": "标题"})
    sender_organ = fields.String(required=True, metadata={"description": "来文机关"})
    sender_number = fields.String(load_default="", metadata={"description": "来文字号"})
    written_on = fields.String(load_default="", metadata={"description": "成文日期, e.g. 2026-11-20"})
    urgency = fields.String(load_default="normal", metadata={"description": "normal, urgent or extra_urgent"})
    classification = fields.String(load_default="非密", metadata={"description": "非密 or 公开; nothing classified"})
    paper = fields.Boolean(load_default=False, metadata={"description": "a paper original scanned here"})


class ExternalOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    incoming_number = fields.String()


@blp.route("/incoming", methods=["POST"])
@authenticated
@blp.arguments(ExternalFiles, location="files")
@blp.arguments(ExternalFields, location="form")
@blp.response(201, ExternalOut)
def register_incoming(files, values):
    """Register a document from outside or on paper in my unit (I am its clerk), as multipart: its scan, its
    editable file and the metadata; it starts the unit's incoming handling. Refused (nothing saved) in words."""
    gongwen = current_gongwen()
    person = g.api_person
    try:
        with gongwen.db.write() as session:
            external = register_external(
                gongwen.runtime, session, gongwen.files, person_id=person.id, unit_id=person.unit_id,
                values={k: v for k, v in values.items() if k != "paper"}, scan=received(files.get("scan")),
                editable=received(files.get("editable")), paper=values["paper"],
                max_bytes=gongwen.settings.option(EXTERNAL_MAX_BYTES))
            session.flush()
            return {"id": external.id, "instance_id": external.instance_id,
                    "incoming_number": incoming_number(session, external)}
    except Refused:
        refused("external.register_refused")
        raise


def init_api(app) -> None:
    app.config.update(
        API_TITLE="公文系统 Gongwen", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
    )
    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(blp)
