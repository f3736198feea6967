# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The server, agent worker and SIP scrapers against their fixtures, served by a real local HTTP server.

What each test expects is derived from the fixture files with prometheus_client's own parser and
the documented rules (name map, `.count` for counters, distributions for histograms, dropped and
renamed labels summed), never from the check's output.
"""

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from datadog_checks.base.constants import ServiceCheck
from datadog_checks.dev.utils import assert_service_checks, get_metadata_metrics
from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.openmetrics.metrics import AGENT_METRICS, SERVER_METRICS, SIP_METRICS

from . import http_servers

FIXTURES = Path(__file__).parent / 'fixtures' / 'openmetrics'
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
    dropped = {'pid', 'country', 'to'} - set(kept)
    scalars = defaultdict(float)
    cumulative = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families((FIXTURES / fixture).read_text()):
        if family.name not in metric_map:
            continue
        name = '{}.{}'.format(namespace, metric_map[family.name])
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if k not in dropped}
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
            assert bucket.monotonic is True
            tags = frozenset(t for t in bucket.tags if not t.startswith(('upper_bound:', 'lower_bound:')))
            submitted[(name, tags)].append((bucket.lower_bound, bucket.upper_bound, bucket.value))
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
    run(dd_run_check, fixture_server, {'server': 'server.txt'})

    for name in ('livekit.server.twirp.requests.count', 'livekit.server.psrpc.errors.count'):
        for metric in aggregator.metrics(name):
            assert not [t for t in metric.tags if t.startswith('service:')]
    aggregator.assert_metric_has_tag('livekit.server.twirp.requests.count', 'twirp_service:RoomService', count=2)
    aggregator.assert_metric_has_tag(
        'livekit.server.twirp.requests.count', 'twirp_service:AgentDispatchService', count=1
    )
    aggregator.assert_metric_has_tag('livekit.server.psrpc.streams', 'psrpc_service:Signal', count=1)
    latency_tags = {t for b in aggregator.histogram_bucket('livekit.server.twirp.request_latency') for t in b.tags}
    assert {'twirp_service:RoomService', 'twirp_service:AgentDispatchService'} <= latency_tags


def test_high_cardinality_labels_are_dropped_and_summed_by_default(dd_run_check, aggregator, fixture_server):
    run(dd_run_check, fixture_server, {'server': 'server.txt', 'sip': 'sip.txt', 'agent': 'worker_multiproc.txt'})

    for name in aggregator.metric_names:
        for metric in aggregator.metrics(name):
            assert not [t for t in metric.tags if t.split(':')[0] in ('country', 'pid', 'to')], (name, metric.tags)
    # 120000 (US) + 30000 (DE) incoming initial packets, one context
    aggregator.assert_metric(
        'livekit.server.packets.count',
        value=150000,
        count=1,
        tags=['node_id:ND_7fQ2kTz9LmWc', 'node_type:SERVER', 'direction:incoming', 'transmission:initial']
        + INSTANCE_TAGS
        + ['endpoint:{}/server.txt'.format(fixture_server)],
    )
    # 4 + 2 active inbound calls over two remote hosts
    aggregator.assert_metric(
        'livekit.sip.calls.active',
        value=6,
        count=1,
        tags=['node_id:NE_Qm4xS8rTz2Lp', 'dir:in', *INSTANCE_TAGS, 'endpoint:{}/sip.txt'.format(fixture_server)],
    )


def test_high_cardinality_labels_are_kept_when_listed(dd_run_check, aggregator, fixture_server):
    kept = ['country', 'pid', 'to']
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
    aggregator.assert_metric_has_tag('livekit.sip.calls.active', 'to:pbx-b.example.net', count=1)
    aggregator.assert_metric_has_tag_prefix('livekit.agent.worker.load', 'pid:', count=1)


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


def test_every_submitted_name_and_distribution_is_in_metadata(dd_run_check, aggregator, fixture_server):
    run(dd_run_check, fixture_server, {source: value[1] for source, value in SOURCES.items()})
    rows = metadata_rows()

    distributions = set(aggregator._histogram_buckets)
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
    assert not aggregator.metric_names and not aggregator._service_checks
