"""The domains, one package each with its tables, services and steps. Importing this package
registers every handler, consumer, periodic job and table.

A handler is ``fn(ctx, **params)``: ``ctx`` is the step in progress (session, clock,
instance, owning unit; see :class:`engine.registry.HandlerContext`), ``params`` the
service task's evaluated parameters. It returns JSON-able data for the task's result
variable. It runs inside a savepoint: if it raises, its writes are undone and the
task waits in error as an incident.
"""

from . import (  # noqa: F401  (registrations)
    archive,
    contacts,
    documents,
    exchange,
    faults,
    forwarding,
    handover,
    incoming,
    leave,
    meetings,
    notifications,
    office_notes,
    opinions,
    seals,
    supervision,
)
