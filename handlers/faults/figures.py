"""Faults and repair times per unit for a period, for supervision (督查): how often each unit's system failed,
how often it reported late, and how many working days the repairs took. ``handlers.supervision.figures`` reads
them into ``Counts`` beside the other figures.

Faults are few (a unit has a handful a year) and the working days of a repair are counted when it is recorded
(``FaultReport.repair_days``), so one grouped query over the period's reports answers for a whole city.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from .models import FaultReport


@dataclass(frozen=True)
class FaultFigures:
    """One unit's faults reported in the period: how many, how many late (迟报), how many repaired, and the
    working days their repairs took in all."""

    faults: int = 0
    late: int = 0
    repaired: int = 0
    repair_days: int = 0

    @property
    def mean_repair_days(self) -> float | None:
        """The mean working days from report to repair of the repaired ones (None when none is)."""
        return self.repair_days / self.repaired if self.repaired else None


def fault_figures(session: Session, unit_ids: Collection[int], start: datetime, end: datetime
                  ) -> dict[int, FaultFigures]:
    """Each of ``unit_ids``'s figures for faults reported in ``[start, end)``, in one grouped query; a unit
    without faults has zeros. ``unit_ids`` are the units' own ids (written into the statement, as
    ``supervision.figures`` does for an area's thousand units)."""
    figures = {unit_id: FaultFigures() for unit_id in unit_ids}
    if not figures:
        return figures
    ids = bindparam(None, list(figures), expanding=True, literal_execute=True)
    for unit_id, count, late, repaired, days in session.execute(
            select(FaultReport.unit_id, func.count(), func.sum(case((FaultReport.late, 1), else_=0)),
                   func.count(FaultReport.repair_days), func.sum(FaultReport.repair_days))
            .where(FaultReport.unit_id.in_(ids), FaultReport.reported_at >= start, FaultReport.reported_at < end)
            .group_by(FaultReport.unit_id)):
        figures[unit_id] = FaultFigures(count, int(late or 0), repaired, int(days or 0))
    return figures
