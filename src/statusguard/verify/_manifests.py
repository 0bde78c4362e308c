"""Recorded proof manifests (``proofs/<model>/manifest.json``) and their comparison.

A manifest records, for one lifecycle, its fingerprint, the z3 version, and each
obligation's expected verdict, method and counterexample. ``statusguard check
--proofs DIR`` re-proves and reports every difference; a model edited without
re-recording shows up as a stale fingerprint. Imports :mod:`statusguard.errors`,
:mod:`statusguard.results` and the lifecycle layer (no z3).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statusguard.errors import LoadError
from statusguard.lifecycle._model import Lifecycle
from statusguard.results import ObligationResult, reached_under_json

__all__ = [
    "MANIFEST_FORMAT",
    "compare",
    "manifest",
    "manifest_path",
    "read_manifest",
    "safe_file_name",
]

MANIFEST_FORMAT = "statusguard.proofs/v1"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_file_name(name: str) -> str:
    """``name`` as one path component: itself when already safe, else a cleaned form plus a
    short hash of ``name`` (so distinct names never share a file or folder)."""
    cleaned = _UNSAFE.sub("_", name)
    if cleaned == name and name and not name.startswith("."):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned.lstrip('.')}-{digest}" if cleaned.strip(".") else digest


def manifest_path(root: Path, lc: Lifecycle[Any, Any]) -> Path:
    """``root/<model name>/manifest.json`` (see :func:`safe_file_name` for unsafe names)."""
    return root / safe_file_name(lc.name) / "manifest.json"


def _entry(r: ObligationResult) -> dict[str, Any]:
    entry = {
        "obligation": r.obligation,
        "status": str(r.status),
        "method": r.method,
        "counterexample": None if r.counterexample is None else r.counterexample.to_json(),
    }
    if r.reached_under is not None:
        entry["reached_under"] = reached_under_json(r.reached_under)
    return entry


def manifest(
    lc: Lifecycle[Any, Any], results: Sequence[ObligationResult], z3_version: str
) -> dict[str, Any]:
    """The manifest document for ``lc`` (no timings: it must be reproducible)."""
    return {
        "format": MANIFEST_FORMAT,
        "model": lc.name,
        "fingerprint": lc.fingerprint,
        "z3_version": z3_version,
        "obligations": [_entry(r) for r in results],
    }


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``; ``None`` if there is none; :class:`LoadError` if unreadable."""
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LoadError(str(path), f"not a readable proofs manifest: {exc}") from None
    except RecursionError:
        raise LoadError(str(path), "not a readable proofs manifest: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise LoadError(str(path), f"not a {MANIFEST_FORMAT!r} manifest")
    return doc


def compare(
    lc: Lifecycle[Any, Any],
    results: Sequence[ObligationResult],
    recorded: dict[str, Any] | None,
) -> list[str]:
    """Every difference between the fresh results and the recorded manifest, one line each.

    A different z3 version alone is not a difference (the verdicts are compared).
    """
    if recorded is None:
        return ["no recorded manifest (run: statusguard prove --write)"]
    out: list[str] = []
    if recorded.get("fingerprint") != lc.fingerprint:
        out.append(
            f"stale manifest: the model's fingerprint is {lc.fingerprint}, the manifest records "
            f"{recorded.get('fingerprint')} (the model changed; review it, then re-record with "
            "statusguard prove --write)"
        )
    old = {o.get("obligation"): o for o in recorded.get("obligations", []) if isinstance(o, dict)}
    new = {r.obligation: _entry(r) for r in results}
    out += [f"{n}: not in the manifest (new obligation)" for n in sorted(new.keys() - old.keys())]
    out += [
        f"{n}: recorded but no longer checked" for n in sorted(map(str, old.keys() - new.keys()))
    ]
    for name in [r.obligation for r in results]:
        if name not in old:
            continue
        was, now = old[name], new[name]
        for key in ("status", "method", "counterexample", "reached_under"):
            if was.get(key) != now.get(key):
                shown: str = (
                    "differs"
                    if key in ("counterexample", "reached_under")
                    else f"was {was.get(key)!r}, now {now.get(key)!r}"
                )
                out.append(f"{name}: {key} {shown}")
    return out
