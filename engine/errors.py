"""Errors the engine raises on purpose. Each message is a sentence a person understands."""

from __future__ import annotations


class GongwenError(Exception):
    """Base class: refused input or an impossible request; nothing was changed."""

    status = 400


class DeployError(GongwenError):
    """A BPMN file was refused; names the file, the element and what is wrong."""

    status = 422

    def __init__(self, filename: str, message: str, element_id: str | None = None):
        self.filename = filename
        self.element_id = element_id
        self.message = message
        where = f"{filename}：元素 {element_id}：" if element_id else f"{filename}："
        super().__init__(where + message)


class FormInvalid(GongwenError):
    """Submitted form data failed validation; ``errors`` maps each field to its messages."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        listing = "；".join(f"{field}：{'，'.join(map(str, msgs))}" for field, msgs in errors.items())
        super().__init__(f"表单有误：{listing}")


class NotFound(GongwenError):
    status = 404


class Forbidden(GongwenError):
    status = 403


class Conflict(GongwenError):
    """The request came too late: the task was done, claimed or cancelled by someone else."""

    status = 409


class Refused(GongwenError):
    """A handler refuses the step (a business rule is broken): the whole step is undone.

    Unlike any other handler error, which leaves an incident for an administrator, a
    refusal goes back to the person who acted, with the reason, and nothing changes.
    """

    status = 422


class StepFailed(GongwenError):
    """The process could not move on; the step was rolled back and nothing changed."""

    status = 500
