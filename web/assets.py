"""Browser libraries the pages load (Bootstrap and its icons, bpmn-js; axe-core for the accessibility tests),
served from npm's ``node_modules``, never copied into the repository."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from flask.typing import ResponseReturnValue

bp = Blueprint("assets", __name__)
VENDOR = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_FOLDERS = ("bpmn-js/dist", "pdfjs-dist/legacy/build", "bootstrap/dist", "bootstrap-icons/font", "axe-core")


@bp.route("/vendor/<path:filename>")
def vendor(filename: str) -> ResponseReturnValue:
    """A file inside one of ``VENDOR_FOLDERS``; anything else in ``node_modules`` is a 404.

    The file is looked up inside its folder, so ``..`` cannot climb out of it.
    """
    folder = next((f for f in VENDOR_FOLDERS if filename.startswith(f + "/")), None)
    if folder is None:
        abort(404)
    return send_from_directory(VENDOR / folder, filename.removeprefix(folder + "/"), max_age=86400)
