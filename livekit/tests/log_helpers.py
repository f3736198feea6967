# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Shared by the agent-log tests: a bare check to submit through, reading the aggregator stub back
the way Datadog would, and real LiveKit sessions produced by the generator."""

import atexit
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from datadog_checks.base import AgentCheck
from datadog_checks.dev.utils import get_metadata_metrics
from datadog_checks.livekit.distributions import quantile_from_buckets

HERE = Path(__file__).resolve().parent
GENERATOR = HERE / 'producers' / 'session_generator.py'
FIXTURES = HERE / 'fixtures' / 'logs'
RESERVED_TAGS = ('service:', 'env:', 'version:', 'host:')


class Check(AgentCheck):
    """Submits under the integration's namespace, like `LiveKitCheck`."""

    __NAMESPACE__ = 'livekit'

    def check(self, _):
        pass


def make_check(tags=()):
    check = Check('livekit', {}, [{'tags': list(tags)}])
    check.check_id = 'livekit:test'
    return check


def buckets_by_context(aggregator, name):
    """{sorted tags: [(lower, upper, count), ...]} of one distribution."""
    contexts = defaultdict(list)
    for stub in aggregator.histogram_bucket(name):
        contexts[tuple(sorted(stub.tags))].append((stub.lower_bound, stub.upper_bound, stub.value))
    return dict(contexts)


def all_buckets(aggregator, name):
    return [bucket for buckets in buckets_by_context(aggregator, name).values() for bucket in buckets]


def bucket_counts(aggregator, name):
    """{lower bound: count} over every context of a distribution."""
    counts = Counter()
    for lower, _, count in all_buckets(aggregator, name):
        counts[lower] += count
    return counts


def datadog_quantile(buckets, q):
    """A quantile as Datadog reads submitted buckets (see `quantile_from_buckets`)."""
    value = quantile_from_buckets(buckets, q)
    assert value is not None, 'no buckets'
    return value


def metric_total(aggregator, name, **tags):
    """Sum of a count over the submissions that carry every `tag:value` given."""
    wanted = {f'{key}:{value}' for key, value in tags.items()}
    return sum(stub.value for stub in aggregator.metrics(name) if wanted <= set(stub.tags))


def totals_by_tag(aggregator, name, tag):
    """{tag value: summed count}."""
    prefix = f'{tag}:'
    result = Counter()
    for stub in aggregator.metrics(name):
        values = [t[len(prefix) :] for t in stub.tags if t.startswith(prefix)]
        result[values[0] if values else None] += stub.value
    return dict(result)


def assert_submissions_follow_metadata(aggregator):
    """Every metric and every distribution is in metadata.csv; no reserved or identifying tag."""
    metadata = get_metadata_metrics()
    aggregator.assert_metrics_using_metadata(metadata, check_submission_type=True)
    for name, stubs in aggregator._histogram_buckets.items():
        assert name in metadata, name
        assert metadata[name]['description'].startswith('Distribution:'), name
        for stub in stubs:
            assert not any(tag.startswith(('upper_bound:', 'lower_bound:')) for tag in stub.tags)
    for stubs in list(aggregator._metrics.values()) + list(aggregator._histogram_buckets.values()):
        for stub in stubs:
            assert not any(tag.startswith(RESERVED_TAGS) for tag in stub.tags), stub


def read_lines(path):
    with open(path, 'rb') as f:
        return f.read().splitlines()


@functools.cache
def generated_sessions(conversations, log_level='INFO', seed=1, instrument=None):
    """Run real AgentSessions through the real worker (see producers/README.md); returns the
    directory holding `agent.log` and LiveKit's own `totals.json`. Cached for the test session."""
    out = Path(tempfile.mkdtemp(prefix=f'livekit-sessions-{log_level.lower()}-'))
    atexit.register(shutil.rmtree, out, True)
    command = [
        sys.executable,
        str(GENERATOR),
        '--out',
        str(out),
        '--conversations',
        str(conversations),
        '--seed',
        str(seed),
        '--log-level',
        log_level,
        '--time-scale',
        '0.05',
        '--concurrency',
        str(conversations),
    ]
    cwd = None
    if instrument:
        # the worker imports `hook_module:instrument` from the generator's working directory
        cwd = out / 'hook'
        cwd.mkdir()
        (cwd / 'companion_hook.py').write_text(instrument)
        command += ['--instrument', 'companion_hook:instrument']
    subprocess.run(command, check=True, cwd=cwd, capture_output=True, timeout=300)
    return out


def load_totals(directory):
    return json.loads((Path(directory) / 'totals.json').read_text())
