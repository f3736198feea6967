# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Template variables keep panels alive: a variable applied to a metric that never carries its tag
empties the widget as soon as a value is picked. Every dashboard query that uses `$agent_name`,
`$model` or `$language` must name a metric that carries that tag in what the check submits for a
real log of a named agent and that worker's endpoints. A metric with percentiles (`assets plan
--enable-percentiles`) has only its planned tags queryable, for every aggregation: its queries are
checked against the plan's tags instead."""
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.cli.assets import AssetBundle, assets_root
from datadog_checks.livekit.cli.plan import metric_tag_configurations
from datadog_checks.livekit.cli.validate import dashboard_metric_queries

from . import http_servers
from .log_helpers import FIXTURES

OPENMETRICS = Path(__file__).parent / 'fixtures' / 'openmetrics'
# real livekit-agents 1.8.9 and @livekit/agents 1.9.0 workers whose jobs were dispatched to the agent
# `support-agent` (the Node log has LiveKit's interruption lines, the Python one has none), and two
# jobs of the generator's `--tools` (one with the companion, one stock): tool calls and errors, turns
NAMED_AGENT_LOGS = (
    FIXTURES / 'python-1.8.9-session.jsonl',
    FIXTURES / 'node-1.9.0.jsonl',
    FIXTURES / 'python-1.8.9-companion-tools.jsonl',
)
VARIABLES = ('agent_name', 'model', 'language')
# `sum:livekit.llm.requests{$service,$agent_name} by {model}`: the metric and its filter
FILTERED_METRIC = re.compile(r'[a-z0-9.]+:(livekit\.[A-Za-z0-9_.]+)\{([^}]*)\}')
BUNDLE = AssetBundle(assets_root())
DASHBOARD = BUNDLE.dashboards[0][1]
QUERYABLE = {c['metric']: set(c['tags']) for c in metric_tag_configurations(BUNDLE)}


def queryable_keys(submitted_tag_keys, metric):
    """The tag keys a query of `metric` can filter by: what it carries, within the plan's tags if planned."""
    keys = submitted_tag_keys[metric]
    return keys & QUERYABLE[metric] if metric in QUERYABLE else keys


def metric_scopes():
    """(widget, metric, the variables its filter applies) for every metric of every dashboard query."""
    for where, query in dashboard_metric_queries(DASHBOARD):
        for metric, scope in FILTERED_METRIC.findall(query):
            yield where, metric, {term[1:] for term in scope.split(',') if term.startswith('$')}


def filtered_queries():
    """(widget, metric, variable) for every use of a checked variable in the dashboard."""
    return [(where, metric, v) for where, metric, used in metric_scopes() for v in VARIABLES if v in used]


@pytest.fixture(scope='module')
def submitted_tag_keys(tmp_path_factory):
    """{metric: the tag keys it carries in at least one submission}, metrics and distributions."""
    from datadog_checks.base.stubs import aggregator

    logs = tmp_path_factory.mktemp('logs')
    for log in NAMED_AGENT_LOGS:
        shutil.copy(log, logs / log.name)
    routes = {
        '/': http_servers.static('OK', content_type='text/plain; charset=utf-8'),
        '/worker': http_servers.file(OPENMETRICS / 'worker_info.json', 'application/json'),
        # a worker with job processes: active jobs and child processes
        '/metrics': http_servers.file(OPENMETRICS / 'worker_jobs_multiproc.txt'),
    }
    aggregator.reset()
    with http_servers.serve(routes) as url:
        instance = {
            'log_paths': [str(logs / '*.jsonl')],
            'start_position': 'beginning',
            'agent_health_endpoint': url,
            'agent_endpoint': url + '/metrics',
        }
        check = LiveKitCheck('livekit', {}, [instance])
        check.check_id = 'livekit:filters'
        assert check.run() == ''
        # no new line: the idle clock follows the wall clock and the Python conversations end
        assert check.run() == ''
    keys = defaultdict(set)
    for name in aggregator.metric_names:
        for stub in aggregator.metrics(name):
            keys[name].update(tag.split(':', 1)[0] for tag in stub.tags)
    for name in {metric for _, metric, _ in metric_scopes()}:
        for stub in aggregator.histogram_bucket(name):
            keys[name].update(tag.split(':', 1)[0] for tag in stub.tags)
    aggregator.reset()
    return keys


def test_the_dashboard_filters_by_each_variable():
    used = {variable for _, _, variable in filtered_queries()}
    assert used == set(VARIABLES)
    assert len(filtered_queries()) > 50


def test_every_filtered_metric_carries_the_variable_s_tag(submitted_tag_keys):
    blanked = [
        '{}: {} never carries {} (or the plan leaves it out)'.format(where, metric, variable)
        for where, metric, variable in filtered_queries()
        if variable not in queryable_keys(submitted_tag_keys, metric)
    ]
    assert not blanked, '\n'.join(blanked)


def test_every_variable_applies_where_the_metric_carries_its_tag(submitted_tag_keys):
    """The other way round: a panel that ignores a variable its metric could honour shows the wrong data."""
    ignored = [
        '{}: {} carries {} but ignores ${}'.format(where, metric, variable, variable)
        for where, metric, used in metric_scopes()
        for variable in VARIABLES
        if variable in queryable_keys(submitted_tag_keys, metric) and variable not in used
    ]
    assert not ignored, '\n'.join(ignored)
