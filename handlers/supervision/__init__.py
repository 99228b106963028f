"""Supervision (督查): how each unit of an area uses the system, for the supervising office.

``figures`` counts a period's figures per unit, county and area; ``access`` says who may see
which unit's figures (a 督查员 their area, a unit's leaders and clerks their own unit; the three
administrators none). ``workbook`` lays the figures out as XLSX and as the bulletin's attachment
tables; ``spot_checks`` draws documents at random with every recipient's receipt record; ``bulletin``
drafts the 通报 from the office's template (``models``) and starts its outgoing process.
"""

from . import models  # noqa: F401  (the bulletin template's table)
