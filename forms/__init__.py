"""The forms of human steps: a marshmallow schema and a template per form key.

Importing this package registers every form. A user task names its form with the
``formKey`` property; the engine validates submitted data with the schema before
anything changes, and the web app lays the form out with the template.
"""

from . import archive, declared, faults, handover, incoming, leave, meetings, office_notes, outgoing, seals  # noqa: F401  (imported for their registrations)
