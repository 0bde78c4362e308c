"""``reachable`` reports, per state, the config settings under which a run reaches it."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from statusguard import load
from statusguard.cli import cli
from statusguard.lifecycle._paths import shortest_paths
from statusguard.verify._obligations import builtin_obligations

ROOT = Path(__file__).resolve().parents[3]
IMAGE = str(ROOT / "model" / "glance_image.py")
# The CLI runs on Glance (JSON, text, prove) share one proof of it.
pytestmark = pytest.mark.usefixtures("shared_proofs")


def _by_bfs(lc: Any) -> dict[str, list[dict[str, bool]]]:
    out: dict[str, list[dict[str, bool]]] = {str(s): [] for s in lc.states}
    for cfg in lc.config_settings():
        for state in shortest_paths(lc, str(lc.initial), cfg):
            out[state].append(dict(cfg))
    return out


def test_reached_under_matches_the_explicit_search() -> None:
    lc = load(IMAGE)
    res = next(r for r in builtin_obligations(lc, timeout=30) if r.obligation == "reachable")
    assert res.reached_under is not None
    got = {s: [dict(c) for c in cfgs] for s, cfgs in res.reached_under.items()}
    assert got == _by_bfs(lc)
    assert got["pending_delete"] == [{"delayed_delete": True}]
    assert len(got["active"]) == 2


def test_reached_under_in_json_text_and_manifest(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["check", IMAGE, "--format", "json"])
    doc = json.loads(res.output)
    schema = json.loads(
        resources.files("statusguard").joinpath("schemas/check-v1.schema.json").read_text()
    )
    jsonschema.validate(doc, schema)
    reach = next(r for r in doc["models"][0]["results"] if r["obligation"] == "reachable")
    assert reach["reached_under"]["pending_delete"] == [{"delayed_delete": True}]
    text = CliRunner().invoke(cli, ["check", IMAGE]).output
    assert "only under some: pending_delete [delayed_delete=true]" in text
    CliRunner().invoke(cli, ["prove", "--write", "--proofs", str(tmp_path), IMAGE])
    manifest = json.loads((tmp_path / "glance-image" / "manifest.json").read_text())
    entry = next(o for o in manifest["obligations"] if o["obligation"] == "reachable")
    assert entry["reached_under"] == reach["reached_under"]
