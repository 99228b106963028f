"""Supervision (督查): how each unit of an area uses the system, for the supervising office.

``figures`` counts a period's figures per unit, county and area; ``access`` says who may see
which unit's figures (a 督查员 their area, a unit's leaders and clerks their own unit; the three
administrators none).
"""
