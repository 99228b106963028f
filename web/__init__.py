"""The Flask app: pages for people, a REST API for programs, and the ``gongwen`` CLI."""

from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader

import forms  # noqa: F401  (registers forms)
import handlers  # noqa: F401  (registers handlers)
from engine import clock
from engine.core import Gongwen
from handlers.documents.attachments import ATTACHMENT_MAX_BYTES
from handlers.documents.models import Urgency
from handlers.documents.typesetting.fonts import check_fonts
from handlers.exchange.models import ReceiptStatus

from .params import IdConverter, refuse_nul

csrf = CSRFProtect()
_FORM_ALLOWANCE = 1024 * 1024


def current_gongwen() -> Gongwen:
    """The Gongwen of the app handling this request."""
    return current_app.extensions["gongwen"]


def create_app(gongwen: Gongwen | None = None) -> Flask:
    """The application factory; ``gongwen`` defaults to one built from the environment."""
    check_fonts()  # a missing CJK font stops the start, instead of printing boxes later
    gongwen = gongwen or Gongwen()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=gongwen.settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=gongwen.settings.env == "production",  # production is served over HTTPS
        # An upload is one attachment plus the form it came with.
        MAX_CONTENT_LENGTH=gongwen.settings.option(ATTACHMENT_MAX_BYTES) + _FORM_ALLOWANCE,
    )
    app.extensions["gongwen"] = gongwen
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
    app.jinja_loader = ChoiceLoader([FileSystemLoader(app.root_path + "/templates"), PackageLoader("forms")])
    app.jinja_env.filters["localtime"] = lambda at: f"{clock.local(at):%Y-%m-%d %H:%M}"
    app.jinja_env.filters["urgency_label"] = lambda rank: Urgency.of_rank(rank).label
    app.jinja_env.globals["ReceiptStatus"] = ReceiptStatus
    csrf.init_app(app)

    from . import (
        admin,
        announcements,
        api,
        archive,
        assets,
        auth,
        certificates,
        contacts,
        documents,
        drafting,
        errors,
        external,
        faults,
        forwarding,
        handover,
        headers,
        home,
        inbox,
        limits,
        mailbox,
        meetings,
        menu,
        notices,
        opinions,
        phone_notices,
        printing,
        registers,
        revisions,
        seals,
        security,
        start,
        supervision,
        system,
        tasks,
        texts,
        trust,
    )

    for area in (auth, inbox, tasks, documents, drafting, seals, assets, certificates, admin, security, system,
                 trust, notices, contacts, texts, supervision, menu, home, revisions, opinions, printing, external,
                 registers, handover, start, faults):
        app.register_blueprint(area.bp)
    for area in (announcements, mailbox, phone_notices):
        app.register_blueprint(area.bp)
    app.register_blueprint(archive.bp)
    app.register_blueprint(meetings.bp)
    app.register_blueprint(forwarding.bp)
    api.init_api(app)
    csrf.exempt(api.blp)  # the API authenticates each request with a bearer token, not a session cookie
    errors.init_app(app, api.api.handle_http_exception)
    headers.init_app(app)
    broker = gongwen.settings.broker_url or ""
    limits.init_app(app, gongwen.settings.option(limits.RATE_LIMIT_STORAGE)
                    or (broker if broker.startswith("redis") else ""))
    return app
