"""Forms of the incoming process (收文)."""

from __future__ import annotations

from engine.registry import form

from .outgoing import decision

form("incoming_sign_for", decision("签收", {"sign": "签收", "return": "退回"}), "forms/outgoing_decision.html", "签收")
