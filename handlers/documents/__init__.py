"""Documents (公文): the draft and its rules, sign-off, numbering, attachments, layout and typesetting.

- :mod:`.models`: the document tables.  :mod:`.drafting`: the draft, the sending rules, sign-off.
- :mod:`.numbering`: 发文字号 without gaps.  :mod:`.attachments`: files accepted by their bytes.
- :mod:`.distribution`: saved recipient lists.  :mod:`.layout`: the red-header layout, preview, typeset.
- :mod:`.revisions`: 留痕, every version of the wording and the tracked changes (花脸稿, 清稿).
- :mod:`.typesetting`: the GB/T 9704 renderer (a pure library) and its fonts.
"""

from . import drafting, layout, numbering  # noqa: F401  (registrations)
