"""Run Glance's own unit tests from the installed wheel, with or without statusguard.

    python tests/integration/glance/run_glance_units.py [--without] [--check] [pytest args]

Runs pytest with the working directory at the installed ``glance`` package's parent
(site-packages), an empty ini file (this repository's pytest settings do not apply to
Glance's tests) and the plugin ``statusguard_glance_enable`` (enable() at startup). Prints
pytest's summary and exits with pytest's code; with ``--check`` (CI) it exits 0 exactly
when the failing tests are, by name, :data:`ENVIRONMENT_FAILURES` (plus, enabled,
:data:`REFUSED_ILLEGAL_WRITES`), and prints the difference otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: Glance's unit tests the integration must keep passing (issue 16 part 3)
GLANCE_UNIT_TESTS = (
    "glance/tests/unit/test_domain.py",
    "glance/tests/unit/test_db.py",
    "glance/tests/unit/v2/test_images_resource.py",
    "glance/tests/unit/v2/test_image_actions_resource.py",
    "glance/tests/unit/v2/test_image_data_resource.py",
    "glance/tests/unit/test_store_image.py",
    "glance/tests/unit/test_scrubber.py",
    "glance/tests/unit/async_/flows/",
)

#: Glance's DB API tests on SQLite (the wheel's functional tests): the path every status
#: write of a deployment takes, so the integration's SQL statement runs here
GLANCE_SQL_TESTS = ("glance/tests/functional/db/test_sqlalchemy.py",)

#: fail with and without statusguard on this machine's Glance 33.0.0 (docs/glance.md)
ENVIRONMENT_FAILURES = frozenset(
    {
        # a location URI the test's store set-up does not accept: BadStoreUri
        "glance/tests/unit/test_store_image.py::TestImageFactory::test_new_image_with_location",
        # reads the metadef JSON files of a source checkout (etc/metadefs), not in the wheel
        "glance/tests/functional/db/test_sqlalchemy.py::TestMetadefSqlAlchemyDriver"
        "::test_metadef_load_unload",
    }
)

#: fail only with statusguard: each asserts a write the lifecycle forbids (docs/glance.md)
REFUSED_ILLEGAL_WRITES = {
    "glance/tests/functional/db/test_sqlalchemy.py::TestSqlAlchemyDriver::test_image_update": (
        "image_update(UUID3, {'status': 'queued', ...}) on an active image: active -> queued"
    ),
    "glance/tests/functional/db/test_sqlalchemy.py::TestSqlAlchemyDriver"
    "::test_image_update_core_attribute": (
        "image_update(UUID3, {'status': 'queued'}) on an active image: active -> queued"
    ),
}


def command(*, without: bool, extra: list[str]) -> tuple[list[str], dict[str, str], Path]:
    import glance

    site = Path(glance.__file__).resolve().parent.parent
    ini = Path(tempfile.mkdtemp(prefix="sg-glance-ini-")) / "pytest.ini"
    ini.write_text("[pytest]\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    if without:
        env["STATUSGUARD_GLANCE_DISABLED"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "statusguard_glance_enable",
        "-c",
        str(ini),
        "--rootdir",
        str(site),
        *GLANCE_UNIT_TESTS,
        *GLANCE_SQL_TESTS,
        *extra,
    ]
    return cmd, env, site


def failures(junit: Path) -> tuple[int, set[str]]:
    """(tests run, node ids of the failed or erroring ones) from pytest's JUnit XML."""
    import xml.etree.ElementTree as ET

    failed: set[str] = set()
    total = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            classname = case.get("classname", "")
            if "." not in classname:  # a collection error: no module path, only a name
                failed.add(f"{classname or '(collection)'}::{case.get('name')}")
                continue
            module, cls = classname.rsplit(".", 1)
            failed.add(f"{module.replace('.', '/')}.py::{cls}::{case.get('name')}")
    return total, failed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--without", action="store_true", help="do not enable (the baseline)")
    parser.add_argument("--check", action="store_true", help="compare the failures by name")
    args, extra = parser.parse_known_args()
    junit = Path(tempfile.mkdtemp(prefix="sg-glance-junit-")) / "junit.xml"
    if args.check:
        extra = [*extra, f"--junitxml={junit}"]
    cmd, env, site = command(without=args.without, extra=extra)
    code = subprocess.call(cmd, cwd=site, env=env)
    if not args.check:
        return code
    total, failed = failures(junit)
    expected = set(ENVIRONMENT_FAILURES)
    if not args.without:
        expected |= set(REFUSED_ILLEGAL_WRITES)
    mode = "without" if args.without else "with"
    print(f"Glance's tests {mode} statusguard: {total} ran, {total - len(failed)} passed")
    for name in sorted(failed - expected):
        print(f"  unexpected failure: {name}")
    for name in sorted(expected - failed):
        print(f"  expected to fail but passed: {name}")
    return 0 if failed == expected and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
