# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The agent worker's health server (`agent_health_endpoint`): captured answers, LiveKit's own
WorkerInfo encoding, failures, and one run against a real livekit-agents worker."""

import json
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToJson
from livekit.agents import __version__ as LIVEKIT_AGENTS_VERSION
from livekit.protocol import agent_worker
from lk_producers.capture_worker_metrics import AGENT_NAME, running_node_worker, running_worker

from datadog_checks.base.constants import ServiceCheck
from datadog_checks.dev.utils import assert_service_checks, get_metadata_metrics
from datadog_checks.livekit import LiveKitCheck

from . import http_servers

FIXTURES = Path(__file__).parent / 'fixtures' / 'openmetrics'
CAPTURED_HTTP = json.loads((FIXTURES / 'worker_http.json').read_text())
CAPTURED_NODE_HTTP = json.loads((FIXTURES / 'node_worker_http.json').read_text())
TAGS = ['team:voice']
# What the worker's health handler answers once it gave up connecting (livekit/agents/worker.py).
FAILED_TO_CONNECT = 'failed to connect to livekit'


def captured_health():
    health = CAPTURED_HTTP['health']
    return http_servers.static(health['body'], content_type=health['content_type'], status=health['status'])


def worker_info_as_livekit_encodes_it(**fields):
    """The /worker body, encoded by LiveKit's own proto message as the worker's handler does."""
    info = agent_worker.WorkerInfo(
        worker_type='JT_ROOM', sdk_version=LIVEKIT_AGENTS_VERSION, protocol_version=1, **fields
    )
    return MessageToJson(info, preserving_proto_field_name=True)


def run_check(dd_run_check, instance, check_id='livekit:worker'):
    check = LiveKitCheck('livekit', {}, [{'tags': list(TAGS), **instance}])
    check.check_id = check_id
    dd_run_check(check)
    return check


def test_healthy_worker_as_captured(dd_run_check, aggregator, datadog_agent):
    routes = {
        '/': captured_health(),
        '/worker': http_servers.file(FIXTURES / 'worker_info.json', CAPTURED_HTTP['worker']['content_type']),
    }
    with http_servers.serve(routes) as base_url:
        run_check(dd_run_check, {'agent_health_endpoint': base_url})

    info = json.loads((FIXTURES / 'worker_info.json').read_text())
    tags = ['endpoint:' + base_url, *TAGS, 'agent_name:' + info['agent_name']]
    aggregator.assert_service_check('livekit.agent.health', ServiceCheck.OK, tags=tags, count=1)
    # An idle worker: proto JSON leaves out the zero load and the zero job count.
    assert 'worker_load' not in info and 'active_jobs' not in info
    aggregator.assert_metric('livekit.agent.worker.load', value=0, tags=tags, count=1, metric_type=aggregator.GAUGE)
    aggregator.assert_metric('livekit.agent.jobs.active', value=0, tags=tags, count=1, metric_type=aggregator.GAUGE)
    aggregator.assert_all_metrics_covered()
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())
    assert_service_checks(aggregator)
    major, minor, patch = info['sdk_version'].split('.')
    datadog_agent.assert_metadata(
        'livekit:worker',
        {
            'version.scheme': 'semver',
            'version.major': major,
            'version.minor': minor,
            'version.patch': patch,
            'version.raw': info['sdk_version'],
        },
    )


def test_busy_worker_load_and_jobs(dd_run_check, aggregator):
    body = worker_info_as_livekit_encodes_it(agent_name='voice', active_jobs=2, worker_load=0.42)
    with http_servers.serve({'/': captured_health(), '/worker': http_servers.static(body, 'application/json')}) as url:
        run_check(dd_run_check, {'agent_health_endpoint': url + '/'})  # a trailing slash is fine

    info = json.loads(body)
    tags = ['endpoint:' + url, *TAGS, 'agent_name:voice']
    aggregator.assert_metric('livekit.agent.worker.load', value=info['worker_load'], tags=tags, count=1)
    aggregator.assert_metric('livekit.agent.jobs.active', value=2, tags=tags, count=1)
    aggregator.assert_service_check('livekit.agent.health', ServiceCheck.OK, tags=tags, count=1)


def test_load_and_jobs_come_from_prometheus_when_agent_endpoint_is_set(dd_run_check, aggregator):
    body = worker_info_as_livekit_encodes_it(agent_name='voice', active_jobs=2, worker_load=0.42)
    routes = {
        '/': captured_health(),
        '/worker': http_servers.static(body, 'application/json'),
        '/metrics': http_servers.file(FIXTURES / 'worker_jobs_multiproc.txt'),
    }
    with http_servers.serve(routes) as url:
        run_check(dd_run_check, {'agent_health_endpoint': url, 'agent_endpoint': url + '/metrics'})

    # Once each, from Prometheus, with the worker's agent name added to the scraper's tags.
    for name in ('livekit.agent.worker.load', 'livekit.agent.jobs.active'):
        aggregator.assert_metric(name, count=1)
        aggregator.assert_metric_has_tag(name, 'agent_name:voice', count=1)
        aggregator.assert_metric_has_tag(name, 'endpoint:{}/metrics'.format(url), count=1)
    aggregator.assert_service_check('livekit.agent.health', ServiceCheck.OK, count=1)
    aggregator.assert_service_check('livekit.agent.openmetrics.health', ServiceCheck.OK, count=1)


def test_worker_that_cannot_reach_livekit_is_critical(dd_run_check, aggregator):
    body = worker_info_as_livekit_encodes_it(agent_name='voice')
    routes = {
        '/': http_servers.static(FAILED_TO_CONNECT, 'text/plain; charset=utf-8', status=503),
        '/worker': http_servers.static(body, 'application/json'),
    }
    with http_servers.serve(routes) as url:
        with pytest.raises(Exception, match='{}/: HTTP 503 Service Unavailable: {}'.format(url, FAILED_TO_CONNECT)):
            run_check(dd_run_check, {'agent_health_endpoint': url})

    aggregator.assert_service_check(
        'livekit.agent.health',
        ServiceCheck.CRITICAL,
        tags=['endpoint:' + url, *TAGS, 'agent_name:voice'],
        message='{}/: HTTP 503 Service Unavailable: {}'.format(url, FAILED_TO_CONNECT),
        count=1,
    )
    # /worker still answered: its data is not lost
    aggregator.assert_metric('livekit.agent.jobs.active', value=0, count=1)


@pytest.mark.parametrize(
    'body, reason',
    [
        ('<html>Bad gateway</html>', 'the answer is not JSON'),
        ('[1, 2]', 'expected a JSON object, got list'),
        ('{"worker_load": "high"}', "`worker_load` is not a number: 'high'"),
        ('{"active_jobs": true}', '`active_jobs` is not a number: True'),
    ],
)
def test_unreadable_worker_info_is_critical(dd_run_check, aggregator, body, reason):
    routes = {'/': captured_health(), '/worker': http_servers.static(body, 'application/json')}
    with http_servers.serve(routes) as url:
        with pytest.raises(Exception, match='1 LiveKit source'):
            run_check(dd_run_check, {'agent_health_endpoint': url})

    [service_check] = aggregator.service_checks('livekit.agent.health')
    assert service_check.status == ServiceCheck.CRITICAL
    assert service_check.message.startswith('{}/worker: '.format(url))
    assert reason in service_check.message
    assert not aggregator.metric_names


def test_worker_down_is_critical_and_names_both_urls(dd_run_check, aggregator):
    url = http_servers.closed_port()
    with pytest.raises(Exception, match='2 LiveKit source'):
        run_check(dd_run_check, {'agent_health_endpoint': url})

    [service_check] = aggregator.service_checks('livekit.agent.health')
    assert service_check.status == ServiceCheck.CRITICAL
    assert '{}/worker: connection refused'.format(url) in service_check.message
    assert '{}/: connection refused'.format(url) in service_check.message
    assert_service_checks(aggregator)


def test_prerelease_version_metadata(dd_run_check, datadog_agent):
    body = json.dumps({'worker_type': 'JT_ROOM', 'sdk_version': '1.9.0rc1', 'protocol_version': 1})
    with http_servers.serve({'/': captured_health(), '/worker': http_servers.static(body, 'application/json')}) as url:
        run_check(dd_run_check, {'agent_health_endpoint': url}, check_id='livekit:rc')

    datadog_agent.assert_metadata(
        'livekit:rc',
        {
            'version.scheme': 'semver',
            'version.major': '1',
            'version.minor': '9',
            'version.patch': '0',
            'version.raw': '1.9.0rc1',
        },
    )


def test_real_worker(dd_run_check, aggregator, datadog_agent, tmp_path):
    """A real livekit-agents worker (`python agent.py start`, no LiveKit server reachable)."""
    with running_worker(tmp_path) as worker:
        run_check(dd_run_check, {'agent_health_endpoint': worker['health'], 'agent_endpoint': worker['metrics']})

    aggregator.assert_service_check('livekit.agent.health', ServiceCheck.OK, count=1)
    aggregator.assert_service_check('livekit.agent.openmetrics.health', ServiceCheck.OK, count=1)
    aggregator.assert_metric('livekit.agent.worker.load', count=1)
    aggregator.assert_metric_has_tag('livekit.agent.worker.load', 'agent_name:' + AGENT_NAME, count=1)
    # the idle process the worker prewarmed
    assert sum(bucket.value for bucket in aggregator.histogram_bucket('livekit.agent.process.initialize_time')) >= 1
    aggregator.assert_metrics_using_metadata(get_metadata_metrics())
    datadog_agent.assert_metadata_count(5)
    datadog_agent.assert_metadata('livekit:worker', {'version.raw': LIVEKIT_AGENTS_VERSION})


def test_node_worker_as_captured(dd_run_check, aggregator, datadog_agent):
    """A Node worker: 503 until connected to LiveKit, and a /worker answer without load."""
    health, worker = CAPTURED_NODE_HTTP['health'], CAPTURED_NODE_HTTP['worker']
    routes = {
        '/': http_servers.static(health['body'], content_type=health['content_type'], status=health['status']),
        '/worker': http_servers.static(json.dumps(worker['body']), content_type=worker['content_type']),
    }
    with http_servers.serve(routes) as url:
        with pytest.raises(Exception, match='HTTP 503'):
            run_check(dd_run_check, {'agent_health_endpoint': url}, check_id='livekit:node')

    tags = ['endpoint:' + url, *TAGS, 'agent_name:' + worker['body']['agent_name']]
    aggregator.assert_service_check(
        'livekit.agent.health',
        ServiceCheck.CRITICAL,
        tags=tags,
        message='{}/: HTTP 503 Service Unavailable: {}'.format(url, health['body']),
        count=1,
    )
    aggregator.assert_metric('livekit.agent.jobs.active', value=worker['body']['active_jobs'], tags=tags, count=1)
    aggregator.assert_all_metrics_covered()  # no load: a Node worker does not report one
    datadog_agent.assert_metadata('livekit:node', {'version.raw': worker['body']['sdk_version']})


def test_real_node_worker(dd_run_check, aggregator, tmp_path):
    """A real @livekit/agents worker (`node agent.mjs start`) that cannot reach LiveKit."""
    with running_node_worker(tmp_path) as worker:
        with pytest.raises(Exception, match='not connected to livekit'):
            run_check(dd_run_check, {'agent_health_endpoint': worker['health']})

    [service_check] = aggregator.service_checks('livekit.agent.health')
    assert service_check.status == ServiceCheck.CRITICAL
    assert 'agent_name:' + AGENT_NAME in service_check.tags
    aggregator.assert_metric('livekit.agent.jobs.active', value=0, count=1)
    assert not aggregator.metrics('livekit.agent.worker.load')
