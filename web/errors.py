"""Error pages people can read, and ``or_404`` for a page meeting a ``web.access`` refusal; programs under
``/api/`` keep their JSON answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, abort, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine import audit
from engine.errors import NotFound
from handlers.documents.attachments import ATTACHMENT_MAX_BYTES, size_text

from . import current_gongwen

P = ParamSpec("P")
T = TypeVar("T")

# (heading, what to do) for the codes a person meets; anything else reads as a server error.
_PAGES = {
    400: ("请求无效", "页面可能已经过期（例如长时间未操作）。请返回上一页，刷新后再试。"),
    403: ("没有权限", "您的角色不能打开这个页面。如需办理，请联系本单位的系统管理员。"),
    404: ("找不到这个页面", "要找的页面或事项不存在，或者不在您的办理范围内。"),
    405: ("请求方式不对", "请从页面上的按钮办理，不要直接输入地址。"),
    413: ("文件太大", "上传的文件超过了允许的大小（{max_size}），请压缩或拆分后再上传。"),
    415: ("内容类型不对", "这个地址只接受特定格式的请求（例如时间戳服务只接受 application/timestamp-query）。"),
    429: ("操作太频繁", "短时间内的尝试次数过多，已暂停受理。请一分钟后再试。"),
    500: ("系统出错了", "您的操作没有生效，数据保持原样。请稍后再试；问题持续时请联系系统管理员。"),
}


def init_app(app: Flask, api_errors: Callable[[HTTPException], object]) -> None:
    """Answer HTTP errors with a page in Chinese, except under ``/api/`` where ``api_errors`` answers."""

    @app.errorhandler(HTTPException)
    def page(err: HTTPException):
        # The view's transactions have ended by now, so the refusal is written on its own.
        if err.code in (403, 429) or isinstance(err, CSRFError) or g.get("access_refused"):
            action = "csrf.refused" if isinstance(err, CSRFError) else "rate.limited" if err.code == 429 else \
                "access.refused" if g.get("access_refused") else "request.refused"
            refused(action, status=err.code)
        if request.path.startswith("/api/"):
            return api_errors(err)
        code = err.code if err.code in _PAGES else 500
        heading, advice = _PAGES[code]
        advice = advice.format(max_size=size_text(current_gongwen().settings.option(ATTACHMENT_MAX_BYTES)))
        return render_template("error.html", code=code, heading=heading, advice=advice), code


def refused(action: str, **detail) -> None:
    """Audit a refusal of this request, in a transaction of its own: who, which path, never a body.

    Call it once the request's own transactions have ended (SQLite has one writer at a time).
    """
    person = getattr(g, "person", None) or getattr(g, "api_person", None)
    audit.refusal(current_gongwen().db, action, actor_id=person.id if person else None,
                  method=request.method, path=request.path[:200], **detail)


def or_404(check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """What ``check`` (a ``web.access`` function) returns; its NotFound becomes the 404 page (audited)."""
    try:
        return check(*args, **kwargs)
    except NotFound:
        g.access_refused = True  # audited by the error page, once the view's transaction is over
        abort(404)
