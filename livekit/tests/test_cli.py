# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""`livekit-datadog check`: the --json contract, exit statuses, and state kept across invocations."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .log_helpers import FIXTURES

CLI = str(Path(sys.executable).with_name('livekit-datadog'))
SAMPLE = FIXTURES / 'python-1.2.18.jsonl'
TOP_KEYS = {'metrics', 'histogram_buckets', 'service_checks', 'logs', 'metadata', 'errors'}


def run_cli(*args, cwd=None):
    completed = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)
    return completed.returncode, completed.stdout, completed.stderr


def write_config(path, **instance):
    lines = ['init_config:', 'instances:', '  - ' + json.dumps(instance)]
    path.write_text('\n'.join(lines) + '\n')
    return path


@pytest.fixture
def agent_log(tmp_path):
    log = tmp_path / 'agent.log'
    shutil.copy(SAMPLE, log)
    return log


def test_json_contract(tmp_path, agent_log):
    config = write_config(tmp_path / 'conf.yaml', log_paths=[str(agent_log)], start_position='beginning', tags=['team:voice'])
    status, out, err = run_cli('check', '--config', config, '--state-dir', tmp_path / 'state', '--json')
    assert status == 0, err
    result = json.loads(out)  # exactly one JSON object
    assert set(result) == TOP_KEYS
    assert result['errors'] == []
    for metric in result['metrics']:
        assert set(metric) == {'name', 'type', 'value', 'tags'}
        assert metric['type'] in ('gauge', 'count', 'monotonic_count', 'rate')
        assert 'team:voice' in metric['tags']
    for bucket in result['histogram_buckets']:
        assert set(bucket) == {'name', 'value', 'lower_bound', 'upper_bound', 'monotonic', 'tags'}
        assert bucket['lower_bound'] <= bucket['upper_bound']
    assert result['service_checks'] == [
        {'name': 'livekit.logs.can_read', 'status': 0, 'tags': ['team:voice'], 'message': ''}
    ]
    lines = sum(1 for _ in SAMPLE.open('rb'))
    assert sum(m['value'] for m in result['metrics'] if m['name'] == 'livekit.log.lines') == lines
    assert {b['name'] for b in result['histogram_buckets']} >= {'livekit.llm.ttft', 'livekit.tts.ttfb'}


def test_second_invocation_resumes_like_an_agent_restart(tmp_path, agent_log):
    config = write_config(tmp_path / 'conf.yaml', log_paths=[str(agent_log)], start_position='beginning')
    state = tmp_path / 'state'
    first = json.loads(run_cli('check', '--config', config, '--state-dir', state, '--json')[1])
    with agent_log.open('ab') as f:
        f.write(SAMPLE.read_bytes().splitlines(keepends=True)[0])
    second = json.loads(run_cli('check', '--config', config, '--state-dir', state, '--json')[1])

    def lines(result):
        return sum(m['value'] for m in result['metrics'] if m['name'] == 'livekit.log.lines')

    assert lines(first) == sum(1 for _ in SAMPLE.open('rb'))
    assert lines(second) == 1  # only the line appended in between


def test_every_run_is_its_own_entry(tmp_path, agent_log):
    config = write_config(tmp_path / 'conf.yaml', log_paths=[str(agent_log)])
    status, out, _ = run_cli('check', '--config', config, '--state-dir', tmp_path / 's', '--runs', 3, '--interval', 0, '--json')
    assert status == 0
    result = json.loads(out)
    assert [s['name'] for s in result['service_checks']] == ['livekit.logs.can_read'] * 3
    assert len([m for m in result['metrics'] if m['name'] == 'livekit.log.backlog']) == 3


def test_a_failed_source_exits_1_and_says_why(tmp_path, agent_log):
    config = write_config(
        tmp_path / 'conf.yaml', log_paths=[str(agent_log)], start_position='beginning', server_endpoint='http://127.0.0.1:1/metrics'
    )
    status, out, err = run_cli('check', '--config', config, '--state-dir', tmp_path / 'state', '--json')
    assert status == 1
    result = json.loads(out)
    assert len(result['errors']) == 1 and 'http://127.0.0.1:1/metrics' in result['errors'][0]
    assert 'http://127.0.0.1:1/metrics' in err
    statuses = {s['name']: s['status'] for s in result['service_checks']}
    assert statuses == {'livekit.server.openmetrics.health': 2, 'livekit.logs.can_read': 0}
    # The log source still ran in the same run.
    assert any(m['name'] == 'livekit.llm.requests' for m in result['metrics'])


@pytest.mark.parametrize(
    'content, expected',
    [
        ('instances: []\n', 'has no `instances` list'),
        ('init_config: [\n', 'cannot read the configuration'),
        ('instances:\n  - {tags: [a:b]}\n', 'no source configured'),
    ],
)
def test_bad_configuration(tmp_path, content, expected):
    config = tmp_path / 'conf.yaml'
    config.write_text(content)
    status, out, err = run_cli('check', '--config', config, '--state-dir', tmp_path / 'state', '--json')
    assert status == 1
    assert expected in json.loads(out)['errors'][0]
    assert expected in err


def test_tables_show_what_datadog_would_receive(tmp_path, agent_log):
    config = write_config(tmp_path / 'conf.yaml', log_paths=[str(agent_log)], start_position='beginning')
    status, out, _ = run_cli('check', '--config', config, '--state-dir', tmp_path / 'state')
    assert status == 0
    for section in ('Metrics (', 'Distributions (', 'Service checks (1)', 'Logs sent ('):
        assert section in out
    assert 'livekit.llm.tokens.input' in out and 'livekit.llm.ttft' in out
