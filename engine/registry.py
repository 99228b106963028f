"""Name → code registries for service-task handlers and user-task forms.

The engine looks names up here; ``handlers`` and ``forms`` fill the registries when
imported (``import handlers, forms`` at start-up). A diagram can only call what is
registered, and deploying one that names anything else fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from .calendar import WorkCalendar
from .config import Settings
from .files import FileStore

if TYPE_CHECKING:
    from .models import ProcessInstance
    from .runtime import Runtime


class HandlerContext(Protocol):
    """What a handler gets besides its parameters."""

    session: Session
    instance_id: int
    owning_unit_id: int
    initiator_id: int | None
    instance: ProcessInstance  # the row being stepped
    runtime: Runtime           # to start instances and send messages
    task_name: str
    task_id: str               # the service task's id: two firings of one timer differ
    completion: Any            # the user task completed in this step (engine.step.Completion), or None
    calendar: WorkCalendar
    files: FileStore
    settings: Settings

    def now(self) -> datetime: ...

    def audit(self, action: str, **detail: Any) -> None: ...

    def outbox(self, topic: str, key: str, payload: dict) -> None: ...


Handler = Callable[..., Any]


# fn(session, person_id, owning_unit_id) -> {field: [(value, label), ...]}: what a person may pick.
Choices = Callable[[Session, int, int], dict[str, list[tuple[Any, str]]]]


# fn(ctx, task_row, person_id, values): inside the step completing the form, after the form is valid and the
# person may act, before anything is signed or enters the workflow; writes its domain's rows and may change
# ``values`` (e.g. keep a long text in a table of its own instead). Raising ``Refused`` refuses the step.
CompletionHook = Callable[[Any, Any, int, dict], None]


# fn(session, task_row, task_data) -> what the task's page shows beside the form (e.g. who returned a
# document and why); its "values", if any, fill the form in when it opens.
Context = Callable[[Session, Any, dict], dict]


@dataclass(frozen=True)
class FormSpec:
    """A user task's form: the marshmallow schema that validates it, its template, and its pick lists."""

    key: str
    schema: type  # a marshmallow.Schema subclass
    template: str
    title: str = ""
    choices: Choices | None = None
    signed: bool = False  # the person's completion is signed with their certificate (签发, 批示)
    context: Context | None = None
    on_complete: CompletionHook | None = None

    def load(self, data: Mapping[str, Any], *, offered: Mapping[str, list[tuple[Any, str]]] | None = None
             ) -> dict[str, Any]:
        """Validate and convert submitted data; raises ``marshmallow.ValidationError``.

        ``offered`` (what :meth:`offered` returned for this person) refuses any pick the form did not
        offer: a person or unit chosen must be one of the list the page showed.
        """
        values = self.schema().load(data)
        errors = {}
        for field, options in (offered or {}).items():
            picked = values.get(field)
            picked = picked if isinstance(picked, list) else [] if picked is None else [picked]
            allowed = {value for value, _ in options}
            if any(p not in allowed for p in picked):
                errors[field] = ["不是可选的值"]
        if errors:
            raise ValidationError(errors)
        return values

    def offered(self, session: Session, person_id: int, unit_id: int) -> dict[str, list[tuple[Any, str]]]:
        """The pick lists this form offers ``person_id`` working for ``unit_id`` (empty if it has none)."""
        return self.choices(session, person_id, unit_id) if self.choices else {}


# fn(text) -> a SELECT of instance ids that the inbox search should also find for ``text``.
InstanceSearch = Callable[[str], Any]
INSTANCE_SEARCHES: list[InstanceSearch] = []

# The key of a form declared in a diagram starts with this; the rest is a hash of the declaration.
DECLARED_PREFIX = "declared."


class _Forms(dict):
    """Forms by key. A declared form not built yet in this process (deployed by another one, or before a
    restart) is built on first use by ``loader(key)``, which reads the deployed diagrams."""

    loader: Callable[[str], None] | None = None

    def __missing__(self, key: str) -> FormSpec:
        if key.startswith(DECLARED_PREFIX) and self.loader is not None:
            self.loader(key)
            if dict.__contains__(self, key):
                return dict.__getitem__(self, key)
        raise KeyError(key)


HANDLERS: dict[str, Handler] = {}
FORMS: _Forms = _Forms()
# Handlers that write nothing before they could fail, so need no savepoint to undo their writes.
NO_SAVEPOINT: set[str] = set()


def handler(name: str, *, savepoint: bool = True) -> Callable[[Handler], Handler]:
    """Register ``fn(ctx, **params)`` as the service-task operator ``name``.

    ``savepoint=False`` is for handlers on hot paths that only write once nothing can fail
    any more; they save the two round trips a savepoint costs.
    """

    def register(fn: Handler) -> Handler:
        if name in HANDLERS and HANDLERS[name] is not fn:
            raise ValueError(f"handler {name!r} is registered twice")
        HANDLERS[name] = fn
        if not savepoint:
            NO_SAVEPOINT.add(name)
        return fn

    return register


def form(key: str, schema: type, template: str, title: str = "", choices: Choices | None = None, *,
         signed: bool = False, context: Context | None = None, on_complete: CompletionHook | None = None
         ) -> FormSpec:
    """Register a form under ``key``, the ``formKey`` property a user task names.

    ``signed``: completing it runs every :data:`COMPLETION_SIGNERS` hook in the step. ``context``: what
    the page shows beside the form, read from the task's data (see :data:`Context`). ``on_complete``: the
    form's own work in the completing step (see :data:`CompletionHook`).
    """
    if key in FORMS and FORMS[key].schema is not schema:
        raise ValueError(f"form {key!r} is registered twice")
    FORMS[key] = spec = FormSpec(key, schema, template, title, choices, signed, context, on_complete)
    return spec


# fn(key, title, [(name, declaration), ...]) -> FormSpec: builds a form declared in a diagram (``forms.declared``);
# raises ValueError with a Chinese sentence for a declaration that is wrong.
DeclaredFormBuilder = Callable[[str, str, list[tuple[str, str]]], FormSpec]
_declared_builders: list[DeclaredFormBuilder] = []


def declared_form_builder(fn: DeclaredFormBuilder) -> DeclaredFormBuilder:
    """Register the builder of declared forms (one; ``forms`` registers it at import)."""
    _declared_builders[:] = [fn]
    return fn


def declare_form(key: str, title: str, declared: list[tuple[str, str]]) -> FormSpec:
    """Build and register the form a diagram declares under ``key`` (a key already built is kept: the key
    is a hash of the declaration). Raises ValueError for a wrong declaration, or if no builder is registered."""
    if dict.__contains__(FORMS, key):
        return FORMS[key]
    if not _declared_builders:
        raise ValueError("表单声明无法使用：没有注册表单生成器")
    FORMS[key] = spec = _declared_builders[0](key, title, declared)
    return spec


# fn(ctx, task_row, person_id, data): inside the step completing a ``signed`` form, after the form is
# valid and the person may act; signs what they decided (``data``, plain JSON). Raising ``Refused``
# refuses the step and changes nothing.
CompletionSigner = Callable[[Any, Any, int, dict], None]
COMPLETION_SIGNERS: list[CompletionSigner] = []

# fn(session, person, actor_id): in the transaction that freezes a person's account or moves them to
# another unit; ends what they held there (their signing certificate).
Departure = Callable[[Session, Any, int | None], None]
DEPARTURES: list[Departure] = []


def completion_signer(fn: CompletionSigner) -> CompletionSigner:
    COMPLETION_SIGNERS.append(fn)
    return fn


def on_departure(fn: Departure) -> Departure:
    DEPARTURES.append(fn)
    return fn


def instance_search(fn: InstanceSearch) -> InstanceSearch:
    """Register ``fn(text)``: the inbox's text search also finds the instances it selects."""
    INSTANCE_SEARCHES.append(fn)
    return fn
