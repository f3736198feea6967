# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Bad input never escapes as an exception, is counted, and never changes what the good lines
around it add up to. Real LiveKit lines are broken in every way `fuzz_lines.mutate` knows (wrong
types in every known field, NaN and 1e308, invalid UTF-8, NUL bytes, truncation, JSON that is not
an object, unknown kinds) and mixed with raw garbage. `bench/fuzz_campaign.py` runs the same at
scale (1 million lines)."""

import json
import time
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datadog_checks.base.stubs import aggregator as aggregator_stub
from datadog_checks.livekit.logs.parsers import Line, read_line
from datadog_checks.livekit.logs.pipeline import LogPipeline

from .fuzz_lines import (
    BAD_VALUE,
    COUNTED,
    NEUTRAL,
    REAL_LINES,
    UNPARSED,
    by_tag,
    fixture_lines,
    model_totals,
    mutate,
    random_garbage,
    read_as_mutated,
    same_totals,
)
from .log_helpers import make_check, submitted_buckets, submitted_metrics

CORPUS = REAL_LINES + fixture_lines()[:2000]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = time.time()


def submitted(lines, chunk=7):
    """Everything the pipeline submits for `lines`: {(name, tags): value} and bucket counts."""
    aggregator_stub.reset()
    pipeline = LogPipeline(conversation_idle_timeout=600)
    check = make_check()
    for start in range(0, len(lines), chunk):
        pipeline.feed(lines[start : start + chunk])
    pipeline.flush(check, NOW)
    pipeline.flush(check, NOW + 600)
    counts = Counter()
    for stub in submitted_metrics(aggregator_stub):
        counts[(stub.name, tuple(sorted(stub.tags)))] += stub.value
    for stub in submitted_buckets(aggregator_stub):
        counts[(stub.name, stub.lower_bound, tuple(sorted(stub.tags)))] += stub.value
    return counts


@FUZZ
@given(
    good=st.lists(st.sampled_from(CORPUS), min_size=1, max_size=40),
    broken_per_line=st.lists(st.integers(0, 3), min_size=40, max_size=40),
    rng=st.randoms(use_true_random=False),
)
def test_broken_lines_are_counted_and_leave_the_good_totals_exact(good, broken_per_line, rng):
    mixed = []
    outcomes = Counter()
    for line, broken_count in zip(good, broken_per_line, strict=False):
        for _ in range(broken_count):
            broken, outcome, reasons = mutate(rng.choice(CORPUS), rng)
            parsed = read_line(broken)
            assert read_as_mutated(parsed, outcome, reasons), (broken, outcome, reasons, parsed)
            outcomes[outcome] += 1
            mixed.append(broken)
        mixed.append(line)
    outcomes[COUNTED] = len(good)

    clean = submitted(good)
    dirty = submitted(mixed)
    assert same_totals(model_totals(dirty, 'livekit.'), model_totals(clean, 'livekit.'))
    lines_counted = sum(by_tag(dirty, 'livekit.log.lines', 'level:').values())
    assert lines_counted == outcomes[COUNTED] + outcomes[NEUTRAL] + outcomes[BAD_VALUE]
    unparsed = by_tag(dirty, 'livekit.log.unparsed', 'reason:')
    assert (
        unparsed.pop('bad_value', 0)
        == outcomes[BAD_VALUE] + by_tag(clean, 'livekit.log.unparsed', 'reason:')['bad_value']
    )
    assert sum(unparsed.values()) == outcomes[UNPARSED]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        'message', 'msg', 'level', 'name', 'timestamp', 'time', 'job_id', 'jobId', 'jobID', 'agent_name', 'agentName',
        'room', 'ttft', 'ttftMs', 'ttfb', 'prompt_tokens', 'completion_tokens', 'tokens_per_second', 'model_name',
        'model_provider', 'audio_duration', 'end_of_utterance_delay', 'reason', 'llm', 'livekit.event',
        'livekit.schema', 'role', 'e2e_latency', 'user_turns', 'duration', 'recoverable', 'error_kind',
        'num_interruptions', 'input_tokens', 'output_tokens',
    ]
)  # fmt: skip
MESSAGES = st.sampled_from(
    [
        'LLM metrics', 'RealtimeModel metrics', 'TTS metrics', 'STT metrics', 'EOU metrics', 'Interruption metrics',
        'session closed', 'AgentSession closed', 'received job request', 'Error in _llm_inference_task\nTraceback',
        'failed to generate LLM completion, retrying in 1s', 'LLM metrics: ttft=1, input_tokens=x',
        'livekit.datadog conversation', 'livekit.datadog turn', 'livekit.datadog error', 'livekit.datadog llm_request',
        'x failed, switching to next LLM',
    ]
)  # fmt: skip
LEVELS = st.sampled_from(['INFO', 'WARNING', 'ERROR', 'DEBUG', 'weird', 30, 40, 50, 10**30, -1]) | json_values
line_objects = st.fixed_dictionaries(
    {'level': LEVELS},
    optional={
        'message': MESSAGES | json_values,
        'msg': MESSAGES | json_values,
        'livekit.schema': st.just(1) | json_values,
    },
).flatmap(lambda base: st.dictionaries(KEYS, json_values, max_size=8).map(lambda extra: {**extra, **base}))


@FUZZ
@given(st.lists(st.one_of(line_objects.map(lambda o: json.dumps(o).encode()), st.binary(max_size=300)), max_size=30))
def test_any_line_is_accounted_for_once_and_nothing_escapes(lines):
    counts = submitted(lines)
    lines_counted = sum(by_tag(counts, 'livekit.log.lines', 'level:').values())
    unparsed = by_tag(counts, 'livekit.log.unparsed', 'reason:')
    shapeless = sum(value for reason, value in unparsed.items() if reason not in ('bad_value', 'unknown_schema'))
    assert lines_counted + shapeless == len(lines)


@FUZZ
@given(st.integers(0, 2**32))
def test_raw_garbage_is_counted_as_unparsed(seed):
    import random

    rng = random.Random(seed)
    lines = [random_garbage(rng) for _ in range(20)]
    counts = submitted(lines)
    assert not by_tag(counts, 'livekit.log.lines', 'level:')
    assert sum(by_tag(counts, 'livekit.log.unparsed', 'reason:').values()) == len(lines)


@FUZZ
@given(json_values | st.dictionaries(st.sampled_from(['version', 'open', 'ended', 'clock']), json_values))
def test_any_saved_state_is_restored_or_discarded_without_crashing(state):
    pipeline = LogPipeline()
    pipeline.restore(state)
    pipeline.feed(REAL_LINES)
    pipeline.flush(make_check(), NOW)
    json.dumps(pipeline.dump_state())


def test_deeply_nested_and_huge_lines():
    deep = [b'[' * 100_000, b'{"a":' * 50_000 + b'NaN' + b'}' * 50_000, b'[' * 100_000 + b'NaN']
    assert [read_line(line) for line in deep] == ['not_json', 'not_json', 'not_json']
    # a 20 MB message (the tailer skips lines over 1 MiB; the parser copes anyway)
    huge = json.dumps({'message': 'x' * 20_000_000, 'level': 'INFO', 'name': 'n'}).encode()
    line = read_line(huge)
    assert isinstance(line, Line) and line.event is None
