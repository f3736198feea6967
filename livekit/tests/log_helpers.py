# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Shared by the agent-log tests: a bare check to submit through, reading the aggregator stub back
the way Datadog would (through the stub's public API), and real LiveKit sessions produced by the
generator (`lk_producers`, installed editable by `make`)."""

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
FIXTURES = HERE / 'fixtures' / 'logs'
RESERVED_TAGS = ('service:', 'env:', 'version:', 'host:')
METADATA = get_metadata_metrics()
# the stub lists histogram buckets by name only: these are the names they may have
DISTRIBUTIONS = tuple(name for name, row in METADATA.items() if row['description'].startswith('Distribution:'))


def generator_command(python=sys.executable):
    """The session generator (see producers/README.md) on `python`, whose venv has `lk_producers`."""
    return [str(python), '-m', 'lk_producers.session_generator']


class Check(AgentCheck):
    """Submits under the integration's namespace, like `LiveKitCheck`, and keeps what it sent that
    the stubs cannot list: the names of its distributions and its records (`send_log` data)."""

    __NAMESPACE__ = 'livekit'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.distributions_sent = set()
        self.logs_sent = []

    def check(self, _):
        pass

    def submit_histogram_bucket(
        self, name, value, lower_bound, upper_bound, monotonic, hostname, tags, raw=False, *args, **kwargs
    ):
        self.distributions_sent.add(name if raw else f'{self.__NAMESPACE__}.{name}')
        super().submit_histogram_bucket(
            name, value, lower_bound, upper_bound, monotonic, hostname, tags, raw, *args, **kwargs
        )

    def send_log(self, data, cursor=None, stream='default'):
        self.logs_sent.append(data)
        super().send_log(data, cursor, stream)


# the distributions of every check make_check() gave out, for `assert_submissions_follow_metadata`
_DISTRIBUTIONS_SENT = set()


def make_check(tags=()):
    check = Check('livekit', {}, [{'tags': list(tags)}])
    check.check_id = 'livekit:test'
    check.distributions_sent = _DISTRIBUTIONS_SENT
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


def submitted_metrics(aggregator):
    """Every metric stub the aggregator holds."""
    return [stub for name in aggregator.metric_names for stub in aggregator.metrics(name)]


def submitted_buckets(aggregator, names=DISTRIBUTIONS):
    """Every histogram bucket stub the aggregator holds under `names`."""
    return [stub for name in names for stub in aggregator.histogram_bucket(name)]


def assert_submissions_follow_metadata(aggregator):
    """Every metric and every distribution is in metadata.csv; no reserved or identifying tag.

    The distributions are those of metadata.csv and every one a check of `make_check()` submitted."""
    aggregator.assert_metrics_using_metadata(METADATA, check_submission_type=True)
    sent = set(_DISTRIBUTIONS_SENT)
    for name in sent:
        assert name in METADATA, name
        assert METADATA[name]['description'].startswith('Distribution:'), name
    buckets = submitted_buckets(aggregator, sorted(sent | set(DISTRIBUTIONS)))
    for stub in buckets:
        assert not any(tag.startswith(('upper_bound:', 'lower_bound:')) for tag in stub.tags)
    for stub in submitted_metrics(aggregator) + buckets:
        assert not any(tag.startswith(RESERVED_TAGS) for tag in stub.tags), stub


def read_lines(path):
    with open(path, 'rb') as f:
        return f.read().splitlines()


@functools.cache
def generated_sessions(conversations, log_level='INFO', seed=1, instrument=None, concurrency=None, tools=False):
    """Run real AgentSessions through the real worker (see producers/README.md); returns the
    directory holding `agent.log` and LiveKit's own `totals.json`. Cached for the test session.
    `concurrency`: conversations at once (default: all); `tools`: the generator's scripted tools."""
    out = Path(tempfile.mkdtemp(prefix=f'livekit-sessions-{log_level.lower()}-'))
    atexit.register(shutil.rmtree, out, True)
    command = generator_command() + [
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
        str(concurrency or conversations),
    ]
    if tools:
        command.append('--tools')
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
