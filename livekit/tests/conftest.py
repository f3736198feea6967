# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
from collections.abc import Iterator

import pytest


@pytest.fixture(scope='session')
def dd_environment() -> Iterator[None]:
    """The environment `ddev env start` brings up, looked up by ddev by this name.

    There is none: the tests run real LiveKit workers and sessions themselves (lk_producers, see
    producers/README.md) and a LiveKit server cannot run here, so no test depends on it.
    """
    yield
