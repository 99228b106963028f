"""What anyone may fetch to trust Gongwen's seals: the root certificate, and RFC 3161 timestamps.

Both are public by nature. Offices import the root into their PDF readers' trust stores (for
pdfsig: ``certutil -A -t CT,C,C``); other signing programs of the installation may timestamp
through ``POST /tsa`` (RFC 3161 over HTTP, RFC 3161 §3.4): a ``application/timestamp-query``
body in, a ``application/timestamp-reply`` out. A bad request gets a rejection inside a 200
reply, as the protocol says, never a 500; the endpoint is rate-limited per address.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from engine import clock
from handlers.seals.models import CertificateAuthority
from handlers.seals.register import timestamping_key
from handlers.seals.tsa import MAX_REQUEST, respond

from . import csrf, current_gongwen

bp = Blueprint("trust", __name__)

QUERY, REPLY = "application/timestamp-query", "application/timestamp-reply"


@bp.post("/tsa")
@csrf.exempt  # a protocol endpoint for programs: no session, no cookie to forge a request with
def timestamp() -> Response:
    if request.mimetype != QUERY:
        abort(415)
    if (request.content_length or 0) > MAX_REQUEST:
        abort(413)
    query = request.get_data(cache=False)
    gongwen = current_gongwen()
    with gongwen.db.write() as db:
        signer = timestamping_key(db, gongwen.settings)
    return Response(respond(query, signer, clock.now()), mimetype=REPLY)


@bp.get("/ca/root.pem")
def root_certificate() -> Response:
    with current_gongwen().db.session() as db:
        root = db.scalar(select(CertificateAuthority).where(CertificateAuthority.parent_id.is_(None)))
        if root is None:
            abort(404)
        return Response(root.certificate_pem, mimetype="application/x-pem-file",
                        headers={"Content-Disposition": "attachment; filename=gongwen-root.pem"})
