"""Response headers that keep pages and files where they belong.

Every HTML page gets a Content-Security-Policy with no inline or foreign script (the pages load
their scripts from ``/static`` and ``/vendor``), may be framed only by Gongwen itself (the PDF
in the task page is such a frame), is never sniffed as another type, and sends no referrer
outside. Nothing a logged-in person receives is cached: pages and files carry document content.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # the pages' own <style> and bpmn-js's style attributes
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", CSP)
        if getattr(g, "person", None) is not None or response.mimetype == "application/pdf" \
                or request.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
        return response
