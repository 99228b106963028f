"""Opinions as people write them: 常用意见 (one's own saved phrases and the unit's defaults), the
handwritten signature a leader draws under a 签发 or 批示, and the opinion trail that shows each step's
decision in words with the person's 职务. None of it is document-specific: a leave approval has
opinions too."""

from . import models  # noqa: F401  (registers the tables)
