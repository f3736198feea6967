# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The server, agent worker and SIP scrapers against their fixtures, served by a real local HTTP server.

What each test expects is derived from the fixture files with prometheus_client's own parser and
the documented rules (name map, `.count` for counters, distributions without bound tags for
histograms, labels kept per family or opted in, the others dropped and summed, reserved ones
renamed), never from the check's output.
"""

import csv
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import get_args

import pytest
from prometheus_client.parser import text_string_to_metric_families

from datadog_checks.base.constants import ServiceCheck
from datadog_checks.dev.utils import assert_service_checks, get_metadata_metrics
from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.config_models.instance import InstanceConfig
from datadog_checks.livekit.openmetrics.metrics import (
    AGENT_METRICS,
    DEFAULT_LABELS,
    SERVER_METRICS,
    SIP_METRICS,
)

from . import http_servers

FIXTURES = Path(__file__).parent / 'fixtures' / 'openmetrics'
# the labels `high_cardinality_labels` may add back: the option's enum (spec.yaml -> config model)
OPT_IN_LABELS = get_args(get_args(get_args(InstanceConfig.model_fields['high_cardinality_labels'].annotation)[0])[0])
METADATA = Path(__file__).parents[1] / 'metadata.csv'
INSTANCE_TAGS = ['team:voice']
SOURCES = {
    # source: (instance option, fixture, metric map)
    'server': ('server_endpoint', 'server.txt', SERVER_METRICS),
    'sip': ('sip_endpoint', 'sip.txt', SIP_METRICS),
    'agent': ('agent_endpoint', 'worker_jobs_multiproc.txt', AGENT_METRICS),
}


@pytest.fixture(scope='module')
def fixture_server():
    routes = {'/' + path.name: http_servers.file(path) for path in FIXTURES.glob('*.txt')}
    with http_servers.serve(routes) as base_url:
        yield base_url


def run(dd_run_check, base_url, sources, **options):
    instance = {'tags': list(INSTANCE_TAGS), **options}
    for source, fixture in sources.items():
        instance[SOURCES[source][0]] = '{}/{}'.format(base_url, fixture)
    check = LiveKitCheck('livekit', {}, [instance])
    dd_run_check(check)
    return instance


def service_label(family):
    if family.startswith('livekit_node_twirp_'):
        return 'twirp_service'
    if family.startswith('livekit_psrpc_'):
        return 'psrpc_service'
    return 'service'


def expected(fixture, metric_map, namespace, endpoint, kept=()):
    """({(name, type, tags): value}, {(name, tags): [(lower, upper, count), ...]}) from the fixture."""
    return expected_from_text((FIXTURES / fixture).read_text(), metric_map, namespace, endpoint, kept)


def expected_from_text(text, metric_map, namespace, endpoint, kept=()):
    scalars = defaultdict(float)
    cumulative = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families(text):
        if family.name not in metric_map:
            continue
        name = '{}.{}'.format(namespace, metric_map[family.name])
        tag_labels = {'le', *kept, *DEFAULT_LABELS.get(family.name, ())}
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if k in tag_labels}
            if 'service' in labels:
                labels[service_label(family.name)] = labels.pop('service')
            le = labels.pop('le', None)
            tags = frozenset(
                ['{}:{}'.format(k, v) for k, v in labels.items()] + INSTANCE_TAGS + ['endpoint:' + endpoint]
            )
            if family.type == 'histogram':
                if sample.name.endswith('_bucket'):
                    cumulative[(name, tags)][float(le)] += sample.value
            elif family.type == 'counter':
                scalars[(name + '.count', 'monotonic_count', tags)] += sample.value
            else:
                scalars[(name, 'gauge', tags)] += sample.value
    buckets = {}
    for key, by_bound in cumulative.items():
        bounds = sorted(by_bound)
        buckets[key] = [
            (bounds[i - 1] if i else 0, bound, by_bound[bound] - (by_bound[bounds[i - 1]] if i else 0))
            for i, bound in enumerate(bounds)
        ]
    return scalars, buckets


def assert_source(aggregator, base_url, source, kept=()):
    option, fixture, metric_map = SOURCES[source]
    endpoint = '{}/{}'.format(base_url, fixture)
    scalars, buckets = expected(fixture, metric_map, 'livekit.' + source, endpoint, kept)
    assert scalars and buckets
    for (name, metric_type, tags), value in scalars.items():
        aggregator.assert_metric(
            name, value=value, tags=sorted(tags), count=1, metric_type=getattr(aggregator, metric_type.upper())
        )
    submitted = defaultdict(list)
    for name in {key[0] for key in buckets}:
        for bucket in aggregator.histogram_bucket(name):
            # Prometheus' cumulative buckets: the Agent diffs each bucket, told apart by its bounds
            assert bucket.monotonic is True and bucket.multiple_buckets is True
            assert not [t for t in bucket.tags if t.startswith(('upper_bound:', 'lower_bound:'))], bucket
            submitted[(name, frozenset(bucket.tags))].append((bucket.lower_bound, bucket.upper_bound, bucket.value))
    assert {key: sorted(value) for key, value in submitted.items()} == {
        key: sorted(value) for key, value in buckets.items()
    }
    aggregator.assert_service_check(
        'livekit.{}.openmetrics.health'.format(source),
        ServiceCheck.OK,
        tags=INSTANCE_TAGS + ['endpoint:' + endpoint],
        count=1,
    )
    return scalars, buckets


def test_all_sources_submit_every_mapped_metric(dd_run_check, aggregator, fixture_server):
    run(dd_run_check, fixture_server, {source: value[1] for source, value in SOURCES.items()})

    for source in SOURCES:
        assert_source(aggregator, fixture_server, source)
    aggregator.assert_all_metrics_covered()
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())
    assert_service_checks(aggregator)


def test_every_livekit_family_of_the_fixtures_is_mapped():
    """The fixtures hold every metric of the reference; none may be left out of the maps."""
    for source, (_, fixture, metric_map) in SOURCES.items():
        names = {family.name for family in text_string_to_metric_families((FIXTURES / fixture).read_text())}
        livekit_names = {name for name in names if name.startswith(('livekit_', 'lk_agents_'))}
        assert livekit_names - set(metric_map) == set(), source
    worker = {f.name for f in text_string_to_metric_families((FIXTURES / 'worker_single.txt').read_text())}
    assert {name for name in worker if name.startswith('lk_agents_')} - {
        'lk_agents_proc_initialize_duration_seconds_created'
    } == set(AGENT_METRICS)


def test_total_suffix_is_read_as_prometheus_parses_it(dd_run_check, aggregator, fixture_server):
    """Go counters without `_total` keep their name; gauges named `*_total` keep the suffix."""
    run(dd_run_check, fixture_server, {'server': 'server.txt', 'sip': 'sip.txt'})

    aggregator.assert_metric('livekit.server.rooms', value=3, metric_type=aggregator.GAUGE)  # gauge livekit_room_total
    aggregator.assert_metric('livekit.server.node.packets', metric_type=aggregator.GAUGE, at_least=2)
    # counter livekit_packet_total (suffix stripped by the parser) and livekit_packet_bytes (no suffix)
    aggregator.assert_metric('livekit.server.packets.count', metric_type=aggregator.MONOTONIC_COUNT, at_least=1)
    aggregator.assert_metric('livekit.server.packet_bytes.count', metric_type=aggregator.MONOTONIC_COUNT, at_least=1)
    aggregator.assert_metric('livekit.sip.calls.terminated.count', metric_type=aggregator.MONOTONIC_COUNT, at_least=1)


def test_reserved_service_label_is_renamed(dd_run_check, aggregator, fixture_server):
    run(dd_run_check, fixture_server, {'server': 'server.txt'}, high_cardinality_labels=['service'])

    for name in ('livekit.server.twirp.requests.count', 'livekit.server.psrpc.errors.count'):
        for metric in aggregator.metrics(name):
            assert not [t for t in metric.tags if t.startswith('service:')]
    aggregator.assert_metric_has_tag('livekit.server.twirp.requests.count', 'twirp_service:RoomService', count=1)
    aggregator.assert_metric_has_tag(
        'livekit.server.twirp.requests.count', 'twirp_service:AgentDispatchService', count=1
    )
    aggregator.assert_metric_has_tag('livekit.server.psrpc.streams', 'psrpc_service:Signal', count=1)
    latency_tags = {t for b in aggregator.histogram_bucket('livekit.server.twirp.request_latency') for t in b.tags}
    assert {'twirp_service:RoomService', 'twirp_service:AgentDispatchService'} <= latency_tags


def test_labels_no_asset_reads_are_dropped_and_summed_by_default(dd_run_check, aggregator, fixture_server):
    run(dd_run_check, fixture_server, {'server': 'server.txt', 'sip': 'sip.txt', 'agent': 'worker_multiproc.txt'})

    dropped = ('country', 'pid', 'to', 'node_id', 'node_type', 'nodename', 'direction', 'transmission', 'kind')
    for name in aggregator.metric_names:
        for metric in aggregator.metrics(name):
            assert not [t for t in metric.tags if t.split(':')[0] in dropped], (name, metric.tags)
    # every packet of the node in one context: incoming, outgoing, initial, retransmitted, US, DE
    packets = sum(
        sample.value
        for family in text_string_to_metric_families((FIXTURES / 'server.txt').read_text())
        if family.name == 'livekit_packet'
        for sample in family.samples
    )
    aggregator.assert_metric(
        'livekit.server.packets.count',
        value=packets,
        count=1,
        tags=INSTANCE_TAGS + ['endpoint:{}/server.txt'.format(fixture_server)],
    )
    # 4 + 2 active inbound calls over two remote hosts; `dir` stays (Active calls by direction)
    aggregator.assert_metric(
        'livekit.sip.calls.active',
        value=6,
        count=1,
        tags=['dir:in', *INSTANCE_TAGS, 'endpoint:{}/sip.txt'.format(fixture_server)],
    )


def test_labels_are_kept_when_listed(dd_run_check, aggregator, fixture_server):
    kept = list(OPT_IN_LABELS)
    run(
        dd_run_check,
        fixture_server,
        {'server': 'server.txt', 'sip': 'sip.txt', 'agent': 'worker_jobs_multiproc.txt'},
        high_cardinality_labels=kept,
    )

    for source in ('server', 'sip', 'agent'):
        assert_source(aggregator, fixture_server, source, kept=kept)
    aggregator.assert_all_metrics_covered()
    aggregator.assert_metric_has_tag('livekit.server.packets.count', 'country:DE', count=2)
    aggregator.assert_metric_has_tag('livekit.server.packets.count', 'node_id:ND_7fQ2kTz9LmWc', count=6)
    aggregator.assert_metric_has_tag('livekit.sip.calls.active', 'to:pbx-b.example.net', count=1)
    aggregator.assert_metric_has_tag_prefix('livekit.agent.worker.load', 'pid:', count=1)


def test_every_label_of_the_fixtures_is_kept_by_default_or_can_be_opted_in():
    """A label no asset reads is dropped, so it must be listed in `high_cardinality_labels`' enum."""
    for _, fixture, metric_map in SOURCES.values():
        for family in text_string_to_metric_families((FIXTURES / fixture).read_text()):
            if family.name in metric_map:
                for sample in family.samples:
                    assert set(sample.labels) - {'le'} <= set(OPT_IN_LABELS), (family.name, sample.labels)
    for family, labels in DEFAULT_LABELS.items():
        assert family in {**SERVER_METRICS, **SIP_METRICS, **AGENT_METRICS}, family
        assert set(labels) <= set(OPT_IN_LABELS), family
    assert 'node_id' in OPT_IN_LABELS and 'pid' in OPT_IN_LABELS


@pytest.mark.parametrize('fixture', ['worker_single.txt', 'worker_multiproc.txt', 'worker_jobs_multiproc.txt'])
def test_real_worker_captures(dd_run_check, aggregator, fixture_server, fixture):
    """Both Prometheus modes of a real livekit-agents worker give the same metric names."""
    run(dd_run_check, fixture_server, {'agent': fixture})

    scalars, buckets = expected(fixture, AGENT_METRICS, 'livekit.agent', '{}/{}'.format(fixture_server, fixture))
    for (name, _, tags), value in scalars.items():
        aggregator.assert_metric(name, value=value, tags=sorted(tags), count=1)
    for name, _ in buckets:
        assert aggregator.histogram_bucket(name)
    aggregator.assert_all_metrics_covered()
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())
    aggregator.assert_service_check('livekit.agent.openmetrics.health', ServiceCheck.OK, count=1)


def metadata_rows():
    with open(METADATA, newline='') as f:
        return {row['metric_name']: row for row in csv.DictReader(f)}


def test_every_submitted_name_and_distribution_is_in_metadata(dd_run_check, aggregator, fixture_server, monkeypatch):
    # the names of the distributions submitted, through the Agent's two bucket builtins
    distributions = set()
    for builtin in ('submit_histogram_bucket', 'submit_histogram_bucket_multi'):
        submit = getattr(type(aggregator), builtin)

        def recording(stub, check, check_id, name, *args, _submit=submit, **kwargs):
            distributions.add(name)
            return _submit(stub, check, check_id, name, *args, **kwargs)

        monkeypatch.setattr(type(aggregator), builtin, recording)
    run(dd_run_check, fixture_server, {source: value[1] for source, value in SOURCES.items()})
    rows = metadata_rows()

    assert distributions
    for name in distributions:
        assert name in rows, name
        assert rows[name]['metric_type'] == 'gauge' and rows[name]['description'].startswith('Distribution:'), name
    for name in aggregator.metric_names:
        assert name in rows and not rows[name]['description'].startswith('Distribution:'), name
    # and no row of these sources is stale: each one is submitted by the fixtures
    # (`livekit.agent.*` from GET /worker too, which submits the same two names)
    ours = {name for name in rows if name.startswith(('livekit.server.', 'livekit.agent.', 'livekit.sip.'))}
    assert ours == distributions | set(aggregator.metric_names)


def test_tags_of_instance_and_endpoint_credentials(dd_run_check, aggregator):
    """Credentials in an endpoint URL never reach a tag or a message."""
    routes = {'/metrics': http_servers.file(FIXTURES / 'sip.txt')}
    with http_servers.serve(routes) as base_url:
        url = base_url.replace('http://', 'http://scraper:s3cret@') + '/metrics'
        check = LiveKitCheck('livekit', {}, [{'sip_endpoint': url, 'tags': INSTANCE_TAGS}])
        dd_run_check(check)

    for name in aggregator.metric_names:
        for metric in aggregator.metrics(name):
            assert 'endpoint:{}/metrics'.format(base_url) in metric.tags
            assert not [t for t in metric.tags if 's3cret' in t]
    aggregator.assert_service_check(
        'livekit.sip.openmetrics.health', ServiceCheck.OK, tags=INSTANCE_TAGS + ['endpoint:{}/metrics'.format(base_url)]
    )


@pytest.mark.parametrize(
    'instance, option, expected',
    [
        ({'server_endpoint': 'localhost:6789/metrics'}, 'server_endpoint', 'must be an http:// or https:// URL'),
        ({'sip_endpoint': 9090}, 'sip_endpoint', 'must be an http:// or https:// URL'),
        ({'tags': ['team:voice']}, 'server_endpoint', 'no source configured'),
        (
            {'server_endpoint': 'http://h:6789/metrics', 'high_cardinality_labels': ['room']},
            'high_cardinality_labels',
            '',
        ),
        ({'agent_endpoint': 'http://h:9464/metrics', 'timeout': 'soon'}, 'timeout', ''),
        ({'agent_endpoint': 'http://h:9464/metrics', 'prometheus_url': 'http://h'}, 'prometheus_url', 'unknown option'),
    ],
)
def test_bad_config_names_the_option(dd_run_check, aggregator, instance, option, expected):
    check = LiveKitCheck('livekit', {}, [instance])
    with pytest.raises(Exception, match=option) as raised:
        dd_run_check(check)
    assert expected in str(raised.value)
    # nothing was scraped with a configuration that did not validate
    assert not aggregator.metric_names and not aggregator.service_check_names


# --- Histograms: distributions without bound tags, counted right by the Agent ---------------------


def grown(text):
    """The same exposition after more observations: bucket `le` gains C(le) (non-decreasing in le)."""

    def more(le):
        return 7 if le == '+Inf' else min(int(math.log10(float(le) + 1) * 3), 6)

    histograms = set(re.findall(r'^(\w+)_bucket\{', text, re.M))
    lines = []
    for line in text.splitlines():
        bucket = re.match(r'(\w+)_bucket\{(.*le="([^"]+)".*)\} (\S+)$', line)
        count = re.match(r'(\w+)_count(\{.*\})? (\S+)$', line)
        if bucket:
            line = '{}_bucket{{{}}} {}'.format(bucket[1], bucket[2], float(bucket[4]) + more(bucket[3]))
        elif count and count[1] in histograms:
            line = '{}_count{} {}'.format(count[1], count[2] or '', float(count[3]) + more('+Inf'))
        lines.append(line)
    return '\n'.join(lines) + '\n'


def agent_sketch_inserts(runs, by_bounds=True):
    """What the Agent's check sampler inserts into its sketches on the last run.

    A monotonic bucket is diffed against the previous value of its key: name, host and tags, plus the
    bounds when it came through `submit_histogram_bucket_multi` (`by_bounds=False`: an Agent without it).
    A new key counts only with `flush_first_value`; a decrease is a reset.
    """
    last = {}
    inserted = defaultdict(float)
    for run in runs:
        inserted.clear()
        for b in run:
            key = (b.name, b.hostname, frozenset(b.tags)) + ((b.lower_bound, b.upper_bound) if by_bounds else ())
            if key in last:
                delta = b.value - last[key] if b.value >= last[key] else b.value
            else:
                delta = b.value if b.flush_first_value else 0
            last[key] = b.value
            if delta:
                inserted[(b.name, frozenset(b.tags), b.lower_bound, b.upper_bound)] += delta
    return dict(inserted)


def test_bucket_counts_are_the_deltas_of_prometheus_buckets_over_two_scrapes(dd_run_check, aggregator):
    first = {source: (FIXTURES / fixture).read_text() for source, (_, fixture, _) in SOURCES.items()}
    second = {source: grown(text) for source, text in first.items()}
    routes = {'/' + source: http_servers.static(text) for source, text in first.items()}
    with http_servers.serve(routes) as base_url:
        instance = {'tags': list(INSTANCE_TAGS)}
        instance.update({SOURCES[source][0]: '{}/{}'.format(base_url, source) for source in SOURCES})
        check = LiveKitCheck('livekit', {}, [instance])
        runs = []
        for texts in (first, second):
            routes.update({'/' + source: http_servers.static(text) for source, text in texts.items()})
            aggregator.reset()
            dd_run_check(check)
            runs.append(scraped_buckets(aggregator))

    expected_inserts = {}
    for source, (_, _, metric_map) in SOURCES.items():
        endpoint = '{}/{}'.format(base_url, source)
        _, before = expected_from_text(first[source], metric_map, 'livekit.' + source, endpoint)
        _, after = expected_from_text(second[source], metric_map, 'livekit.' + source, endpoint)
        for (name, tags), buckets in after.items():
            for (lower, upper, count), (_, _, previous) in zip(buckets, before[(name, tags)]):
                if count != previous:
                    expected_inserts[(name, tags, lower, upper)] = count - previous
    assert len(expected_inserts) > 50
    for run in runs:
        assert run and all(b.multiple_buckets and b.monotonic for b in run)
        assert not [b for b in run if [t for t in b.tags if t.startswith(('upper_bound:', 'lower_bound:'))]]
    assert agent_sketch_inserts(runs) == expected_inserts
    # the reason for the builtin: keyed without bounds, every bucket is diffed against its neighbour
    assert agent_sketch_inserts(runs, by_bounds=False) != expected_inserts


class AgentWithoutMultiBuckets:
    """The Agent's `aggregator` module as an Agent older than `submit_histogram_bucket_multi` has it."""

    def __init__(self, stub):
        self._stub = stub

    def __getattr__(self, name):
        if name == 'submit_histogram_bucket_multi':
            raise AttributeError(name)
        return getattr(self._stub, name)


@pytest.mark.parametrize(
    'agent, reason',
    [
        ('older', 'is not supported by this Agent version, upgrade the Agent to use it'),
        ('process_isolation', 'cannot be used with `process_isolation`'),
    ],
)
def test_without_the_multi_bucket_builtin_histograms_are_skipped_and_the_rest_goes_on(
    dd_run_check, aggregator, fixture_server, monkeypatch, tmp_path, caplog, agent, reason
):
    from datadog_checks.base.checks import base
    from datadog_checks.base.utils.replay.constants import EnvVars

    if agent == 'older':
        monkeypatch.setattr(base, 'aggregator', AgentWithoutMultiBuckets(base.aggregator))
    else:
        monkeypatch.setenv(EnvVars.MESSAGE_INDICATOR, 'isolated')
    log = Path(__file__).parent / 'fixtures' / 'logs' / 'python-1.8.9-session.jsonl'
    (tmp_path / log.name).write_bytes(log.read_bytes())
    instance = {
        'tags': list(INSTANCE_TAGS),
        'log_paths': [str(tmp_path / '*.jsonl')],
        'start_position': 'beginning',
        **{option: '{}/{}'.format(fixture_server, fixture) for option, fixture, _ in SOURCES.values()},
    }
    check = LiveKitCheck('livekit', {}, [instance])
    dd_run_check(check)
    dd_run_check(check)

    warnings = [r.getMessage() for r in caplog.records if 'submit_histogram_bucket_multi' in r.getMessage()]
    assert len(warnings) == 1, warnings  # once, not every run
    assert reason in warnings[0] and 'livekit.server.*, livekit.agent.*, livekit.sip.*' in warnings[0]
    for source in SOURCES:
        option, fixture, metric_map = SOURCES[source]
        endpoint = '{}/{}'.format(fixture_server, fixture)
        scalars, buckets = expected(fixture, metric_map, 'livekit.' + source, endpoint)
        for (name, metric_type, tags), value in scalars.items():
            aggregator.assert_metric(name, value=value, tags=sorted(tags), count=2)
        for name, _ in buckets:
            assert not aggregator.histogram_bucket(name), name
        aggregator.assert_service_check('livekit.{}.openmetrics.health'.format(source), ServiceCheck.OK, count=2)
    assert not scraped_buckets(aggregator)
    # the log source and its own distributions are not affected
    assert aggregator.histogram_bucket('livekit.llm.ttft')
    aggregator.assert_metric('livekit.llm.requests')


# --- What the scraped endpoints cost ---------------------------------------------------------------

# Series as Datadog bills them, for the three fixtures, before this change (every label a tag, a tag
# per histogram bucket): server.txt 74 contexts + 288 distributions = 1514, sip.txt 18 + 84 = 438,
# worker_jobs_multiproc.txt 3 + 7 = 38.
BILLED_BEFORE = {'server': 1514, 'sip': 438, 'agent': 38}


def scraped_buckets(aggregator):
    """Every histogram bucket of the scraped metrics, through the stub's public API."""
    names = {
        'livekit.{}.{}'.format(source, name)
        for source, (_, _, metric_map) in SOURCES.items()
        for name in metric_map.values()
    }
    return [bucket for name in sorted(names) for bucket in aggregator.histogram_bucket(name)]


def billed_series(aggregator, prefix):
    """Unique (metric, tags, host) contexts; a distribution counts 5 (count, sum, min, max, avg)."""
    scalars = {(m.name, frozenset(m.tags), m.hostname) for n in aggregator.metric_names for m in aggregator.metrics(n)}
    distributions = {(b.name, frozenset(b.tags), b.hostname) for b in scraped_buckets(aggregator)}
    scalars = {c for c in scalars if c[0].startswith(prefix)}
    distributions = {c for c in distributions if c[0].startswith(prefix)}
    return len(scalars) + 5 * len(distributions), scalars, distributions


@pytest.mark.parametrize('source', list(SOURCES))
def test_billed_series_of_each_endpoint(dd_run_check, aggregator, fixture_server, source):
    option, fixture, metric_map = SOURCES[source]
    run(dd_run_check, fixture_server, {source: fixture})

    billed, scalars, distributions = billed_series(aggregator, 'livekit.{}.'.format(source))
    # one context per combination of the labels a family keeps, counted from the fixture itself,
    # whatever the number of buckets of a histogram
    expected_contexts = defaultdict(set)
    for family in text_string_to_metric_families((FIXTURES / fixture).read_text()):
        if family.name not in metric_map:
            continue
        name = 'livekit.{}.{}{}'.format(source, metric_map[family.name], '.count' if family.type == 'counter' else '')
        kept = set(DEFAULT_LABELS.get(family.name, ()))
        for sample in family.samples:
            if family.type != 'histogram' or sample.name.endswith('_bucket'):
                expected_contexts[name].add(frozenset((k, v) for k, v in sample.labels.items() if k in kept))
    submitted_contexts = defaultdict(int)
    for name, _, _ in scalars | distributions:
        submitted_contexts[name] += 1
    assert submitted_contexts == {name: len(combinations) for name, combinations in expected_contexts.items()}
    histograms = {name for name, _, _ in distributions}
    assert billed == sum(len(c) * (5 if name in histograms else 1) for name, c in expected_contexts.items())
    assert billed < BILLED_BEFORE[source] / 4, (billed, BILLED_BEFORE[source])


# --- Every tag earns its series -------------------------------------------------------------------

ASSETS = Path(__file__).parents[1] / 'assets'
README = Path(__file__).parents[1] / 'README.md'
# `sum:livekit.sip.calls.terminated.count{reason IN (a,b)} by {host}`: metric, filter, group-by
SCRAPED_QUERY = re.compile(r'[a-z0-9]+:(livekit\.(?:server|agent|sip)\.[a-z0-9_.]+)\{([^}]*)\}(?: by \{([^}]*)\})?')
# tags that do not come from a LiveKit label: the Agent's, the instance's and the check's own
NOT_LABELS = {'host', 'service', 'endpoint', 'agent_name', '*'}


def tags_read(text):
    """{metric: tag keys} that the queries in `text` filter or group by."""
    read = defaultdict(set)
    for metric, scope, by in SCRAPED_QUERY.findall(text):
        # `reason IN (a,b)`: the values in parentheses are not tag keys
        for term in re.sub(r'\([^)]*\)', '', scope).split(',') + by.split(','):
            term = term.strip().lstrip('!$')
            key = re.split(r'[: ]', term, maxsplit=1)[0]
            if key:
                read[metric].add(key)
    return read


def scraped_metric_names():
    """{family: Datadog metric name} for every mapped family of the fixtures."""
    names = {}
    for source, (_, fixture, metric_map) in SOURCES.items():
        for family in text_string_to_metric_families((FIXTURES / fixture).read_text()):
            if family.name in metric_map:
                suffix = '.count' if family.type == 'counter' else ''
                names[family.name] = 'livekit.{}.{}{}'.format(source, metric_map[family.name], suffix)
    return names


def test_every_tag_of_a_scraped_metric_is_read_by_an_asset_or_a_documented_query():
    dashboard = json.dumps(json.loads((ASSETS / 'dashboards' / 'livekit_overview.json').read_text()))
    monitors = ' '.join(json.loads(p.read_text())['definition']['query'] for p in (ASSETS / 'monitors').glob('*.json'))
    by_assets = tags_read(dashboard + ' ' + monitors)
    by_readme = tags_read(README.read_text())
    names = scraped_metric_names()
    assert len(by_assets) > 10
    # each label kept by default is read somewhere ...
    for family, labels in DEFAULT_LABELS.items():
        for label in labels:
            assert label in by_assets[names[family]] | by_readme[names[family]], (family, label)
    # ... and no asset reads a label that is dropped by default (its panel would be empty)
    kept = {names[family]: set(labels) for family, labels in DEFAULT_LABELS.items()}
    for metric, keys in by_assets.items():
        assert metric in names.values(), metric
        assert keys - NOT_LABELS <= kept.get(metric, set()), (metric, keys)
