"""The duty-contact register (收发文联系人): each unit's leaders and document-duty staff, with history."""

from . import models, register  # noqa: F401  (tables; the services: current, history, appoint, replace, remove)
