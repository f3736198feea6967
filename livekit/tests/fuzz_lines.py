# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Real LiveKit lines and ways to break them, for the fuzz test and `bench/fuzz_campaign.py`.

Each mutation knows what the pipeline must make of the broken line, so a run can check that every
line is accounted for once and that the good lines around the broken ones are counted exactly.
"""
import json
import math
import random
from collections import Counter
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / 'fixtures' / 'logs'

# Verified output: livekit-agents 1.8.9 (worker-forwarded job lines), 1.1.5 / 1.2.x wording,
# @livekit/agents 1.9.0 pino lines, and the companion's records (docs/companion-records.md).
_JOB = '"pid": 20382, "job_id": "AJ_49b9c7b9bb69", "room": "call-0e66d9d8", "room_id": "RM_64c963e27800", "agent_name": "support-agent"'
_CODE = '"code.file.path": "/app/.venv/lib/python3.11/site-packages/livekit/agents/metrics/utils.py", "code.function.name": "log_metrics", "code.line.number": 30'
REAL_LINES = [
    line.encode()
    for line in (
        '{"message": "LLM metrics", "level": "INFO", "name": "livekit.agents", "model_name": "gemini-2.0-flash", "model_provider": "google", "ttft": 0.12, "prompt_tokens": 1000, "prompt_cached_tokens": 256, "cache_creation_tokens": 0, "completion_tokens": 19, "reasoning_tokens": 0, "tokens_per_second": 84.96, '
        + _JOB
        + ', '
        + _CODE
        + ', "timestamp": "2026-11-24T18:49:41.895996+00:00"}',
        '{"message": "TTS metrics", "level": "INFO", "name": "livekit.agents", "model_name": "eleven_flash_v2_5", "model_provider": "elevenlabs", "ttfb": 0.0631174430000101, "audio_duration": 3.48, '
        + _JOB
        + ', '
        + _CODE
        + ', "timestamp": "2026-11-24T18:49:41.923348+00:00"}',
        '{"message": "STT metrics", "level": "INFO", "name": "livekit.agents", "model_name": "nova-3", "model_provider": "deepgram", "audio_duration": 1.98, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "input_audio_tokens": 0, '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:43.712608+00:00"}',
        '{"message": "EOU metrics", "level": "INFO", "name": "livekit.agents", "model_name": "unknown", "model_provider": "stt", "end_of_utterance_delay": 0.25, "transcription_delay": 0.19, '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:43.777238+00:00"}',
        '{"message": "RealtimeModel metrics", "level": "INFO", "name": "livekit.agents", "model_name": "gpt-realtime", "model_provider": "openai", "ttft": 0.52, "input_tokens": 300, "cached_input_tokens": 128, "output_tokens": 90, "total_tokens": 390, "tokens_per_second": 30.0, "pid": 1, "job_id": "AJ_rt", "room": "call-rt", "timestamp": "2026-11-24T18:49:44.000000+00:00"}',
        '{"message": "Interruption metrics", "level": "INFO", "name": "livekit.agents", "model_name": "adaptive", "model_provider": "livekit", "num_interruptions": 2, "num_backchannels": 1, "num_requests": 3, '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:44.100000+00:00"}',
        '{"message": "failed to generate LLM completion: message=\'Rate limit reached for gemini-2.0-flash\', status_code=429, retryable=True, request_id=req_abbf0d5ae5b4486a, retrying in 0.1s", "level": "WARNING", "name": "livekit.agents", "llm": "livekit.plugins.google.llm.LLM", "attempt": 1, '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:44.411755+00:00"}',
        '{"message": "Error in _llm_inference_task\\nTraceback (most recent call last):\\n  File \\"/app/x.py\\", line 1\\nlivekit.agents._exceptions.APIConnectionError: failed to generate LLM completion after 4 attempts", "level": "ERROR", "name": "livekit.agents", "exc_info": "Traceback (most recent call last): ...", '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:45.394436+00:00"}',
        '{"message": "failed to synthesize speech: message=\'Service Unavailable\', status_code=503, retryable=True, request_id=5ef3, retrying in 0.1s", "level": "WARNING", "name": "livekit.agents", "tts": "livekit.plugins.cartesia.tts.TTS", "attempt": 1, "streamed": false, '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:48.183813+00:00"}',
        '{"message": "conversation_item_added", "level": "DEBUG", "name": "livekit.agents", "role": "user", "lk.pii.text": "Can you check my data plan? \u00e7a co\u00fbte combien \U0001f4f1", '
        + _JOB
        + ', "timestamp": "2026-11-24T18:49:43.779370+00:00"}',
        '{"message": "session closed", "level": "DEBUG", "name": "livekit.agents", "reason": "user_initiated", "error": null, "pid": 1, "job_id": "AJ_closed", "room": "call-c", "timestamp": "2026-11-24T18:49:50.000000+00:00"}',
        '{"message": "received job request", "level": "INFO", "name": "livekit.agents", "job_id": "AJ_49b9c7b9bb69", "dispatch_id": "AD_1", "room": "call-0e66d9d8", "room_id": "RM_64c963e27800", "agent_name": "support-agent", "resuming": false, "timestamp": "2026-11-24T18:49:40.000000+00:00"}',
        '{"message": "process initialized", "level": "INFO", "name": "livekit.agents", "elapsed_time": 0.42, "pid": 7, "timestamp": "2026-11-24T18:49:39.000000+00:00"}',
        '{"message": "LLM metrics: ttft=0.34, input_tokens=100,  cached_input_tokens=0, output_tokens=20, tokens_per_second=16.70", "level": "INFO", "name": "livekit.agents", "pid": 5, "job_id": "AJ_old", "timestamp": "2025-05-01T10:00:00.000000+00:00"}',
        '{"message": "TTS metrics: ttfb=0.2345678, audio_duration=2.50", "level": "INFO", "name": "livekit.agents", "pid": 5, "job_id": "AJ_old", "timestamp": "2025-05-01T10:00:01.000000+00:00"}',
        '{"message": "failed to generate LLM completion, retrying in 2.0s", "level": "WARNING", "name": "livekit.agents", "llm": "livekit.plugins.openai.llm.LLM", "attempt": 1, "pid": 5, "job_id": "AJ_old", "timestamp": "2025-05-01T10:00:02.000000+00:00"}',
        '{"level":30,"time":1795545368220,"pid":11429,"hostname":"host-1","jobID":"AJ_node","ttftMs":340.5,"inputTokens":100,"promptCachedTokens":64,"cacheCreationTokens":0,"outputTokens":20,"tokensPerSecond":16.7,"msg":"LLM metrics"}',
        '{"level":30,"time":1795545368300,"pid":11429,"hostname":"host-1","jobId":"AJ_node","ttfbMs":120.5,"audioDurationMs":2500,"msg":"TTS metrics"}',
        '{"level":30,"time":1795545368400,"pid":11429,"hostname":"host-1","jobId":"AJ_node","endOfUtteranceDelayMs":500,"transcriptionDelayMs":300,"onUserTurnCompletedDelayMs":1,"msg":"EOU metrics"}',
        '{"level":30,"time":1795545368500,"pid":11429,"hostname":"host-1","jobId":"AJ_node","ttftMs":-1,"input_tokens":30,"cached_input_tokens":0,"output_tokens":9,"total_tokens":39,"tokens_per_second":3,"msg":"RealtimeModel metrics"}',
        '{"level":40,"time":1795545368600,"pid":11429,"hostname":"host-1","jobId":"AJ_node","llm":"openai.LLM","attempt":1,"error":{"type":"Error","message":"boom"},"msg":"failed to generate LLM completion, retrying in 2000ms"}',
        '{"level":30,"time":1795545368700,"pid":11429,"hostname":"host-1","jobId":"AJ_node","reason":"user_initiated","error":null,"msg":"AgentSession closed"}',
        '{"message": "livekit.datadog llm_request", "level": "INFO", "name": "livekit.plugins.datadog", "livekit.event": "llm_request", "livekit.schema": 1, "service": "support-bot", "model": "gpt-4.1", "provider": "openai", "duration": 0.81, "ttft": 0.2, "prompt_tokens": 1200, "prompt_cached_tokens": 1024, "cache_creation_tokens": 0, "completion_tokens": 40, "pid": 3, "job_id": "AJ_companion", "timestamp": "2026-11-24T18:49:42.000000+00:00"}',
        '{"message": "livekit.datadog turn", "level": "INFO", "name": "livekit.plugins.datadog", "livekit.event": "turn", "livekit.schema": 1, "role": "user", "item_id": "item_1", "pid": 3, "job_id": "AJ_companion", "timestamp": "2026-11-24T18:49:42.500000+00:00"}',
        '{"message": "livekit.datadog tts_request", "level": "INFO", "name": "livekit.plugins.datadog", "livekit.event": "tts_request", "livekit.schema": 1, "model": "sonic-2", "provider": "cartesia", "ttfb": 0.1, "audio_duration": 2.0, "characters_count": 42, "pid": 3, "job_id": "AJ_companion", "timestamp": "2026-11-24T18:49:42.600000+00:00"}',
        '{"message": "livekit.datadog error", "level": "INFO", "name": "livekit.plugins.datadog", "livekit.event": "error", "livekit.schema": 1, "error_kind": "tts", "model": "sonic-2", "provider": "cartesia", "recoverable": false, "pid": 3, "job_id": "AJ_companion", "timestamp": "2026-11-24T18:49:42.700000+00:00"}',
    )
]

# The fields a line of each kind is read from (LiveKit's names), with a bad value of each type.
KNOWN_FIELDS = {
    'LLM metrics': (
        'ttft', 'prompt_tokens', 'prompt_cached_tokens', 'cache_creation_tokens', 'completion_tokens',
        'tokens_per_second', 'model_name', 'model_provider', 'job_id', 'agent_name', 'ttftMs', 'inputTokens',
        'promptCachedTokens', 'cacheCreationTokens', 'outputTokens', 'tokensPerSecond', 'jobId', 'jobID',
    ),
    'RealtimeModel metrics': (
        'ttft', 'input_tokens', 'cached_input_tokens', 'output_tokens', 'tokens_per_second', 'model_name',
        'model_provider', 'job_id', 'ttftMs', 'jobId',
    ),
    'TTS metrics': ('ttfb', 'audio_duration', 'model_name', 'model_provider', 'job_id', 'ttfbMs', 'audioDurationMs', 'jobId'),
    'STT metrics': ('audio_duration', 'model_name', 'model_provider', 'job_id', 'audioDurationMs'),
    'EOU metrics': (
        'end_of_utterance_delay', 'transcription_delay', 'model_name', 'model_provider', 'job_id',
        'endOfUtteranceDelayMs', 'transcriptionDelayMs', 'jobId',
    ),
    'Interruption metrics': ('num_interruptions', 'model_name', 'model_provider', 'job_id'),
    'livekit.datadog llm_request': (
        'model', 'provider', 'duration', 'ttft', 'prompt_tokens', 'prompt_cached_tokens', 'completion_tokens', 'job_id',
    ),
    'livekit.datadog tts_request': ('model', 'provider', 'ttfb', 'audio_duration', 'characters_count', 'job_id'),
    'livekit.datadog error': ('error_kind', 'model', 'provider', 'recoverable', 'job_id'),
    'livekit.datadog turn': ('role', 'job_id'),
}  # fmt: skip
_COUNT_FIELDS = {
    'prompt_tokens', 'prompt_cached_tokens', 'cache_creation_tokens', 'completion_tokens', 'input_tokens',
    'cached_input_tokens', 'output_tokens', 'num_interruptions', 'inputTokens', 'promptCachedTokens',
    'cacheCreationTokens', 'outputTokens', 'characters_count',
}  # fmt: skip
_TEXT_FIELDS = {'model_name', 'model_provider', 'model', 'provider', 'job_id', 'agent_name', 'jobId', 'jobID', 'error_kind', 'role'}
_BOOL_FIELDS = {'recoverable'}
# raw JSON text of values that are wrong for any number field, whatever its unit
BAD_NUMBERS = ('"12"', 'true', 'false', '[]', '{"v": 1}', '-5', '-0.5', '1e308', 'NaN', 'Infinity', '-Infinity', '"NaN"')
BAD_COUNTS = BAD_NUMBERS + ('1.5', '10000000000000')
BAD_TEXTS = ('5', '1.5', 'true', '[]', '{"a": "b"}', '["gpt-4.1"]')
BAD_BOOLS = ('"true"', '1', '0', '[]', '"yes"')

# outcomes: how the pipeline must count a line
COUNTED = 'counted'  # a good line: log.lines, and its metrics
NEUTRAL = 'neutral'  # a LiveKit line without metrics: log.lines only
BAD_VALUE = 'bad_value'  # log.lines and log.unparsed reason:bad_value, no metrics
UNPARSED = 'unparsed'  # log.unparsed only, with one of the reasons given


def fixture_lines():
    """The committed captures of real LiveKit output (one JSON line each)."""
    lines = []
    for path in sorted(FIXTURES.glob('*')):
        if path.suffix in ('.jsonl', '.log'):
            lines.extend(line for line in path.read_bytes().splitlines() if line.strip())
    return lines


def message_of(raw):
    record = json.loads(raw)
    return record.get('message', record.get('msg'))


def mutate(raw, rng):
    """A broken copy of a real line and what it must count as: (line, outcome, reasons)."""
    record = json.loads(raw)
    message = record.get('message', record.get('msg'))
    fields = [key for key in KNOWN_FIELDS.get(message, ()) if key in record]
    # wrong values in known fields are what corrupts totals: try them most
    kind = rng.choice(('wrong_type',) * 4 + ('truncate', 'invalid_utf8', 'nul', 'non_object', 'unknown_kind', 'no_level'))
    if kind == 'wrong_type' and fields:
        key = rng.choice(fields)
        if key in _TEXT_FIELDS:
            bad = rng.choice(BAD_TEXTS)
        elif key in _BOOL_FIELDS:
            bad = rng.choice(BAD_BOOLS)
        elif key in _COUNT_FIELDS:
            bad = rng.choice(BAD_COUNTS)
        else:
            bad = rng.choice(BAD_NUMBERS)
        record[key] = '\x00PLACEHOLDER'
        text = json.dumps(record, ensure_ascii=False).replace('"\\u0000PLACEHOLDER"', bad)
        return text.encode(), BAD_VALUE, ('bad_value',)
    if kind == 'truncate' or kind == 'wrong_type':
        return raw[: rng.randrange(0, len(raw))], UNPARSED, ('not_json', 'invalid_utf8')
    if kind == 'invalid_utf8':
        at = rng.randrange(0, len(raw) + 1)
        return raw[:at] + rng.choice((b'\xff', b'\xc3\x28', b'\xed\xa0\x80', b'\x80')) + raw[at:], UNPARSED, ('invalid_utf8',)
    if kind == 'nul':
        at = rng.randrange(0, len(raw) + 1)
        return raw[:at] + b'\x00' + raw[at:], UNPARSED, ('not_json', 'invalid_utf8')
    if kind == 'non_object':
        value = rng.choice(([record], message, 42, None, True, [1, 'LLM metrics'], 1.5))
        return json.dumps(value).encode(), UNPARSED, ('not_object',)
    if kind == 'unknown_kind':
        key = 'msg' if 'msg' in record else 'message'
        record[key] = 'zz unknown ' + ''.join(rng.choice('abcdefghij ') for _ in range(rng.randrange(0, 30)))
        return json.dumps(record).encode(), NEUTRAL, ()
    # no_level
    record.pop('level', None)
    return json.dumps(record).encode(), UNPARSED, ('unknown_shape',)


def random_garbage(rng):
    """Bytes that are not a LiveKit line in any way a fuzzer can think of."""
    choice = rng.randrange(6)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    if choice == 1:
        return b'[' * rng.randrange(1, 5000) + rng.choice((b'', b'NaN', b']'))
    if choice == 2:
        return b'{"a":' * rng.randrange(1, 3000) + b'NaN'
    if choice == 3:
        return json.dumps({'level': rng.choice((None, 1.5, True, [])), 'msg': rng.random(), 'message': 'LLM metrics'}).encode()
    if choice == 4:
        return b'\x00' * rng.randrange(1, 100)
    return json.dumps([rng.random() for _ in range(rng.randrange(50))]).encode()


def by_tag(totals, name, prefix):
    """{tag value: summed value} of one metric in `{(name, ..., tags): value}`."""
    result = Counter()
    for key, value in totals.items():
        if key[0] == name:
            tag = [t[len(prefix) :] for t in key[-1] if t.startswith(prefix)]
            result[tag[0] if tag else None] += value
    return result


def model_totals(totals, namespace=''):
    """What LiveKit's lines say about models and turns, by model and provider.

    Left out: conversation stats and the agent name tag, which depend on the order of a job's
    lines (a job's agent name is learned from any of its lines, also one without metrics, so a
    broken copy of a line moved ahead of its job's first line can teach it earlier).
    """
    skipped = (f'{namespace}log.', f'{namespace}conversation')
    result = Counter()
    for key, value in totals.items():
        if not key[0].startswith(skipped):
            result[key[:-1] + (tuple(tag for tag in key[-1] if not tag.startswith('agent_name:')),)] += value
    return result


def same_totals(first, second):
    """Equal keys and values; float sums (seconds of audio) may differ in their last bits."""
    return first.keys() == second.keys() and all(math.isclose(first[k], second[k], rel_tol=1e-9) for k in first)
