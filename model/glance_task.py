"""The OpenStack Glance task lifecycle.

Follows Glance master at commit ``c76abb08e`` (2026-07-22): ``glance/domain/__init__.py``
``Task`` (transitions unchanged since d7986156, 2013), driven by
``glance/async_/__init__.py`` ``TaskExecutor.begin_processing``,
``glance/async_/taskflow_executor.py`` ``_fail_task`` and ``glance/api/v2/images.py``
``_bust_import_lock`` (which can fail a task that is still pending).
"""

from __future__ import annotations

import enum

from statusguard import Lifecycle, Transition
from statusguard.lifecycle import Absorbing, Unreachable


class TaskStatus(enum.StrEnum):
    """Glance's task statuses (``_supported_task_status``)."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILURE = "failure"


class TaskEvent(enum.StrEnum):
    """What happens to a task."""

    BEGIN_PROCESSING = "begin_processing"
    SUCCEED = "succeed"
    FAIL = "fail"


S = TaskStatus
E = TaskEvent

GLANCE_TASK: Lifecycle[TaskStatus, TaskEvent] = Lifecycle(
    "glance-task",
    states=TaskStatus,
    initial=S.PENDING,
    terminal=[S.SUCCESS, S.FAILURE],
    events=TaskEvent,
    transitions=[
        Transition(E.BEGIN_PROCESSING, S.PENDING, S.PROCESSING),
        Transition(E.SUCCEED, S.PROCESSING, S.SUCCESS),
        Transition(E.FAIL, [S.PENDING, S.PROCESSING], S.FAILURE),
    ],
    invariants=[
        Absorbing("success-is-final", S.SUCCESS),
        Absorbing("failure-is-final", S.FAILURE),
        Unreachable("no-success-after-failure", S.FAILURE, S.SUCCESS),
    ],
)
