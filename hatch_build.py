"""The compiled build: with ``STATUSGUARD_COMPILE=1``, a wheel carries mypyc's build of the
modules in :data:`COMPILED` beside their source (the interpreter prefers the extension).

Without the variable (the default, and every editable install) the wheel is pure Python
and this hook asks for nothing. With it, the build needs a C compiler and the Python
headers; mypy (which ships mypyc) and setuptools come into the build environment. The
modules are compiled in a scratch copy of the package, so the source tree never holds a
compiled module that an editable install would import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILED = ("statusguard/lifecycle/_answer.py",)
"""What mypyc compiles, relative to ``src/`` (each module's docstring says why it can)."""

_SWITCH = "STATUSGUARD_COMPILE"


def _wanted() -> bool:
    return os.environ.get(_SWITCH, "") == "1"


class CompileHook(BuildHookInterface):
    """Compile :data:`COMPILED` with mypyc into a wheel when ``STATUSGUARD_COMPILE=1``."""

    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        return ["mypy>=1.10", "setuptools>=68"] if _wanted() else []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable" or not _wanted():
            return
        scratch = Path(tempfile.mkdtemp(prefix="statusguard-mypyc-"))
        # the extensions wait here until the wheel holds them (removed by finalize)
        out = self._kept = Path(tempfile.mkdtemp(prefix="statusguard-mypyc-built-"))
        try:
            shutil.copytree(Path(self.root) / "src" / "statusguard", scratch / "statusguard")
            done = subprocess.run(  # noqa: S603  # our own interpreter, a fixed argv
                [sys.executable, "-m", "mypyc", *COMPILED],
                cwd=scratch,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
            if done.returncode:
                raise RuntimeError(f"{_SWITCH}=1: mypyc failed:\n{done.stdout}")
            built = sorted((scratch / "statusguard").rglob("*.so")) + sorted(
                (scratch / "statusguard").rglob("*.pyd")
            )
            if not built:
                raise RuntimeError(f"{_SWITCH}=1: mypyc built no extension:\n{done.stdout}")
            for ext in built:
                rel = ext.relative_to(scratch)
                kept = out / rel
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ext, kept)
                build_data["force_include"][str(kept)] = str(rel)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        kept = getattr(self, "_kept", None)
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
