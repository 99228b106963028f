"""Browser libraries the pages load (bpmn-js), served from npm's ``node_modules``, never copied into the repository."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

bp = Blueprint("assets", __name__)
VENDOR = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_FILES = ("bpmn-js/dist/",)


@bp.route("/vendor/<path:filename>")
def vendor(filename: str) -> ResponseReturnValue:
    """A file under one of ``VENDOR_FILES``; anything else in ``node_modules`` is a 404."""
    if not filename.startswith(VENDOR_FILES):
        abort(404)
    return send_from_directory(VENDOR, filename, max_age=86400)
