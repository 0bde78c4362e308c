"""The store contract suite on each node of a 3-node MariaDB Galera cluster (issue 14).

Every test of :mod:`tests.integration.test_store_contract`, unchanged, with the store's URL
pointing at node 1, 2 or 3 of the cluster that ``.ci/cluster/galera.sh`` starts
(``STATUSGUARD_TEST_GALERA_URLS``). DDL is replicated (total order isolation), so each test's
tables exist on every node while it runs.
"""

from __future__ import annotations

import pytest

from tests.integration.test_store_contract import *  # noqa: F403  (the suite, collected here)


@pytest.fixture(params=["galera-1", "galera-2", "galera-3"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
