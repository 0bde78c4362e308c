"""Integrations with the frameworks people already run: each in its own subpackage.

:mod:`statusguard.integrations.django` (extra ``statusguard[django]``): a model field and
mixin applying transitions through the guard on Django's connection and transaction,
errors Django's forms understand, and a migration operation installing the trigger.

The top layer (``statusguard._layout.LAYERS``): an integration may import any layer
below; nothing below imports an integration.
"""

from __future__ import annotations

__all__: list[str] = []
