# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Conversations as DESIGN.md defines them: start, end (companion record, close line, idle time on
the line clock), never reopened, bounded, persisted; turns, short records, e2e estimates."""

import json
import logging

import pytest

from datadog_checks.livekit.distributions import bucket_bounds, bucket_index
from datadog_checks.livekit.logs.pipeline import LogPipeline

from .lines import T0, companion_line, epoch_ms, job_fields, node_line, python_line
from .log_helpers import bucket_counts, make_check, metric_total, totals_by_tag


def py(message, at, job='AJ_1', level='INFO', **extra):
    return python_line(message, level, job=job_fields(at, job), **extra)


def node(msg, at, job='AJ_n', level=30, **fields):
    return node_line(msg, level, time=epoch_ms(at), jobId=job, **fields)


def companion(event, at, job='AJ_1', **fields):
    return companion_line(event, job=job_fields(at, job), service='support-bot', **fields)


def eou(at, job='AJ_1', delay=0.5):
    return py('EOU metrics', at, job, end_of_utterance_delay=delay, transcription_delay=0.2)


def llm(at, job='AJ_1', ttft=0.3, model='gpt-4.1'):
    return py(
        'LLM metrics',
        at,
        job,
        model_name=model,
        model_provider='openai',
        ttft=ttft,
        prompt_tokens=100,
        prompt_cached_tokens=0,
        completion_tokens=10,
        tokens_per_second=20.0,
    )


def tts(at, job='AJ_1', ttfb=0.2):
    return py('TTS metrics', at, job, model_name='sonic-2', model_provider='cartesia', ttfb=ttfb, audio_duration=1.0)


def closed(at, job='AJ_1', reason='participant_disconnected'):
    return py('session closed', at, job, level='DEBUG', reason=reason, error=None)


class Run:
    """A pipeline and the check it submits through."""

    def __init__(self, datadog_agent, **options):
        options.setdefault('conversation_idle_timeout', 600)
        self.pipeline = LogPipeline(**options)
        self.check = make_check()
        self.datadog_agent = datadog_agent

    def feed(self, *lines):
        self.pipeline.feed(list(lines))
        return self

    def flush(self, now=T0 + 10_000):
        self.pipeline.flush(self.check, now)
        return self

    @property
    def records(self):
        """The records the pipeline sent (`send_log` data, times in seconds)."""
        return self.check.logs_sent

    def assert_records_received(self, records):
        """What the Agent received (`send_log` turns times into milliseconds)."""
        self.datadog_agent.assert_logs(self.check.check_id, records)


@pytest.fixture
def run(datadog_agent):
    return lambda **options: Run(datadog_agent, **options)


def test_a_close_line_ends_the_conversation_with_its_reason(run, aggregator):
    r = run().feed(py('received job request', 0, job=None, job_id='AJ_1', room='room-AJ_1', agent_name='support'))
    r.feed(eou(1), llm(2), tts(3), eou(10), closed(12.5)).flush(T0 + 13)
    assert metric_total(aggregator, 'livekit.conversations.started') == 1
    aggregator.assert_metric(
        'livekit.conversations.ended',
        value=1,
        tags=['agent_name:support', 'language:python', 'close_reason:participant_disconnected'],
    )
    aggregator.assert_metric('livekit.conversations.short', value=1, tags=['agent_name:support', 'language:python'])
    r.assert_records_received(
        [
            {
                'message': 'LiveKit conversation below 3 turns',
                'livekit.event': 'conversation.short',
                'ddsource': 'livekit',
                'job_id': 'AJ_1',
                'room': 'room-AJ_1',
                'agent_name': 'support',
                'turns': 2,
                'min_turns': 3,
                'duration_s': 12.5,
                'close_reason': 'participant_disconnected',
                'language': 'python',
                'timestamp': epoch_ms(12.5),
            }
        ]
    )
    assert bucket_counts(aggregator, 'livekit.conversation.duration') == {bucket_bounds(bucket_index(12.5))[0]: 1}
    assert bucket_counts(aggregator, 'livekit.conversation.turns') == {bucket_bounds(bucket_index(2))[0]: 1}


def test_late_lines_count_in_metrics_but_never_reopen(run, aggregator):
    r = run().feed(eou(1), closed(2), llm(3), eou(4), closed(5, reason='error')).flush(T0 + 6)
    assert metric_total(aggregator, 'livekit.conversations.started') == 1
    assert totals_by_tag(aggregator, 'livekit.conversations.ended', 'close_reason') == {'participant_disconnected': 1}
    assert metric_total(aggregator, 'livekit.llm.requests') == 1
    assert metric_total(aggregator, 'livekit.turns.user') == 2
    assert [record['turns'] for record in r.records] == [1]
    # still not reopened in a later run
    r.feed(eou(7)).flush(T0 + 10_000)
    assert metric_total(aggregator, 'livekit.conversations.started') == 1


def test_idle_timeout_runs_on_the_clock_of_the_lines(run, aggregator):
    r = run().feed(eou(0, job='AJ_a'), eou(1, job='AJ_b'), eou(500, job='AJ_b'))
    # the wall clock is far ahead (a backlog): only line time counts
    r.flush(T0 + 100_000)
    assert not aggregator.metrics('livekit.conversations.ended')
    r.feed(eou(600, job='AJ_b')).flush(T0 + 100_001)
    aggregator.assert_metric(
        'livekit.conversations.ended', value=1, tags=['language:python', 'close_reason:idle_timeout']
    )
    assert [(record['job_id'], record['duration_s']) for record in r.records] == [('AJ_a', 0.0)]


def test_when_no_newer_line_arrives_the_wall_clock_takes_over(run, aggregator):
    r = run().feed(eou(0), eou(30)).flush(T0 + 5_000)
    # idle time counts from the newest line, and the wall clock from when that line was read
    r.flush(T0 + 5_000 + 599)
    assert not aggregator.metrics('livekit.conversations.ended')
    r.flush(T0 + 5_000 + 600)
    assert metric_total(aggregator, 'livekit.conversations.ended', close_reason='idle_timeout') == 1
    assert r.records[0]['duration_s'] == 30.0


def test_lines_from_any_job_move_the_line_clock(run, aggregator):
    run().feed(eou(0, job='AJ_a'), py('process initialized', 700, job=None)).flush(T0 + 700)
    assert metric_total(aggregator, 'livekit.conversations.ended') == 1


def test_realtime_conversations_count_realtime_responses_as_turns(run, aggregator):
    realtime = [
        py(
            'RealtimeModel metrics',
            i,
            'AJ_rt',
            ttft=0.4,
            input_tokens=10,
            cached_input_tokens=0,
            output_tokens=5,
            total_tokens=15,
            tokens_per_second=10.0,
        )
        for i in range(4)
    ]
    r = run(min_conversation_turns=5).feed(*realtime, closed(5, job='AJ_rt'))
    # a realtime model with client-side turn detection also logs EOU lines: they count, nothing else
    r.feed(
        eou(6, job='AJ_mixed'), *[line.replace(b'AJ_rt', b'AJ_mixed') for line in realtime], closed(9, job='AJ_mixed')
    )
    r.flush(T0 + 10)
    assert {record['job_id']: record['turns'] for record in r.records} == {'AJ_rt': 4, 'AJ_mixed': 1}
    assert metric_total(aggregator, 'livekit.turns.user') == 5
    assert metric_total(aggregator, 'livekit.llm.requests') == 8


def test_companion_takes_over_its_job(run, aggregator):
    r = (
        run(min_conversation_turns=5)
        .feed(
            companion('session_start', 0, sdk_version='1.8.9', plugin_version='0.1.0', language='python'),
            companion(
                'llm_request',
                1,
                model='gpt-4.1',
                provider='openai',
                duration=0.9,
                ttft=0.3,
                prompt_tokens=100,
                prompt_cached_tokens=0,
                completion_tokens=10,
            ),
            llm(1.1),
            eou(2),
            companion('eou', 2, model='unknown', provider='stt', end_of_utterance_delay=0.5, transcription_delay=0.2),
            companion('turn', 2, role='user', item_id='item_1'),
            companion('turn', 3, role='assistant', item_id='item_2', e2e_latency=0.8),
            py('failed to generate LLM completion: boom, retrying in 2.0s', 3, level='WARNING', llm='x.y'),
            companion('error', 3, error_kind='llm', model='gpt-4.1', provider='openai', recoverable=True),
            closed(4, reason='user_initiated'),
            companion(
                'conversation',
                5,
                close_reason='participant_disconnected',
                user_turns=1,
                agent_turns=2,
                duration=4.75,
                trace_id='0af7651916cd43dd8448eb211c80319c',
            ),
            llm(6),
        )
        .flush(T0 + 7)
    )
    assert metric_total(aggregator, 'livekit.llm.requests') == 1
    assert metric_total(aggregator, 'livekit.turns.user') == 1
    assert totals_by_tag(aggregator, 'livekit.llm.errors', 'model') == {'gpt-4.1': 1}
    assert bucket_counts(aggregator, 'livekit.llm.duration') == {bucket_bounds(bucket_index(0.9))[0]: 1}
    assert bucket_counts(aggregator, 'livekit.turn.e2e_latency') == {bucket_bounds(bucket_index(0.8))[0]: 1}
    assert bucket_counts(aggregator, 'livekit.eou.end_of_utterance_delay') == {bucket_bounds(bucket_index(0.5))[0]: 1}
    (record,) = r.records
    assert record['close_reason'] == 'participant_disconnected'
    assert (record['turns'], record['duration_s'], record['service']) == (1, 4.75, 'support-bot')
    assert record['trace_id'] == '0af7651916cd43dd8448eb211c80319c'
    # log lines are still all counted
    assert metric_total(aggregator, 'livekit.log.lines') == 12


def test_e2e_estimate_per_user_turn(run, aggregator):
    run().feed(
        eou(0, delay=0.5),
        llm(1, ttft=0.3),
        tts(2, ttfb=0.2),
        tts(3, ttfb=0.9),
        # a long reply: the first sentence's TTS line comes before the LLM line
        eou(10, delay=0.25),
        tts(11, ttfb=0.05),
        llm(12, ttft=0.4),
        # a turn without an answer, then one without a first token
        eou(20),
        eou(21),
        llm(22, ttft=-1),
        tts(23),
        # the greeting, before any user turn
        llm(0, job='AJ_2'),
        tts(0, job='AJ_2'),
    ).flush()
    assert bucket_counts(aggregator, 'livekit.turn.e2e_latency') == {
        bucket_bounds(bucket_index(1.0))[0]: 1,
        bucket_bounds(bucket_index(0.7))[0]: 1,
    }
    for stub in aggregator.histogram_bucket('livekit.turn.e2e_latency'):
        assert stub.tags == ['language:python', 'method:estimated']


def test_provider_errors_take_the_model_of_the_jobs_requests(run, aggregator):
    run().feed(
        py('failed to generate LLM completion: boom, retrying in 0.1s', 0, level='WARNING', llm='__main__.ScriptedLLM'),
        llm(1, model='gpt-4.1'),
        py('failed to generate LLM completion: boom, retrying in 0.1s', 2, level='WARNING', llm='__main__.ScriptedLLM'),
        py('Error in _llm_inference_task\nTraceback ...', 3, level='ERROR'),
        # a FallbackAdapter line names another provider: its own provider, not the job's model
        py('livekit.plugins.google.llm.LLM failed, switching to next LLM: boom', 4, level='WARNING'),
    ).flush()
    errors = {tuple(sorted(stub.tags)): stub.value for stub in aggregator.metrics('livekit.llm.errors')}
    assert errors == {
        ('language:python', 'recoverable:true'): 1,
        ('language:python', 'model:gpt-4.1', 'provider:openai', 'recoverable:true'): 1,
        ('language:python', 'model:gpt-4.1', 'provider:openai', 'recoverable:false'): 1,
        ('language:python', 'provider:google', 'recoverable:true'): 1,
    }


def test_node_conversation_and_agent_name_from_the_job_request(run, aggregator):
    r = (
        run()
        .feed(
            node('received job request', 0, room_id='RM_1', resuming=False, agentName='node-agent'),
            node('EOU metrics', 1, endOfUtteranceDelayMs=500, transcriptionDelayMs=100),
            node(
                'LLM metrics', 2, ttftMs=300, inputTokens=50, promptCachedTokens=0, outputTokens=10, tokensPerSecond=20
            ),
            node('AgentSession closed', 3, reason='user_initiated', error=None),
        )
        .flush(T0 + 4)
    )
    aggregator.assert_metric('livekit.llm.requests', value=1, tags=['agent_name:node-agent', 'language:node'])
    (record,) = r.records
    assert (record['job_id'], record['turns'], record['close_reason'], record['language']) == (
        'AJ_n',
        1,
        'user_initiated',
        'node',
    )
    assert 'room' not in record  # Node names the room only in lk.pii.room_name


def test_lines_without_a_job_count_in_metrics_only(run, aggregator):
    r = run().feed(llm(0).replace(b'"job_id": "AJ_1", ', b''), eou(1, job=None)).flush()
    assert metric_total(aggregator, 'livekit.llm.requests') == 1
    assert metric_total(aggregator, 'livekit.turns.user') == 1
    assert not aggregator.metrics('livekit.conversations.started')
    assert r.records == []


def test_open_conversations_are_bounded_and_the_idlest_is_evicted(run, aggregator):
    r = run(max_open_conversations=3).feed(
        eou(0, 'AJ_a'), eou(1, 'AJ_b'), eou(2, 'AJ_c'), eou(3, 'AJ_a'), eou(4, 'AJ_d')
    )
    assert sorted(r.pipeline.conversations.open) == ['AJ_a', 'AJ_c', 'AJ_d']
    r.feed(eou(5, 'AJ_b')).flush(T0 + 6)
    assert sorted(r.pipeline.conversations.open) == ['AJ_a', 'AJ_c', 'AJ_d']
    aggregator.assert_metric('livekit.conversations.evicted', value=1, tags=['language:python'])
    assert totals_by_tag(aggregator, 'livekit.conversations.ended', 'close_reason') == {'evicted': 1}
    assert [(record['job_id'], record['close_reason']) for record in r.records] == [('AJ_b', 'evicted')]


def test_open_conversations_survive_a_restart(run, aggregator):
    first = run().feed(py('received job request', 0, job=None, job_id='AJ_1', room='room-AJ_1', agent_name='support'))
    first.feed(eou(1), eou(2)).flush(T0 + 3)
    state = json.loads(json.dumps(first.pipeline.dump_state()))
    second = run(min_conversation_turns=5)
    second.pipeline.restore(state)
    second.feed(eou(4), closed(5)).flush(T0 + 6)
    assert metric_total(aggregator, 'livekit.conversations.started') == 1
    (record,) = second.records
    assert (record['turns'], record['duration_s'], record['agent_name'], record['room']) == (
        3,
        5.0,
        'support',
        'room-AJ_1',
    )


def test_the_line_clock_survives_a_restart(run, aggregator):
    first = run().feed(eou(0)).flush(T0 + 100)
    second = run()
    second.pipeline.restore(first.pipeline.dump_state())
    # the Agent was down for 10 minutes and nothing was written meanwhile
    second.flush(T0 + 100 + 600)
    assert metric_total(aggregator, 'livekit.conversations.ended', close_reason='idle_timeout') == 1


def test_a_lower_limit_after_a_restart_evicts_the_excess(run, aggregator):
    first = run().feed(eou(0, 'AJ_a'), eou(1, 'AJ_b'), eou(2, 'AJ_c')).flush(T0 + 3)
    second = run(max_open_conversations=2)
    second.pipeline.restore(first.pipeline.dump_state())
    second.flush(T0 + 3)
    assert sorted(second.pipeline.conversations.open) == ['AJ_b', 'AJ_c']
    assert metric_total(aggregator, 'livekit.conversations.evicted') == 1


@pytest.mark.parametrize(
    'state',
    [
        'not a dict',
        [],
        {},
        {'version': 99, 'open': [], 'ended': [], 'clock': [None, None]},
        {'version': 1},
        {'version': 1, 'open': 'x', 'ended': [], 'clock': [None, None]},
        {'version': 1, 'open': [['AJ_1']], 'ended': [], 'clock': [None, None]},
        {
            'version': 1,
            'open': [[1, 'python', None, None, None, None, False, 1.0, 2.0, 0, 0]],
            'ended': [],
            'clock': [1, 2],
        },
        {
            'version': 1,
            'open': [['AJ', 'python', None, None, None, None, 'no', 1.0, 2.0, 0, 0]],
            'ended': [],
            'clock': [1, 2],
        },
        {
            'version': 1,
            'open': [['AJ', 'python', None, None, None, None, False, 1.0, 2.0, -3, 0]],
            'ended': [],
            'clock': [1, 2],
        },
        {
            'version': 1,
            'open': [['AJ', 'python', None, None, None, None, False, '1', 2.0, 0, 0]],
            'ended': [],
            'clock': [1, 2],
        },
        {'version': 1, 'open': [], 'ended': [['AJ', 'yes']], 'clock': [1, 2]},
        {'version': 1, 'open': [], 'ended': [], 'clock': [1]},
        {'version': 1, 'open': [], 'ended': [], 'clock': [1, None]},
        {'version': 1, 'open': [], 'ended': [], 'clock': ['a', 'b']},
    ],
)
def test_a_corrupt_or_foreign_state_is_discarded_with_a_warning(run, aggregator, caplog, state):
    r = run()
    r.feed(eou(0, 'AJ_kept'))
    with caplog.at_level(logging.WARNING):
        r.pipeline.restore(state)
    assert 'not usable' in caplog.text
    assert list(r.pipeline.conversations.open) == ['AJ_kept']
    r.feed(eou(1)).flush()
    assert metric_total(aggregator, 'livekit.turns.user') == 2


def test_no_state_is_a_fresh_start(run):
    r = run()
    r.pipeline.restore(None)
    assert r.pipeline.dump_state() == {'version': 1, 'open': [], 'ended': [], 'clock': [None, None]}


def test_state_size_is_bounded(run):
    r = run(max_open_conversations=50)
    r.feed(*[eou(i, f'AJ_{i}') for i in range(500)]).flush(T0 + 500)
    state = r.pipeline.dump_state()
    assert len(state['open']) <= 50
    assert len(state['ended']) <= 50


def test_node_request_without_response_after_retries_is_its_final_failure(run, aggregator):
    def retry(at):
        return node('failed to generate LLM completion, retrying in 100ms', at, level=40, llm='openai.LLM', attempt=1)

    def no_response(at):
        return node(
            'LLM metrics', at, ttftMs=-1, inputTokens=0, promptCachedTokens=0, outputTokens=0, tokensPerSecond=0
        )

    def answer(at):
        return node(
            'LLM metrics', at, ttftMs=300, inputTokens=50, promptCachedTokens=0, outputTokens=10, tokensPerSecond=20
        )

    run().feed(
        retry(0), retry(1), no_response(2),  # retries ran out
        no_response(3),  # cancelled before its first chunk, or failed at once: not counted
        retry(4), answer(5), no_response(6),  # the retry succeeded; then a cancelled request
    ).flush()  # fmt: skip
    assert totals_by_tag(aggregator, 'livekit.llm.errors', 'recoverable') == {'true': 3, 'false': 1}
    assert metric_total(aggregator, 'livekit.llm.requests') == 1


def test_a_node_job_request_announces_the_job_and_names_its_conversation():
    from datadog_checks.livekit.conversations import Conversations

    conversations = Conversations(min_turns=3, idle_timeout=600.0, max_open=2)
    conversations.announce('AJ_1', 'support-agent')
    # announced, not started: a job whose own lines never name it leaves no conversation behind
    assert conversations.open == {} and conversations.take_started() == []
    assert conversations.touch('AJ_1', 'node', 1795545368220).agent_name == 'support-agent'
    assert conversations.announced == {}
    # announced after its first line: named all the same
    conversations.touch('AJ_2', 'node', 1795545368220)
    conversations.announce('AJ_2', 'other-agent')
    assert conversations.open['AJ_2'].agent_name == 'other-agent'
    # an ended job is not announced again; announcements are bounded by max_open
    conversations.end(conversations.open['AJ_1'], 'user_initiated')
    conversations.announce('AJ_1', 'support-agent')
    for n in range(5):
        conversations.announce(f'AJ_x{n}', 'a')
    assert list(conversations.announced) == ['AJ_x3', 'AJ_x4']
