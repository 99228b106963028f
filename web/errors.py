"""Error pages people can read, and ``or_404`` for a page meeting a ``web.access`` refusal; programs under
``/api/`` keep their JSON answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, abort, render_template, request
from werkzeug.exceptions import HTTPException

from engine.errors import NotFound
from handlers.documents.attachments import ATTACHMENT_MAX_BYTES

from . import current_gongwen

P = ParamSpec("P")
T = TypeVar("T")

# (heading, what to do) for the codes a person meets; anything else reads as a server error.
_PAGES = {
    400: ("请求无效", "页面可能已经过期（例如长时间未操作）。请返回上一页，刷新后再试。"),
    403: ("没有权限", "您的角色不能打开这个页面。如需办理，请联系本单位的系统管理员。"),
    404: ("找不到这个页面", "要找的页面或事项不存在，或者不在您的办理范围内。"),
    405: ("请求方式不对", "请从页面上的按钮办理，不要直接输入地址。"),
    413: ("文件太大", "上传的文件超过了允许的大小（{max_mb} MB），请压缩或拆分后再上传。"),
    500: ("系统出错了", "您的操作没有生效，数据保持原样。请稍后再试；问题持续时请联系系统管理员。"),
}


def init_app(app: Flask, api_errors: Callable[[HTTPException], object]) -> None:
    """Answer HTTP errors with a page in Chinese, except under ``/api/`` where ``api_errors`` answers."""

    @app.errorhandler(HTTPException)
    def page(err: HTTPException):
        if request.path.startswith("/api/"):
            return api_errors(err)
        code = err.code if err.code in _PAGES else 500
        heading, advice = _PAGES[code]
        advice = advice.format(max_mb=current_gongwen().settings.option(ATTACHMENT_MAX_BYTES) // 1048576)
        return render_template("error.html", code=code, heading=heading, advice=advice), code


def or_404(check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """What ``check`` (a ``web.access`` function) returns; its NotFound becomes the 404 page."""
    try:
        return check(*args, **kwargs)
    except NotFound:
        abort(404)
