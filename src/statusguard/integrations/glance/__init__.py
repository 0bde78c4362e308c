"""statusguard inside an unmodified OpenStack Glance (extra ``statusguard[glance]``).

One call, :func:`enable`, wraps Glance's image persistence at runtime (no Glance file is
edited, no Glance code copied) so that every image status change Glance makes through
its SQLAlchemy DB API is one conditional ``UPDATE`` by statusguard on Glance's own
``images`` table, inside Glance's own session and transaction, allowed only if the Glance
image lifecycle (``model/glance_image.py``) has the edge from the status stored now.
:func:`disable` undoes it. docs/glance.md says what is covered and what is not.
"""

from __future__ import annotations

try:
    import glance.db.sqlalchemy.api  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError(
        "statusguard.integrations.glance needs OpenStack Glance; install it with "
        "pip install 'statusguard[glance]'"
    ) from exc

from statusguard._layout import publish as _publish
from statusguard.integrations.glance._hooks import StatusRefused as StatusRefused
from statusguard.integrations.glance._hooks import disable as disable
from statusguard.integrations.glance._hooks import enable as enable
from statusguard.integrations.glance._hooks import enabled as enabled
from statusguard.integrations.glance._hooks import install_trigger as install_trigger
from statusguard.integrations.glance._hooks import remove_trigger as remove_trigger

__all__ = [
    "StatusRefused",
    "disable",
    "enable",
    "enabled",
    "install_trigger",
    "remove_trigger",
]

_publish(__name__, globals(), __all__)
