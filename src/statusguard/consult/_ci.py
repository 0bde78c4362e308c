"""The reports CI systems read: JUnit XML, SARIF 2.1.0 and GitHub Actions annotations.

What it owns: :func:`junit` (one ``testsuite`` per lifecycle, one ``testcase`` per
obligation: violated is a ``failure``, unknown an ``error``; the shape of Jenkins'
``junit-10.xsd``, which GitLab, Azure and GitHub test reporters also read), :func:`sarif`
(a SARIF 2.1.0 log for GitHub code scanning: one result per finding, at the model file
and line of the offending transition or invariant) and :func:`github_annotations`
(``::error file=...,line=...::message`` lines a GitHub Actions runner turns into
annotations). Built from :mod:`statusguard.consult._locate`'s findings.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from statusguard.consult._locate import RULES, Finding, findings
from statusguard.consult._reports import CheckReport, DiffReport
from statusguard.errors import Origin
from statusguard.results import ObligationResult, Verdict

__all__ = ["github_annotations", "junit", "sarif", "under_github_actions"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


# -- JUnit XML -------------------------------------------------------------------------


def _case(suite: ET.Element, lifecycle: str, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(
        suite, "testcase", name=name, classname=f"statusguard.{lifecycle}", time=_seconds(seconds)
    )


def _fail(case: ET.Element, f: Finding | None, r: ObligationResult | None, text: str) -> None:
    tag = "error" if r is not None and r.status is Verdict.UNKNOWN else "failure"
    where = f" at {f.origin}" if f is not None and f.origin is not None else ""
    message = (f.message if f is not None else text) + where
    node = ET.SubElement(case, tag, type=str(r.status) if r is not None else "failed")
    node.set("message", message)
    body = [text]
    if r is not None and r.counterexample is not None:
        body.append(r.counterexample.render())
    if f is not None:
        body.extend(f"also: {o} ({what})" for o, what in f.related)
    node.text = "\n".join(b for b in body if b)


def _count(suite: ET.Element) -> tuple[int, int, int, float]:
    cases = suite.findall("testcase")
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    seconds = sum(float(c.get("time", "0")) for c in cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", _seconds(seconds))
    return len(cases), failures, errors, seconds


def _xml(root: ET.Element) -> str:
    totals = [_count(s) for s in root.findall("testsuite")]
    root.set("tests", str(sum(t[0] for t in totals)))
    root.set("failures", str(sum(t[1] for t in totals)))
    root.set("errors", str(sum(t[2] for t in totals)))
    root.set("time", _seconds(sum(t[3] for t in totals)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def junit(report: CheckReport | DiffReport) -> str:
    """The report as JUnit XML: a ``testsuites`` document."""
    located = {(f.lifecycle, f.name): f for f in findings(report)}
    if isinstance(report, CheckReport):
        root = ET.Element("testsuites", name="statusguard check")
        for m in report.models:
            lc = m.lifecycle
            suite = ET.SubElement(root, "testsuite", name=lc.name)
            if lc.origin is not None:
                suite.set("file", lc.origin.shown_file)
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="fingerprint", value=lc.fingerprint)
            for r in m.results:
                case = _case(suite, lc.name, r.obligation, r.seconds)
                if not r.ok:
                    _fail(case, located.get((lc.name, r.obligation)), r, r.detail)
            if m.manifest is not None:
                case = _case(suite, lc.name, "proofs manifest", 0.0)
                for d in m.differences:
                    _fail(case, None, None, f"{lc.name}: proofs manifest {m.manifest}: {d}")
        for u in report.unloaded:
            suite = ET.SubElement(root, "testsuite", name=u.target)
            case = _case(suite, u.target, u.result.obligation, u.result.seconds)
            _fail(case, located.get((u.target, u.result.obligation)), u.result, u.result.detail)
        return _xml(root)
    root = ET.Element("testsuites", name="statusguard diff")
    for change in report.lifecycles:
        suite = ET.SubElement(root, "testsuite", name=change.new_name)
        ET.SubElement(
            ET.SubElement(suite, "properties"),
            "property",
            name="fingerprints",
            value=f"{change.old_fingerprint} -> {change.new_fingerprint}",
        )
        for o in change.obligations:
            seconds = o.result.seconds if o.result is not None else 0.0
            case = _case(suite, change.new_name, o.obligation, seconds)
            if o.regressed:
                what = f"{o.before or 'absent'} -> {o.after or 'absent'}"
                text = f"regressed: {what}" + (f": {o.result.detail}" if o.result else "")
                _fail(case, located.get((change.new_name, o.obligation)), o.result, text)
        for name in change.unchanged_obligations:
            _case(suite, change.new_name, name, 0.0)
    for name in report.removed:
        suite = ET.SubElement(root, "testsuite", name=name)
        case = _case(suite, name, "lifecycle kept", 0.0)
        if not report.allow_removed:
            _fail(case, located.get((name, "lifecycle removed")), None, f"lifecycle {name} removed")
    return _xml(root)


# -- SARIF -----------------------------------------------------------------------------


def _uri(file: str) -> str:
    """A repository-relative URI for a file below the working directory, else a file URI."""
    shown = Origin(file, 1).shown_file
    if Path(shown).is_absolute():
        return Path(shown).as_uri()
    return Path(shown).as_posix()


def _location(origin: Origin, message: str | None = None, id_: int | None = None) -> Any:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(origin.file)},
            "region": {"startLine": max(origin.line, 1)},
        }
    }
    if id_ is not None:
        loc["id"] = id_
    if message is not None:
        loc["message"] = {"text": message}
    return loc


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("statusguard")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"


def sarif(report: CheckReport | DiffReport) -> str:
    """The report's findings as a SARIF 2.1.0 log (one run, one result per finding)."""
    found = list(findings(report))
    rule_ids = list(dict.fromkeys(f.rule for f in found))
    rules = [
        {"id": rule, "name": rule, "shortDescription": {"text": RULES.get(rule, rule)}}
        for rule in rule_ids
    ]
    results = []
    for f in found:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": f.level,
            "message": {"text": f.message},
            "partialFingerprints": {"statusguard/v1": f"{f.lifecycle}/{f.name}"},
        }
        if f.origin is not None:
            result["locations"] = [_location(f.origin)]
        if f.related:
            result["relatedLocations"] = [
                _location(o, what, i) for i, (o, what) in enumerate(f.related, 1)
            ]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "statusguard",
                        "version": _version(),
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)


# -- GitHub Actions annotations --------------------------------------------------------


def _escape(text: str, *, property: bool = False) -> str:
    out = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property:
        out = out.replace(":", "%3A").replace(",", "%2C")
    return out


def under_github_actions() -> bool:
    """Whether this process runs in a GitHub Actions job (``GITHUB_ACTIONS=true``)."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def github_annotations(report: CheckReport | DiffReport) -> Iterable[str]:
    """One workflow command per finding: ``::error file=F,line=N,title=T::message``."""
    for f in findings(report):
        command = "error" if f.level == "error" else "warning"
        params = []
        if f.origin is not None:
            params.append(f"file={_escape(f.origin.shown_file, property=True)}")
            params.append(f"line={max(f.origin.line, 1)}")
        params.append(f"title={_escape(f'statusguard {f.lifecycle}: {f.name}', property=True)}")
        yield f"::{command} {','.join(params)}::{_escape(f.message)}"
