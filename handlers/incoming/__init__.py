"""Handling a received document (收文办理): register, route, instruct, handle, circulate."""

from . import handling  # noqa: F401  (registrations)
