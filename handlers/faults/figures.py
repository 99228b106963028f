"""Faults and repair times per unit for a period, for supervision (督查): how often each unit's system failed,
how often it reported late, and how many working days the repairs took.

Not yet a field of ``handlers.supervision.figures.Counts``: faults are few (a unit has a handful a year), so
they are read here in one query over the period's reports, not from day counters.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import WorkCalendar

from .models import FaultReport
from .service import repair_working_days


@dataclass(frozen=True)
class FaultFigures:
    """One unit's faults reported in the period: how many, how many late (迟报), how many repaired, and the mean
    working days from report to repair of the repaired ones (None when none is)."""

    faults: int = 0
    late: int = 0
    repaired: int = 0
    mean_repair_days: float | None = None


def fault_figures(session: Session, unit_ids: Collection[int], start: datetime, end: datetime,
                  calendar: WorkCalendar) -> dict[int, FaultFigures]:
    """Each of ``unit_ids``'s figures for faults reported in ``[start, end)``; a unit without faults has zeros."""
    faults: dict[int, list[FaultReport]] = {unit_id: [] for unit_id in unit_ids}
    for fault in session.scalars(select(FaultReport).where(
            FaultReport.unit_id.in_(faults), FaultReport.reported_at >= start, FaultReport.reported_at < end)):
        faults[fault.unit_id].append(fault)
    figures = {}
    for unit_id, rows in faults.items():
        days = [d for d in (repair_working_days(calendar, f) for f in rows) if d is not None]
        figures[unit_id] = FaultFigures(len(rows), sum(f.late for f in rows), len(days),
                                        sum(days) / len(days) if days else None)
    return figures
