"""Forwarding (转发) and departments' own exchange boxes (处室收文箱).

- :mod:`.forward`: a received document sent on with a covering notice that carries its sealed file unchanged.
- :mod:`.boxes`: a department's box: documents addressed to it are signed for, registered (in its own 收文号
  series) and routed by its clerk.
"""

from . import models  # noqa: F401  (tables)
