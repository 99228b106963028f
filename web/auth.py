"""Who is asking: logging in and out, changing one's password, and the session behind every page.

Before each request the session's person is loaded into ``g.person`` (with ``g.roles`` and
``g.task_count`` for the navigation), unless the account was frozen or the session sat idle
too long; ``login_required`` sends anyone else to the login page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from engine import clock, inbox, organisation
from engine.errors import Forbidden, GongwenError
from engine.models import Person, PersonStatus
from engine.organisation import roles_of

from . import current_gongwen
from .errors import refused

bp = Blueprint("auth", __name__)
IDLE_TIMEOUT = timedelta(minutes=30)


@bp.before_app_request
def _load_person() -> None:
    g.person = None
    person_id, last_seen = session.get("person_id"), session.get("last_seen")
    if person_id is None:
        return
    now = clock.now()
    if last_seen is None or now.timestamp() - last_seen > IDLE_TIMEOUT.total_seconds():
        session.clear()
        flash("长时间未操作，请重新登录")
        return
    with current_gongwen().db.session() as db:
        person = db.get(Person, person_id)
        if person is None or person.status != PersonStatus.ACTIVE \
                or session.get("generation") != person.session_generation:
            session.clear()  # frozen, logged out elsewhere, or the password changed since
            return
        g.person = person
        g.task_count = inbox.task_count(db, person.id)
        g.roles = roles_of(db, person.id)
    session["last_seen"] = now.timestamp()


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view for a logged-in person; anyone else is sent to log in, and comes back after."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.person is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "POST":
        with current_gongwen().db.write() as db:
            result = organisation.authenticate(db, request.form.get("login", ""), request.form.get("password", ""))
            person_id = result.person.id if result.person else None
            generation = result.person.session_generation if result.person else None
        if person_id is None:
            return render_template("login.html", error=result.refusal), 401
        session.clear()
        session.update(person_id=person_id, generation=generation, last_seen=clock.now().timestamp())
        return redirect(_local_target(request.args.get("next", "")) or url_for("inbox.index"))
    return render_template("login.html")


def _local_target(target: str) -> str | None:
    """``target`` if it is a path on this site, else None: ``next=`` never leads elsewhere.

    Browsers read ``/\\evil``, ``/%09/evil`` and ``//evil`` as other hosts, so only a plain
    path of printable characters with no scheme, host or backslash passes.
    """
    if not target.startswith("/") or target.startswith("//") or "\\" in target \
            or any(ord(c) < 0x21 or ord(c) == 0x7f for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("//"):
        return None
    return target


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Change one's own password: the current one, and the new one twice."""
    error = None
    if request.method == "POST":
        form = request.form
        if form.get("new", "") != form.get("repeat", ""):
            error = "两次输入的新密码不一致"
        else:
            try:
                with current_gongwen().db.write() as db:
                    person = db.get(Person, g.person.id)
                    organisation.change_own_password(db, person, form.get("current", ""), form.get("new", ""))
                    session["generation"] = person.session_generation  # this session goes on; all others end
                flash("密码已修改，其他设备上的登录已退出")
                return redirect(url_for("inbox.index"))
            except Forbidden as err:
                refused("person.password_refused")
                error = str(err)
            except GongwenError as err:
                error = str(err)
    return render_template("password.html", error=error), 422 if error else 200


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out: this session, every other session of the person and their API tokens end."""
    if g.person is not None:
        with current_gongwen().db.write() as db:
            organisation.end_sessions(db, db.get(Person, g.person.id), actor_id=g.person.id)
    session.clear()
    return redirect(url_for("auth.login"))
