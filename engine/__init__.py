"""The core of Gongwen: database, organisation, the BPMN runtime, inbox, timers and audit.

``engine`` imports none of Gongwen's other packages. Handlers and forms reach it
through the registries in :mod:`engine.registry`, which ``handlers`` and ``forms``
fill when they are imported at start-up.
"""
