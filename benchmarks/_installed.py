"""How the benchmarks start a fresh process: as installed code starts, from bytecode.

pip writes every module's bytecode when it installs a wheel; an editable install under
``PYTHONDONTWRITEBYTECODE=1`` (set on the machines these benchmarks ran on) has none, and
each process would compile statusguard's sources again (about 0.17 s of CPU for
``check``), which no installed user pays. :data:`ENV` lets the children write their
bytecode to a scratch cache of this run's own (``PYTHONPYCACHEPREFIX``), and
:func:`prime` runs a command once, untimed, to fill it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="statusguard-pyc-")


def prime(cmd: list[str], cwd: Path | None = None) -> None:
    """Run ``cmd`` once, untimed, so that later runs find every module it loads compiled."""
    subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, check=False)


def run(cmd: list[str], cwd: Path | None = None, **kw: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` in :data:`ENV`, output captured."""
    return subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, check=False, **kw)
