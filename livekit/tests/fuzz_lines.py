# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Real LiveKit lines and ways to break them, for the fuzz test and `bench/fuzz_campaign.py`.

Each mutation knows what the pipeline must make of the broken line, so a run can check that every
line is accounted for once and that the good lines around the broken ones are counted exactly.
"""

import json
import math
from collections import Counter
from pathlib import Path

from datadog_checks.livekit.logs.parsers import Line

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / 'fixtures' / 'logs'

# Verified output, one line of each shape: livekit-agents 1.8.9 (worker-forwarded job lines),
# 1.1.5 / 1.2.x wording, @livekit/agents 1.9.0 pino lines, and the companion's records
# (docs/companion-records.md).
REAL_LINES = (HERE / 'fixtures' / 'fuzz' / 'reference_lines.jsonl').read_bytes().splitlines()

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
    'TTS metrics': (
        'ttfb', 'audio_duration', 'model_name', 'model_provider', 'job_id', 'ttfbMs', 'audioDurationMs', 'jobId',
    ),
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
_TEXT_FIELDS = {
    'model_name',
    'model_provider',
    'model',
    'provider',
    'job_id',
    'agent_name',
    'jobId',
    'jobID',
    'error_kind',
    'role',
}
_BOOL_FIELDS = {'recoverable'}
# raw JSON text of values that are wrong for any number field, whatever its unit
BAD_NUMBERS = (
    '"12"',
    'true',
    'false',
    '[]',
    '{"v": 1}',
    '-5',
    '-0.5',
    '1e308',
    'NaN',
    'Infinity',
    '-Infinity',
    '"NaN"',
)
BAD_COUNTS = BAD_NUMBERS + ('1.5', '10000000000000')
BAD_TEXTS = ('5', '1.5', 'true', '[]', '{"a": "b"}', '["gpt-4.1"]')
BAD_BOOLS = ('"true"', '1', '0', '[]', '"yes"')

# outcomes: how the pipeline must count a line
COUNTED = 'counted'  # a good line: log.lines, and its metrics
NEUTRAL = 'neutral'  # a LiveKit line without metrics: log.lines only
BAD_VALUE = 'bad_value'  # log.lines and log.unparsed reason:bad_value, no metrics
UNPARSED = 'unparsed'  # log.unparsed only, with one of the reasons given


def fixture_lines():
    """The committed captures of real LiveKit output (one JSON line each).

    The captures were made with the same seed, so a Python and a Node capture share job ids; in
    production a job id belongs to one worker. Each file's job ids get a prefix of their own.
    """
    lines = []
    for index, path in enumerate(sorted(p for p in FIXTURES.glob('*') if p.suffix in ('.jsonl', '.log'))):
        own_ids = 'AJ_{}x'.format(index).encode()
        lines.extend(line.replace(b'AJ_', own_ids) for line in path.read_bytes().splitlines() if line.strip())
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
    kind = rng.choice(
        ('wrong_type',) * 4 + ('truncate', 'invalid_utf8', 'nul', 'non_object', 'unknown_kind', 'no_level')
    )
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
        return (
            raw[:at] + rng.choice((b'\xff', b'\xc3\x28', b'\xed\xa0\x80', b'\x80')) + raw[at:],
            UNPARSED,
            ('invalid_utf8',),
        )
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


def read_as_mutated(parsed, outcome, reasons):
    """Whether `read_line` made of a broken line what `mutate` said it must."""
    if outcome == UNPARSED:
        return parsed in reasons
    return isinstance(parsed, Line) and parsed.event is None and parsed.rejected == (reasons[0] if reasons else None)


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
        return json.dumps(
            {'level': rng.choice((None, 1.5, True, [])), 'msg': rng.random(), 'message': 'LLM metrics'}
        ).encode()
    if choice == 4:
        return b'\x00' * rng.randrange(1, 100)
    return json.dumps([rng.random() for _ in range(rng.randrange(50))]).encode()


def mixed_lines(rng, corpus, count, broken=0.5):
    """`count` lines drawn from `corpus`, a share `broken` of them broken: yields (line, outcome, reasons).

    Garbage is a tenth of the broken lines; the outcome of a good line is `COUNTED`, of garbage `UNPARSED`
    (reasons None). The same `rng` state gives the same lines.
    """
    for _ in range(count):
        if rng.random() >= broken:
            yield rng.choice(corpus), COUNTED, ()
        elif rng.random() < 0.1:
            yield random_garbage(rng), UNPARSED, None
        else:
            yield mutate(rng.choice(corpus), rng)


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
