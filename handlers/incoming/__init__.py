"""Handling a received document (收文办理): register, route, instruct, handle, circulate."""

from . import external, handling  # noqa: F401  (registrations)
