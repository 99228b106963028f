"""Leave (请销假): the engine's first proof, an application approved by the head."""

from . import steps  # noqa: F401  (registers the handlers)
