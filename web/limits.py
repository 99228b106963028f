"""Rate limits on what an attacker would repeat: logging in, getting API tokens, starting documents, timestamps.

Per login name (a password guessed from many addresses) and per address (many names tried from
one), and per person for new documents. Counters live in Redis when Gongwen has a Redis broker,
so that every web process counts together, and in each process's memory otherwise. A request over
the limit gets a 429 in Chinese (JSON under ``/api/``) and an audit event.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from engine.config import option

RATE_LIMIT_STORAGE = option("rate_limit_storage", "GONGWEN_RATE_LIMIT_STORAGE", str, "")

# endpoint -> (limit, what it is counted by)
LIMITS = {
    "auth.login": [("10 per minute", "login"), ("60 per minute", "address")],
    "api.token": [("10 per minute", "login"), ("60 per minute", "address")],
    "drafting.new_document": [("30 per minute", "person")],
    "api.create_document": [("30 per minute", "person")],
    "trust.timestamp": [("120 per minute", "address")],
}
# Endpoints a machine calls with GET at its own pace (the SMS gateway's delivery reports, two per text):
# only refused calls are counted, so a forger cannot fill the audit trail and the gateway is never slowed.
REFUSALS_LIMITED = {
    "texts.delivery_report": [("60 per minute", "address")],
}


def _login() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    name = (body or {}).get("login") if isinstance(body, dict) else request.form.get("login")
    return f"login:{str(name or '')[:64]}"


def _person() -> str:
    person = getattr(g, "person", None) or getattr(g, "api_person", None)
    return f"person:{person.id}" if person else f"address:{get_remote_address()}"


_KEYS = {"login": _login, "address": lambda: f"address:{get_remote_address()}", "person": _person}


def init_app(app: Flask, storage_uri: str) -> None:
    """Limit ``app``'s endpoints in ``LIMITS`` (POST only) and the refusals of those in ``REFUSALS_LIMITED``,
    counting in ``storage_uri``."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri or "memory://", key_prefix="gongwen",
                      headers_enabled=True)
    for endpoint, limits in LIMITS.items():
        view = app.view_functions[endpoint]
        for value, key in limits:
            view = limiter.limit(value, key_func=_KEYS[key], methods=["POST"], scope=f"{endpoint}:{key}")(view)
        app.view_functions[endpoint] = view
    for endpoint, limits in REFUSALS_LIMITED.items():
        view = app.view_functions[endpoint]
        for value, key in limits:
            view = limiter.limit(value, key_func=_KEYS[key], scope=f"{endpoint}:refused:{key}",
                                 deduct_when=lambda response: response.status_code >= 400)(view)
        app.view_functions[endpoint] = view
