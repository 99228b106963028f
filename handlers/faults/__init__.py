"""Fault reports (故障报告, Yan'an Art 13): a unit's report, the 网信办's repair within five working days with
reminders and escalation, and the paper copies the dispatching offices send while the unit is down."""

from . import models, service, steps  # noqa: F401  (tables, the fault process's handlers)
