"""Archiving (归档): archive codes, the archive step and its deadline, the archived copy with an own outgoing
document's 发文稿纸, packages and the four-properties check, search, appraisal and destruction."""

from . import appraisal, archiving, packages, steps  # noqa: F401  (registrations)
