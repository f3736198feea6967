# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""One line -> one typed event, for every LiveKit shape. The lines are LiveKit's own: quoted from
runs of livekit-agents 1.8.9 and @livekit/agents 1.9.0, or built from the exact format strings of
the older wheels (1.1.5, 1.2.18); the expected values are read off the lines themselves."""

import json

import pytest

from datadog_checks.livekit.logs.events import (
    CompanionConversation,
    CompanionTurn,
    EndOfUtterance,
    Interruptions,
    JobRequest,
    ModelRequest,
    NoResponse,
    ProviderError,
    SessionClosed,
    Synthesis,
    Transcription,
)
from datadog_checks.livekit.logs.parsers import Line, read_line
from datadog_checks.livekit.logs.provider_errors import provider_from_label

from .lines import JOB, companion_line, node_line, python_line
from .log_helpers import FIXTURES


def parsed(raw):
    line = read_line(raw)
    assert isinstance(line, Line), line
    return line


# -- Python, 1.2.12+ (fixed message, extra fields, model fields) ---------------------------------


def test_python_llm_metrics():
    # verified 1.8.9 output
    line = parsed(
        python_line(
            'LLM metrics',
            model_name='gemini-2.0-flash',
            model_provider='google',
            ttft=0.12,
            prompt_tokens=1000,
            prompt_cached_tokens=0,
            cache_creation_tokens=0,
            completion_tokens=19,
            reasoning_tokens=0,
            tokens_per_second=84.96,
        )
    )
    assert line.event == ModelRequest('llm', 'gemini-2.0-flash', 'google', 1000, 19, 0, 0, 0.12, 19 / 84.96)
    # the logger is read from error lines only: they count by logger
    assert (line.language, line.level, line.logger, line.is_error) == ('python', 'INFO', None, False)
    assert (line.job_id, line.agent_name, line.room) == ('AJ_49b9c7b9bb69', 'support-agent', 'call-0e66d9d8')
    assert line.timestamp == '2026-11-24T18:49:41.895996+00:00'


def test_python_llm_metrics_with_cache_tokens():
    line = parsed(
        python_line(
            'LLM metrics',
            model_name='claude-sonnet-4',
            model_provider='anthropic',
            ttft=0.41,
            prompt_tokens=2400,
            prompt_cached_tokens=2048,
            cache_creation_tokens=300,
            completion_tokens=55,
            reasoning_tokens=10,
            tokens_per_second=50.0,
        )
    )
    # input already includes the cached tokens: they are never added
    assert line.event == ModelRequest('llm', 'claude-sonnet-4', 'anthropic', 2400, 55, 2048, 300, 0.41, 1.1)


def test_python_llm_without_first_token_skips_ttft_and_duration_without_tokens():
    line = parsed(
        python_line(
            'LLM metrics',
            ttft=-1.0,
            prompt_tokens=80,
            prompt_cached_tokens=0,
            completion_tokens=0,
            tokens_per_second=0.0,
        )
    )
    assert line.event.ttft is None
    assert line.event.duration is None
    assert line.event.input_tokens == 80


def test_python_realtime_metrics():
    line = parsed(
        python_line(
            'RealtimeModel metrics',
            model_name='gpt-realtime',
            model_provider='openai',
            ttft=0.52,
            input_tokens=300,
            cached_input_tokens=128,
            input_text_tokens=100,
            input_cached_text_tokens=0,
            input_image_tokens=0,
            input_cached_image_tokens=0,
            input_audio_tokens=200,
            input_cached_audio_tokens=128,
            output_tokens=90,
            output_text_tokens=20,
            output_audio_tokens=70,
            output_image_tokens=0,
            total_tokens=390,
            tokens_per_second=30.0,
        )
    )
    assert line.event == ModelRequest('realtime', 'gpt-realtime', 'openai', 300, 90, 128, 0, 0.52, 3.0)


def test_python_tts_stt_eou_interruption():
    tts = parsed(
        python_line(
            'TTS metrics',
            model_name='eleven_flash_v2_5',
            model_provider='elevenlabs',
            ttfb=0.0631174430000101,
            audio_duration=3.48,
        )
    )
    assert tts.event == Synthesis('eleven_flash_v2_5', 'elevenlabs', 0.0631174430000101, 3.48, None)
    stt = parsed(
        python_line(
            'STT metrics',
            model_name='nova-3',
            model_provider='deepgram',
            audio_duration=1.98,
            input_tokens=0,
            output_tokens=0,
            total_tokens=0,
            input_audio_tokens=0,
        )
    )
    assert stt.event == Transcription('nova-3', 'deepgram', 1.98)
    eou = parsed(
        python_line(
            'EOU metrics',
            model_name='unknown',
            model_provider='stt',
            end_of_utterance_delay=0.25,
            transcription_delay=0.19,
        )
    )
    assert eou.event == EndOfUtterance('unknown', 'stt', 0.25, 0.19)
    interruption = parsed(
        python_line(
            'Interruption metrics',
            model_name='adaptive',
            model_provider='livekit',
            total_duration=0.3,
            prediction_duration=0.1,
            detection_delay=0.2,
            num_interruptions=2,
            num_backchannels=1,
            num_requests=3,
        )
    )
    assert interruption.event == Interruptions(2, 'adaptive', 'livekit', backchannels=1)


# -- Python 1.1.6 - 1.2.11 (no model fields) and 1.0 - 1.1.5 (values in the message) --------------


def test_python_1_2_llm_metrics_without_model_fields():
    line = parsed(
        python_line(
            'LLM metrics',
            ttft=0.34,
            prompt_tokens=100,
            prompt_cached_tokens=0,
            completion_tokens=20,
            tokens_per_second=16.7,
        )
    )
    assert line.event == ModelRequest('llm', None, None, 100, 20, 0, 0, 0.34, 20 / 16.7)


@pytest.mark.parametrize(
    'message, expected',
    [
        # the f-strings of livekit-agents 1.1.5 metrics/utils.py, including the double space
        (
            'LLM metrics: ttft=0.34, input_tokens=100,  cached_input_tokens=64, output_tokens=20, '
            'tokens_per_second=16.70',
            ModelRequest('llm', None, None, 100, 20, 64, 0, 0.34, 20 / 16.7),
        ),
        (
            'LLM metrics: ttft=-1.00, input_tokens=50,  cached_input_tokens=0, output_tokens=0, tokens_per_second=0.00',
            ModelRequest('llm', None, None, 50, 0, 0, 0, None, None),
        ),
        (
            'RealtimeModel metrics: ttft=0.51, input_tokens=300, cached_input_tokens=0, output_tokens=90, '
            'total_tokens=390, tokens_per_second=30.00',
            ModelRequest('realtime', None, None, 300, 90, 0, 0, 0.51, 3.0),
        ),
        ('TTS metrics: ttfb=0.2345678, audio_duration=2.50', Synthesis(None, None, 0.2345678, 2.5, None)),
        ('EOU metrics: end_of_utterance_delay=0.50, transcription_delay=0.30', EndOfUtterance(None, None, 0.5, 0.3)),
        ('STT metrics: audio_duration=1.98', Transcription(None, None, 1.98)),
    ],
)
def test_python_1_1_values_inside_the_message(message, expected):
    assert parsed(python_line(message)).event == expected


# -- Python provider errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    'message, level, extra, expected',
    [
        # 1.8.9, verified
        (
            "failed to generate LLM completion: message='Rate limit reached for gemini-2.0-flash', status_code=429, "
            'retryable=True, request_id=req_abbf0d5ae5b4486a, retrying in 0.1s',
            'WARNING',
            {'llm': '__main__.ScriptedLLM', 'attempt': 1},
            ProviderError('llm', True, None, None),
        ),
        (
            'failed to generate LLM completion: Connection error., retrying in 2.0s',
            'WARNING',
            {'llm': 'livekit.plugins.openai.llm.LLM', 'attempt': 2},
            ProviderError('llm', True, None, 'openai'),
        ),
        # 1.2.18 and 1.1.5 wording: no error text
        (
            'failed to generate LLM completion, retrying in 2.0s',
            'WARNING',
            {'llm': 'livekit.plugins.groq.llm.LLM', 'attempt': 1},
            ProviderError('llm', True, None, 'groq'),
        ),
        (
            "failed to synthesize speech: message='Service Unavailable', status_code=503, retryable=True, "
            'request_id=5ef306e520164bc0bce4420e41dd425d, retrying in 0.1s',
            'WARNING',
            {'tts': 'livekit.plugins.cartesia.tts.TTS', 'attempt': 1, 'streamed': False},
            ProviderError('tts', True, None, 'cartesia'),
        ),
        (
            'failed to synthesize speech, retrying in 2.0s',
            'WARNING',
            {'tts': 'livekit.plugins.elevenlabs.tts.TTS', 'attempt': 1, 'streamed': True},
            ProviderError('tts', True, None, 'elevenlabs'),
        ),
        (
            'failed to recognize speech: Connection error., retrying in 0.1s',
            'WARNING',
            {'stt': 'livekit.plugins.deepgram.stt.STT', 'attempt': 1, 'streamed': True},
            ProviderError('stt', True, None, 'deepgram'),
        ),
        # up to 1.3.x the STT names itself under `tts` (seen on 1.1.5, 1.2.18, 1.3.12)
        (
            'failed to recognize speech, retrying in 0.1s',
            'WARNING',
            {'tts': 'livekit.plugins.assemblyai.stt.STT', 'attempt': 0, 'streamed': True},
            ProviderError('stt', True, None, 'assemblyai'),
        ),
        (
            'OpenAI Realtime API connection failed, retrying in 2.0s',
            'WARNING',
            {'attempt': 1, 'max_retries': 3},
            ProviderError('realtime', True, None, 'openai'),
        ),
        # FallbackAdapter: the label starts the message
        (
            'livekit.plugins.openai.llm.LLM failed, switching to next LLM: Connection error.',
            'WARNING',
            {},
            ProviderError('llm', True, None, 'openai'),
        ),
        (
            'livekit.plugins.google.llm.LLM timed out, switching to next LLM',
            'WARNING',
            {},
            ProviderError('llm', True, None, 'google'),
        ),
        (
            'livekit.plugins.cartesia.tts.TTS error, switching to next TTS',
            'WARNING',
            {},
            ProviderError('tts', True, None, 'cartesia'),
        ),
        (
            'livekit.plugins.deepgram.stt.STT failed, switching to next STT: boom',
            'WARNING',
            {},
            ProviderError('stt', True, None, 'deepgram'),
        ),
        # the adapter's background probe of an instance it took out (1.7+ wording, then 1.1 - 1.6)
        (
            "livekit.plugins.groq.llm.LLM recovery failed: message='Service Unavailable', status_code=503",
            'WARNING',
            {},
            ProviderError('llm', True, None, 'groq'),
        ),
        (
            'livekit.plugins.cartesia.tts.TTS recovery failed\nTraceback (most recent call last): ...',
            'WARNING',
            {'streamed': False},
            ProviderError('tts', True, None, 'cartesia'),
        ),
        (
            'livekit.plugins.deepgram.stt.STT recovery timed out',
            'WARNING',
            {'streamed': False},
            ProviderError('stt', True, None, 'deepgram'),
        ),
        (
            'livekit.agents.inference.llm.LLM recovery unexpected error\nTraceback (most recent call last): ...',
            'ERROR',
            {},
            ProviderError('llm', True, None, 'livekit'),
        ),
        # final failures, logged by the pipeline task with the traceback inside the message
        (
            'Error in _llm_inference_task\nTraceback (most recent call last):\n  File "...", line 1\n'
            'livekit.agents._exceptions.APIConnectionError: failed to generate LLM completion after 4 attempts',
            'ERROR',
            {'exc_info': 'Traceback (most recent call last): ...'},
            ProviderError('llm', False, None, None),
        ),
        (
            'Error in _tts_inference_task\nTraceback (most recent call last): ...',
            'ERROR',
            {'exc_info': 'Traceback ...'},
            ProviderError('tts', False, None, None),
        ),
        (
            'STT stream ended on an unrecoverable error, recreating',
            'WARNING',
            {'exc_info': 'Traceback ...'},
            ProviderError('stt', False, None, None),
        ),
        ('Error in _stt_task\nTraceback ...', 'ERROR', {}, ProviderError('stt', False, None, None)),
        # 1.1.5 names both pipeline tasks `_inference_task` (tracebacks of a 1.1.5 run, shortened)
        (
            'Error in _inference_task\nTraceback (most recent call last):\n'
            '  File "/venv/site-packages/livekit/agents/llm/llm.py", line 148, in _main_task\n'
            '    return await self._run()\n'
            'livekit.agents._exceptions.APIConnectionError: Connection error.\n\n'
            'The above exception was the direct cause of the following exception:\n\n'
            'Traceback (most recent call last):\n'
            '  File "/venv/site-packages/livekit/agents/utils/log.py", line 16, in async_fn_logs\n'
            '  File "/venv/site-packages/livekit/agents/voice/generation.py", line 85, in _inference_task\n'
            '  File "/venv/site-packages/livekit/agents/voice/agent.py", line 356, in llm_node\n'
            '  File "/venv/site-packages/livekit/agents/llm/llm.py", line 157, in _main_task\n'
            'livekit.agents._exceptions.APIConnectionError: failed to generate LLM completion after 4 attempts',
            'ERROR',
            {},
            ProviderError('llm', False, None, None),
        ),
        (
            'Error in _inference_task\nTraceback (most recent call last):\n'
            '  File "/venv/site-packages/livekit/agents/tts/tts.py", line 471, in __anext__\n'
            'StopAsyncIteration\n\n'
            'During handling of the above exception, another exception occurred:\n\n'
            'Traceback (most recent call last):\n'
            '  File "/venv/site-packages/livekit/agents/voice/generation.py", line 147, '
            'in _inference_task\n'
            '  File "/venv/site-packages/livekit/agents/voice/agent.py", line 385, in tts_node\n'
            '  File "/venv/site-packages/livekit/agents/tts/stream_adapter.py", line 103, in _synthesize\n'
            '  File "/venv/site-packages/livekit/agents/tts/tts.py", line 206, in _main_task\n'
            '  File "/app/providers.py", line 69, in check\n'
            'livekit.agents._exceptions.APIStatusError: Service Unavailable (status_code=503, retryable=True)',
            'ERROR',
            {},
            ProviderError('tts', False, None, None),
        ),
    ],
)
def test_python_provider_error_lines(message, level, extra, expected):
    line = parsed(python_line(message, level=level, **extra))
    assert line.event == expected
    assert line.is_error is (level == 'ERROR')


@pytest.mark.parametrize(
    'message, level',
    [
        # the same failures are already counted on their own lines
        ('all LLMs are unavailable, retrying..', 'ERROR'),
        ('AgentSession is closing due to unrecoverable error: Connection error.', 'ERROR'),
        (
            'livekit.plugins.openai.llm.LLM failed after sending chunk, skip retrying. Set `retry_on_chunk_sent`',
            'ERROR',
        ),
        ('TTS failed after partial audio was already sent to the user, skip retrying.', 'ERROR'),
        # not a model provider
        ('failed to connect to livekit, retrying in 2s', 'WARNING'),
        ('livekit turn detector connection failed: boom, retrying in 1s', 'WARNING'),
        # a retry text at INFO is not LiveKit's retry line
        ('failed to generate LLM completion, retrying in 2.0s', 'INFO'),
        ('Error in _pipeline_reply_task\nTraceback ...', 'ERROR'),
        # a task of that name whose traceback shows no model node
        ('Error in _inference_task\nTraceback ...\nRuntimeError: boom', 'ERROR'),
        # a recovery probe line whose label does not say LLM, TTS or STT (not a LiveKit instance)
        ('db.Pool recovery failed: timeout', 'WARNING'),
        ('database recovery timed out', 'WARNING'),
    ],
)
def test_lines_that_are_not_provider_errors(message, level):
    assert parsed(python_line(message, level=level)).event is None


@pytest.mark.parametrize(
    'label, provider',
    [
        ('livekit.plugins.openai.llm.LLM', 'openai'),
        ('livekit.plugins.google.beta.realtime.RealtimeModel', 'google'),
        ('livekit.agents.inference.llm.LLM', 'livekit'),
        ('openai.LLM', 'openai'),
        ('deepgram.STT', 'deepgram'),
        ('__main__.ScriptedLLM', None),
        ('scripted_providers.ScriptedTTS', None),
        ('__main__.LLM', None),
        ('', None),
        (None, None),
    ],
)
def test_provider_from_label(label, provider):
    assert provider_from_label(label) == provider


# -- Python conversation lines ------------------------------------------------------------------


def test_python_session_closed_and_job_request():
    closed = parsed(python_line('session closed', level='DEBUG', reason='user_initiated', error=None))
    assert closed.event == SessionClosed('user_initiated')
    request = parsed(
        python_line(
            'received job request',
            job=None,
            job_id='AJ_x',
            dispatch_id='AD_y',
            room='call-1',
            room_id='RM_z',
            agent_name='support-agent',
            resuming=False,
            enable_recording=False,
        )
    )
    assert request.event == JobRequest()
    assert (request.job_id, request.room, request.agent_name) == ('AJ_x', 'call-1', 'support-agent')
    # before 1.6 job lines had no room; the job request named it `room_name` on 1.1.5 and 1.2.18, `room`
    # from 1.3 on (verified on 1.3.12 and 1.5.17)
    older = parsed(
        b'{"message": "received job request", "level": "INFO", "name": "livekit.agents", '
        b'"job_id": "AJ_SU8S896NxfEj", "dispatch_id": "AD_uFWXEwwisq9D", "room_name": "call-0335da54", '
        b'"agent_name": "support-agent", "resuming": false, '
        b'"timestamp": "2026-11-24T20:37:20.695167+00:00"}'
    )
    assert (older.job_id, older.room, older.agent_name) == ('AJ_SU8S896NxfEj', 'call-0335da54', 'support-agent')


def test_python_levels_and_loggers():
    for level in ('TRACE', 'DEBUG', 'DEV', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'):
        line = parsed(python_line('anything', level=level, name='livekit.plugins.openai'))
        is_error = level in ('ERROR', 'CRITICAL')
        assert (line.level, line.logger, line.event) == (level, 'livekit.plugins.openai' if is_error else None, None)
        assert line.is_error is is_error


def test_python_worker_line_without_job():
    line = parsed(python_line('process initialized', job=None, elapsed_time=0.42))
    assert (line.job_id, line.agent_name, line.event) == (None, None, None)


# -- Node (pino) --------------------------------------------------------------------------------


def test_node_llm_metrics_in_milliseconds():
    # @livekit/agents 1.9.0 logMetrics, verified shape
    line = parsed(
        node_line(
            'LLM metrics',
            jobID='AJ_node',
            room_id='RM_1',
            ttftMs=340.5,
            inputTokens=100,
            promptCachedTokens=64,
            cacheCreationTokens=0,
            outputTokens=20,
            tokensPerSecond=16.7,
        )
    )
    assert line.event == ModelRequest('llm', None, None, 100, 20, 64, 0, 0.3405, 20 / 16.7)
    assert (line.language, line.level, line.job_id, line.timestamp) == ('node', 30, 'AJ_node', 1795545368220)


def test_node_llm_metrics_of_a_request_without_response():
    # verified on 1.9.0: the line written after the retries of a request ran out
    raw = (
        b'{"level":30,"time":1795553486408,"pid":18743,"hostname":"vm","pid":18743,"jobID":"AJ_6FTMpBVowqef",'
        b'"room_id":"RM_aMBZof88eDqs","ttftMs":-1,"inputTokens":0,"promptCachedTokens":0,"cacheCreationTokens":0,'
        b'"outputTokens":0,"tokensPerSecond":0,"msg":"LLM metrics"}'
    )
    assert parsed(raw).event == NoResponse('llm')
    # a response without usage is still one
    assert parsed(node_line('LLM metrics', ttftMs=120, inputTokens=0, outputTokens=0)).event.kind == 'llm'


def test_node_realtime_tts_stt_eou_interruption():
    realtime = parsed(
        node_line(
            'RealtimeModel metrics',
            jobId='AJ_n',
            ttftMs=-1,
            input_tokens=300,
            cached_input_tokens=10,
            output_tokens=90,
            total_tokens=390,
            tokens_per_second=30,
        )
    )
    assert realtime.event == ModelRequest('realtime', None, None, 300, 90, 10, 0, None, 3.0)
    assert realtime.job_id == 'AJ_n'
    assert parsed(node_line('TTS metrics', ttfbMs=120.5, audioDurationMs=2500)).event == Synthesis(
        None, None, 0.1205, 2.5, None
    )
    assert parsed(node_line('STT metrics', audioDurationMs=1980)).event == Transcription(None, None, 1.98)
    eou = parsed(
        node_line('EOU metrics', endOfUtteranceDelayMs=500, transcriptionDelayMs=300, onUserTurnCompletedDelayMs=1)
    )
    assert eou.event == EndOfUtterance(None, None, 0.5, 0.3)
    interruption = parsed(
        node_line(
            'Interruption metrics',
            totalDurationMs=1,
            predictionDurationMs=1,
            detectionDelayMs=1,
            numInterruptions=3,
            numBackchannels=0,
            numRequests=3,
        )
    )
    assert interruption.event == Interruptions(3)


def test_node_session_lines_and_levels():
    closed = parsed(node_line('AgentSession closed', jobId='AJ_n', reason='participant_disconnected', error=None))
    assert closed.event == SessionClosed('participant_disconnected')
    request = parsed(
        node_line('received job request', jobId='AJ_n', room_id='RM_1', resuming=False, agentName='my-agent')
    )
    # the worker announces the job: its conversation starts at the job's own lines (another process)
    assert (request.event, request.agent_name, request.job_id) == (JobRequest('AJ_n', 'my-agent'), 'my-agent', None)
    for level in (10, 20, 30, 40, 50, 60):
        line = parsed(node_line('anything', level=level))
        assert (line.level, line.is_error, line.logger) == (level, level >= 50, None)
    # pino omits `msg` when a call passes only an object
    assert parsed(json.dumps({'level': 30, 'time': 1, 'pid': 1}).encode()).event is None


@pytest.mark.parametrize(
    'msg, level, fields, expected',
    [
        (
            'failed to generate LLM completion, retrying in 2000ms',
            40,
            {'llm': 'openai.LLM', 'attempt': 1},
            ProviderError('llm', True, None, 'openai'),
        ),
        (
            'failed to recognize speech, retrying in 100ms',
            40,
            {'stt': 'deepgram.STT'},
            ProviderError('stt', True, None, 'deepgram', unseen_by_companion=True),
        ),
        (
            'failed to synthesize speech, retrying in 100ms',
            40,
            {'tts': 'cartesia.TTS'},
            ProviderError('tts', True, None, 'cartesia', unseen_by_companion=True),
        ),
        (
            'failed to generate TTS completion, retrying in 100ms',
            40,
            {'tts': 'elevenlabs.TTS'},
            ProviderError('tts', True, None, 'elevenlabs', unseen_by_companion=True),
        ),
        ('failed, switching to next LLM', 40, {'llm': 'openai.LLM'}, ProviderError('llm', True, None, 'openai')),
        ('timed out, switching to next LLM', 40, {'llm': 'google.LLM'}, ProviderError('llm', True, None, 'google')),
        ('recovery failed', 40, {'llm': 'openai.LLM'}, ProviderError('llm', True, None, 'openai')),
        ('recovery timed out', 40, {'llm': 'groq.LLM'}, ProviderError('llm', True, None, 'groq')),
        ('recovery unexpected error', 50, {'llm': 'openai.LLM'}, ProviderError('llm', True, None, 'openai')),
        (
            'STT failed, switching to next provider',
            40,
            {'stt': 'deepgram.STT'},
            ProviderError('stt', True, None, 'deepgram'),
        ),
        (
            'TTS failed, switching to next instance',
            40,
            {'tts': 'cartesia.TTS'},
            ProviderError('tts', True, None, 'cartesia'),
        ),
        (
            'error in llm node',
            50,
            {'error': {'type': 'Error', 'message': 'boom', 'stack': '...'}},
            ProviderError('llm', False, None, None),
        ),
    ],
)
def test_node_provider_error_lines(msg, level, fields, expected):
    assert parsed(node_line(msg, level=level, jobId='AJ_n', **fields)).event == expected


# -- companion records --------------------------------------------------------------------------


def test_companion_records():
    start = parsed(
        companion_line(
            'session_start', service='support-bot', sdk_version='1.8.9', plugin_version='0.1.0', language='python'
        )
    )
    assert (start.companion, start.service) == (True, 'support-bot')
    llm = parsed(
        companion_line(
            'llm_request',
            model='gpt-4.1',
            provider='openai',
            duration=0.81,
            ttft=0.2,
            prompt_tokens=1200,
            prompt_cached_tokens=1024,
            cache_creation_tokens=0,
            completion_tokens=40,
            reasoning_tokens=0,
            total_tokens=1240,
            tokens_per_second=49.4,
            request_id='chatcmpl-1',
            speech_id='speech_1',
            cancelled=False,
        )
    )
    # the companion's measured duration wins over the derived one
    assert llm.event == ModelRequest('llm', 'gpt-4.1', 'openai', 1200, 40, 1024, 0, 0.2, 0.81)
    tts = parsed(
        companion_line(
            'tts_request',
            model='sonic-2',
            provider='cartesia',
            ttfb=0.1,
            duration=0.4,
            audio_duration=2.0,
            characters_count=42,
        )
    )
    assert tts.event == Synthesis('sonic-2', 'cartesia', 0.1, 2.0, 42)
    assert parsed(companion_line('turn', role='user', item_id='item_1', interrupted=False)).event == CompanionTurn(
        'user', None
    )
    assert parsed(companion_line('turn', role='assistant', item_id='item_2', e2e_latency=0.72)).event == CompanionTurn(
        'assistant', 0.72
    )
    error = parsed(
        companion_line(
            'error',
            error_kind='tts',
            model='sonic-2',
            provider='cartesia',
            recoverable=True,
            error_type='APIStatusError',
        )
    )
    assert error.event == ProviderError('tts', True, 'sonic-2', 'cartesia')
    end = parsed(
        companion_line(
            'conversation',
            close_reason='participant_disconnected',
            user_turns=2,
            agent_turns=3,
            duration=41.5,
            started_at=1795546100.0,
            errors={'llm': 1},
            usage=[],
            trace_id='0af7651916cd43dd8448eb211c80319c',
            language='python',
            sdk_version='1.8.9',
        )
    )
    assert end.event == CompanionConversation('participant_disconnected', 2, 41.5, '0af7651916cd43dd8448eb211c80319c')


def test_companion_record_of_an_unknown_schema_is_not_read():
    line = parsed(
        python_line(
            'livekit.datadog llm_request', **{'livekit.event': 'llm_request', 'livekit.schema': 3}, prompt_tokens=5
        )
    )
    assert (line.event, line.rejected) == (None, 'unknown_schema')


# -- rejected lines and values ------------------------------------------------------------------


@pytest.mark.parametrize(
    'raw, reason',
    [
        (b'Traceback (most recent call last):', 'not_json'),
        (b'{"message": "LLM metrics", "level": "INFO", "prompt_tokens": 1', 'not_json'),
        (b'', 'not_json'),
        (b'{"message": "caf\xe9", "level": "INFO"}', 'invalid_utf8'),
        (b'[1, 2]', 'not_object'),
        (b'"LLM metrics"', 'not_object'),
        (b'null', 'not_object'),
        # values only Python's json reads (a lone surrogate, NaN): not an object, and a string is
        # never taken for a reason of its own
        (b'"\\ud800 NaN"', 'not_object'),
        (b'[NaN, Infinity]', 'not_object'),
        (b'{"msg": "LLM metrics"}', 'unknown_shape'),
        (b'{"message": "LLM metrics", "level": 20.5}', 'unknown_shape'),
        (b'{"message": 5, "level": "INFO"}', 'unknown_shape'),
        (b'{"msg": ["x"], "level": 30}', 'unknown_shape'),
        (b'{"message": "x", "level": true}', 'unknown_shape'),
    ],
)
def test_lines_that_are_not_livekit_lines(raw, reason):
    assert read_line(raw) == reason


@pytest.mark.parametrize(
    'field, value',
    [
        ('prompt_tokens', '12'),
        ('prompt_tokens', True),
        ('prompt_tokens', -5),
        ('prompt_tokens', 1.5),
        ('prompt_tokens', 10**12),
        ('prompt_tokens', [12]),
        ('completion_tokens', {'n': 1}),
        ('ttft', 'fast'),
        ('ttft', -0.5),
        ('ttft', 1e308),
        ('tokens_per_second', False),
        ('model_name', 5),
        ('model_provider', ['openai']),
        ('job_id', 12345),
        ('agent_name', {'a': 1}),
    ],
)
def test_a_wrong_value_in_a_known_field_rejects_the_event_but_not_the_line(field, value):
    fields = {'ttft': 0.3, 'prompt_tokens': 10, 'completion_tokens': 5, 'tokens_per_second': 10.0, field: value}
    line = parsed(python_line('LLM metrics', job=JOB if field not in ('job_id', 'agent_name') else None, **fields))
    assert (line.event, line.rejected) == (None, 'bad_value')
    assert line.level == 'INFO'


def test_null_means_not_reported():
    line = parsed(
        python_line(
            'LLM metrics',
            ttft=None,
            prompt_tokens=10,
            prompt_cached_tokens=None,
            completion_tokens=5,
            tokens_per_second=None,
        )
    )
    assert line.event == ModelRequest('llm', None, None, 10, 5, 0, 0, None, None)


def test_python_nan_and_infinity_literals_reject_the_values_not_the_line():
    # Python's json writes NaN / Infinity, which strict JSON parsers refuse
    for literal in (b'NaN', b'Infinity', b'-Infinity'):
        raw = python_line('TTS metrics', ttfb=0.5, audio_duration=1.0).replace(b'"ttfb": 0.5', b'"ttfb": ' + literal)
        line = parsed(raw)
        assert (line.event, line.rejected, line.level) == (None, 'bad_value', 'INFO')
    raw = python_line('TTS metrics', ttfb=0.5, audio_duration=1.0).replace(
        b'"code.line.number": 30', b'"code.line.number": NaN'
    )
    assert parsed(raw).event == Synthesis(None, None, 0.5, 1.0, None)


def test_inline_values_that_do_not_parse_are_bad_values():
    for message in (
        'LLM metrics: ttft=abc, input_tokens=1',
        'TTS metrics: ttfb',
        'EOU metrics: end_of_utterance_delay=nan, transcription_delay=0.1',
    ):
        assert parsed(python_line(message)).rejected == 'bad_value'


# -- older @livekit/agents releases, from the releases themselves ---------------------------------

OLDER_NODE_LOGMETRICS = sorted(FIXTURES.glob('node-*-logmetrics.jsonl'))


def test_older_node_releases_are_captured():
    assert {path.name.split('-')[1] for path in OLDER_NODE_LOGMETRICS} >= {'1.0.51', '1.2.8', '1.4.11'}


@pytest.mark.parametrize('path', OLDER_NODE_LOGMETRICS, ids=lambda path: path.name)
def test_older_node_releases_logmetrics_lines_read_as_on_1_9(path):
    """Each line of a release's own `logMetrics` gives the values it carries, in seconds."""
    seen = set()
    for raw in path.read_bytes().splitlines():
        record = json.loads(raw)
        event = parsed(raw).event
        message = record['msg']
        seen.add(message)
        if message == 'LLM metrics' and record['ttftMs'] == -1:
            assert event == NoResponse('llm')
        elif message in ('LLM metrics', 'RealtimeModel metrics'):
            realtime = message == 'RealtimeModel metrics'
            keys = (
                ('input_tokens', 'output_tokens', 'cached_input_tokens')
                if realtime
                else ('inputTokens', 'outputTokens', 'promptCachedTokens')
            )
            assert (event.input_tokens, event.output_tokens, event.cached_tokens) == tuple(record[k] for k in keys)
            assert event.ttft == pytest.approx(record['ttftMs'] / 1000)
            rate = record['tokens_per_second' if realtime else 'tokensPerSecond']
            assert event.duration == pytest.approx(record['output_tokens' if realtime else 'outputTokens'] / rate)
        elif message == 'TTS metrics':
            assert (event.ttfb, event.audio_duration) == pytest.approx(
                (record['ttfbMs'] / 1000, record['audioDurationMs'] / 1000)
            )
        elif message == 'STT metrics':
            assert event.audio_duration == pytest.approx(record['audioDurationMs'] / 1000)
        elif message == 'EOU metrics':
            assert (event.end_of_utterance_delay, event.transcription_delay) == pytest.approx(
                (record['endOfUtteranceDelayMs'] / 1000, record['transcriptionDelayMs'] / 1000)
            )
        elif message == 'Interruption metrics':
            assert event == Interruptions(record['numInterruptions'], backchannels=record.get('numBackchannels', 0))
        else:
            assert event is None, message
    assert seen >= {'LLM metrics', 'TTS metrics', 'STT metrics', 'EOU metrics', 'RealtimeModel metrics'}


def test_older_node_stt_fallback_switches_are_provider_errors():
    # 1.3 - 1.8 start the line with the failing STT's label; 1.9.0 says `STT failed, switching to next provider`
    lines = (FIXTURES / 'node-stt-fallback-1.4.11-1.8.1.jsonl').read_bytes().splitlines()
    events = [parsed(raw).event for raw in lines]
    switches = [e for raw, e in zip(lines, events) if b'switching to next STT' in raw]
    assert switches == [ProviderError('stt', True, None, 'deepgram')] * 6
    # the adapter's background check of a failed STT is not a call of the conversation
    assert [e for raw, e in zip(lines, events) if b'recovery failed' in raw] == [None, None, None]
