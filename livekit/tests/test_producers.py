# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Smoke test of the session generator: a real livekit-agents worker runs three conversations and
writes a log and LiveKit's own totals that agree with each other.

Nothing here uses the check's parser; the log is only read for its JSON shape, its job fields and
how many `log_metrics` lines each job wrote.
"""

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from livekit.agents import __version__ as livekit_agents_version
from lk_producers import plans

from .log_helpers import generator_command

METRICS_MESSAGES = {
    'llm_metrics': 'LLM metrics',
    'tts_metrics': 'TTS metrics',
    'stt_metrics': 'STT metrics',
    'eou_metrics': 'EOU metrics',
}
JOB_FIELDS = ('pid', 'job_id', 'room', 'room_id', 'agent_name')


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp('generated')
    command = generator_command() + ['--out', str(out), '--conversations', '3', '--seed', '7']
    command += ['--time-scale', '0.05', '--concurrency', '3', '--agent-name', 'smoke-agent', '--timeout', '240']
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    lines = [json.loads(line) for line in (out / 'agent.log').read_text().splitlines()]
    return lines, json.loads((out / 'totals.json').read_text())


def test_log_is_the_workers_json_output(generated):
    lines, _ = generated
    for line in lines:
        assert list(line)[:3] == ['message', 'level', 'name']
        assert list(line)[-1] == 'timestamp'
    messages = {line['message'] for line in lines}
    assert {'starting worker', 'registered worker', 'received job request', 'process exiting'} <= messages
    assert set(METRICS_MESSAGES.values()) <= messages


def test_metrics_lines_carry_the_job_fields(generated):
    lines, totals = generated
    metrics_lines = [line for line in lines if line['message'] in METRICS_MESSAGES.values()]
    assert metrics_lines
    for line in metrics_lines:
        assert all(field in line for field in JOB_FIELDS), line
        assert line['agent_name'] == 'smoke-agent'
        assert line['job_id'] in totals['jobs']
        job = totals['jobs'][line['job_id']]
        assert (line['room'], line['room_id'], line['pid']) == (job['room'], job['room_id'], job['pid'])


def test_every_metrics_event_reached_the_log(generated):
    lines, totals = generated
    logged = Counter((line.get('job_id'), line['message']) for line in lines)
    for job_id, job in totals['jobs'].items():
        events = Counter(METRICS_MESSAGES[event['type']] for event in job['metrics_events'])
        assert events['LLM metrics'] > 0 and events['TTS metrics'] > 0
        for message in METRICS_MESSAGES.values():
            assert logged[(job_id, message)] == events[message], (job_id, message)


def test_totals_agree_with_themselves(generated):
    _, totals = generated
    assert totals['sdk_version'] == livekit_agents_version
    assert totals['overall']['conversations'] == len(totals['jobs']) == 3
    for job in totals['jobs'].values():
        # stt turn detection: one EOU event per committed user turn in the history
        assert job['eou_events'] == job['user_turns']
        # token sums from the metrics events equal LiveKit's own usage aggregation
        tokens, usage = job['tokens'], job['usage_tokens']
        assert (tokens['prompt'], tokens['completion'], tokens['cached']) == (
            usage['input'],
            usage['output'],
            usage['input_cached'],
        )
        assert tokens['prompt'] > 0 and tokens['completion'] > 0
        # what log_metrics logged is LiveKit's value, rounded by LiveKit
        latencies, logged = job['latencies'], job['latencies_logged']
        assert logged['llm_ttft'] == [round(value, 2) for value in latencies['llm_ttft']]
        assert logged['tts_ttfb'] == latencies['tts_ttfb']
        assert logged['eou_transcription_delay'] == [round(v, 2) for v in latencies['eou_transcription_delay']]
        counts = {kind: sum(c['count'] for c in job['metrics_counts'][kind]) for kind in ('llm', 'tts', 'stt', 'eou')}
        assert counts == {kind[:-8]: sum(e['type'] == kind for e in job['metrics_events']) for kind in METRICS_MESSAGES}
        assert job['close_reason'] == 'user_initiated'
        assert len(job['assistant_messages']) == job['agent_turns']
        assert len(job['latencies']['e2e_latency']) == job['user_turns']
    overall = totals['overall']
    assert overall['user_turns'] == sum(job['user_turns'] for job in totals['jobs'].values())
    assert overall['tokens']['prompt'] == sum(job['tokens']['prompt'] for job in totals['jobs'].values())
    assert overall['close_reasons'] == {'user_initiated': 3}


def test_injected_failures_are_livekits_own_errors(generated):
    _, totals = generated
    by_scenario = {job['scenario']: job for job in totals['jobs'].values()}
    # conversation 1 of every run is rate limited once; LiveKit retries and recovers
    assert by_scenario['llm_rate_limited']['errors'] == {'llm_error': {'recoverable': 1, 'unrecoverable': 0}}
    assert by_scenario['normal']['errors'] == {}


def test_plans_are_deterministic():
    assert plans.build_plans(12, seed=3, time_scale=0.1) == plans.build_plans(12, seed=3, time_scale=0.1)
    assert plans.build_plans(12, seed=3, time_scale=0.1) != plans.build_plans(12, seed=4, time_scale=0.1)


SAMPLES = Path(__file__).parent / 'fixtures' / 'logs'
PYTHON_SAMPLES = {
    # sample: (totals file, job fields its job lines carry)
    'python-1.0.23': ('python-1.0.23.expected.json', ('pid', 'job_id')),
    'python-1.1.5': ('python-1.1.5.expected.json', ('pid', 'job_id')),
    'python-1.2.18': ('python-1.2.18.expected.json', ('pid', 'job_id')),
    'python-1.3.12': ('python-1.3.12.expected.json', ('pid', 'job_id', 'room_id')),
    'python-1.5.17': ('python-1.5.17.expected.json', ('pid', 'job_id', 'room_id')),
    'python-1.6.10': ('python-1.6.10.expected.json', ('pid', 'job_id', 'room')),
    'python-1.7.1': ('python-1.7.1.expected.json', ('pid', 'job_id', 'room')),
    'python-1.8.9-session': ('python-1.8.9-session.totals.json', JOB_FIELDS),
    'python-1.8.9-session-debug': ('python-1.8.9-session-debug.totals.json', JOB_FIELDS),
}


def _lines(name):
    return [json.loads(line) for line in (SAMPLES / f'{name}.jsonl').read_text().splitlines()]


@pytest.mark.parametrize('sample', sorted(PYTHON_SAMPLES))
def test_committed_python_sample_matches_its_totals(sample):
    """The log_metrics lines of each job carry exactly what LiveKit handed to logging, in order."""
    totals_file, job_fields = PYTHON_SAMPLES[sample]
    totals = json.loads((SAMPLES / totals_file).read_text())
    lines = _lines(sample)
    assert totals['sdk_version'] == sample.split('-')[1]
    for job_id, job in totals['jobs'].items():
        metrics_lines = [
            line
            for line in lines
            if line.get('job_id') == job_id and line['message'].split(':')[0].endswith(' metrics')
        ]
        assert len(metrics_lines) == len(job['metrics_events']) == len(job['logged_metrics']) > 0
        for line, logged in zip(metrics_lines, job['logged_metrics'], strict=True):
            assert {key: line[key] for key in logged} == logged
            assert all(field in line for field in job_fields)


def test_committed_node_sample_has_the_pino_shape_and_its_totals():
    """Reference section 6: numeric level, `msg`, epoch-ms `time`, camelCase milliseconds, job bindings."""
    totals = json.loads((SAMPLES / 'node-1.9.0.expected.json').read_text())
    lines = _lines('node-1.9.0')
    for line in lines:
        assert line['level'] in (10, 20, 30, 40, 50, 60)
        assert isinstance(line['time'], int) and line['time'] > 1_600_000_000_000
        assert isinstance(line['msg'], str) and 'message' not in line
    for job_id, job in totals['jobs'].items():
        metrics_lines = [line for line in lines if line.get('jobID') == job_id and line['msg'].endswith(' metrics')]
        assert len(metrics_lines) == len(job['logged_metrics']) > 0
        for line, entry in zip(metrics_lines, job['logged_metrics'], strict=True):
            assert line['room_id'] == job['room_id'] and line['pid'] == job['pid']
            assert {key: line[key] for key in entry['logged']} == entry['logged']
    kinds = {line['msg'] for line in lines}
    assert {'LLM metrics', 'TTS metrics', 'STT metrics', 'EOU metrics', 'VAD metrics'} <= kinds
    assert {'RealtimeModel metrics', 'Interruption metrics', 'AgentSession closed'} <= kinds
    llm_line = next(line for line in lines if line['msg'] == 'LLM metrics')
    assert {'ttftMs', 'inputTokens', 'outputTokens', 'promptCachedTokens', 'tokensPerSecond'} <= set(llm_line)
