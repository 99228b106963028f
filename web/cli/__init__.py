"""The ``gongwen`` command line: set-up, deployment, the server, workers and administration.

This module holds the root group ``main`` and :func:`gongwen_from`, the one way a command gets
its Gongwen. Each command group lives in a module of its own, registered at the bottom:

- ``db.py``          ``db upgrade``, ``deploy``, ``demo``
- ``run.py``         ``serve``, ``worker``, ``tick``
- ``users.py``       ``users create|freeze|unfreeze|grant``
- ``operations.py``  ``incidents list|retry``, ``messages dead``, ``audit verify``
- ``calendar.py``    ``calendar set|entered``
- ``documents.py``   ``verify``, ``numbers next``, ``receipts``, ``deadline``
- ``archive.py``     ``archive export|check``
- ``backup.py``      ``backup``, ``restore``
- ``boxes.py``       ``boxes open|list`` (departments' own exchange boxes, 处室收文箱)
- ``seals.py``       ``ca export-root``, ``seals list|revoke``
- ``sms.py``         ``sms report|off|on`` (texts: their cost, and a county's switch)
- ``contacts.py``    ``contacts list`` (the duty-contact registers)
- ``bulletin.py``    ``bulletin`` (supervision: an area's figures, the workbook, the draft 通报, its template)
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import forms  # noqa: F401  (registers forms)
import handlers  # noqa: F401  (registers handlers)
from engine.config import ConfigError
from engine.core import Gongwen
from engine.errors import GongwenError, NotFound
from engine.models import Unit
from handlers.documents.typesetting.fonts import FontMissing


class _Group(click.Group):
    """Turns Gongwen's own errors, in any command beneath it, into one line and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (GongwenError, ConfigError, FontMissing) as err:
            click.echo(f"错误：{err}", err=True)
            sys.exit(1)


def gongwen_from(ctx: click.Context) -> Gongwen:
    """The invocation's Gongwen, built from the environment the first time a command asks for it,
    and closed (its database connections with it) when the invocation ends."""
    if ctx.obj is None:
        ctx.obj = Gongwen()
        ctx.find_root().call_on_close(ctx.obj.close)
    return ctx.obj


def find_unit(session: Session, text: str) -> Unit:
    """A unit named on the command line: by id, name, short name or 机关代字."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) < 10:
        unit = session.get(Unit, int(text))
    else:
        unit = session.scalar(select(Unit).where(or_(Unit.name == text, Unit.short_name == text,
                                                     Unit.issuer_code == text)).order_by(Unit.id).limit(1))
    if unit is None:
        raise NotFound(f"没有单位 {text}")
    return unit


@click.group(cls=_Group)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """Gongwen (公文): electronic official documents on BPMN processes."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# The command modules import gongwen_from() and find_unit() from this one, so they can only be imported once it exists.
from . import (  # noqa: E402
    archive,
    backup,
    boxes,
    bulletin,
    calendar,
    contacts,
    db,
    documents,
    operations,
    run,
    seals,
    sms,
    users,
)

main.add_command(db.db)
main.add_command(db.deploy_cmd)
main.add_command(db.demo)
main.add_command(run.serve)
main.add_command(run.worker)
main.add_command(run.tick)
main.add_command(users.users)
main.add_command(operations.incidents)
main.add_command(operations.messages)
main.add_command(operations.audit_group)
main.add_command(calendar.calendar_group)
main.add_command(documents.verify_cmd)
main.add_command(documents.numbers)
main.add_command(documents.receipts_cmd)
main.add_command(documents.deadline_cmd)
main.add_command(archive.archive)
main.add_command(backup.backup_cmd)
main.add_command(backup.restore_cmd)
main.add_command(seals.ca_group)
main.add_command(seals.seals_group)
main.add_command(contacts.contacts_group)
main.add_command(sms.sms_group)
main.add_command(bulletin.bulletin_cmd)
main.add_command(boxes.boxes_group)
