# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Builds totals.json from the per-job records that `livekit_totals.LiveKitTotals` wrote inside
the job processes. Every number comes from LiveKit's objects (metrics events, error and close
events, `session.history`, `session.usage`, the fields `log_metrics` logged); the schema is
documented in README.md next to this file."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lk_producers.livekit_totals import METRICS_KINDS

SCHEMA_VERSION = 1
TOKEN_FIELDS = {
    'prompt': 'prompt_tokens',
    'completion': 'completion_tokens',
    'cached': 'prompt_cached_tokens',
    'cache_creation': 'cache_creation_tokens',
    'reasoning': 'reasoning_tokens',
    'total': 'total_tokens',
}
USAGE_FIELDS = {
    'input': 'input_tokens',
    'input_cached': 'input_cached_tokens',
    'input_cache_creation': 'input_cache_creation_tokens',
    'output': 'output_tokens',
    'output_reasoning': 'output_reasoning_tokens',
}
# latency name -> (metrics type, field)
LATENCIES = {
    'llm_ttft': ('llm_metrics', 'ttft'),
    'llm_duration': ('llm_metrics', 'duration'),
    'llm_tokens_per_second': ('llm_metrics', 'tokens_per_second'),
    'tts_ttfb': ('tts_metrics', 'ttfb'),
    'tts_duration': ('tts_metrics', 'duration'),
    'eou_end_of_utterance_delay': ('eou_metrics', 'end_of_utterance_delay'),
    'eou_transcription_delay': ('eou_metrics', 'transcription_delay'),
}
# latency name -> (log_metrics message, logged field)
LOGGED_LATENCIES = {
    'llm_ttft': ('LLM metrics', 'ttft'),
    'llm_tokens_per_second': ('LLM metrics', 'tokens_per_second'),
    'tts_ttfb': ('TTS metrics', 'ttfb'),
    'tts_audio_duration': ('TTS metrics', 'audio_duration'),
    'stt_audio_duration': ('STT metrics', 'audio_duration'),
    'eou_end_of_utterance_delay': ('EOU metrics', 'end_of_utterance_delay'),
    'eou_transcription_delay': ('EOU metrics', 'transcription_delay'),
}


def job_totals(record: dict[str, Any]) -> dict[str, Any]:
    """The totals of one job from its raw record."""
    events = record['metrics_events']
    messages = record['messages']
    close = record['close'] or {}
    error = close.get('error')
    return {
        'job_id': record['job_id'],
        'room': record['room'],
        'room_id': record['room_id'],
        'agent_name': record['agent_name'],
        'pid': record['pid'],
        'conversation': record['conversation'],
        'scenario': record['scenario'],
        'sdk_version': record['sdk_version'],
        'started_at': record['started_at'],
        'ended_at': record['ended_at'],
        'close_reason': close.get('reason'),
        'close_error': None if error is None else {k: error.get(k) for k in ('type', 'label', 'recoverable')},
        'user_turns': sum(m['role'] == 'user' for m in messages),
        'agent_turns': sum(m['role'] == 'assistant' for m in messages),
        'eou_events': sum(e['type'] == 'eou_metrics' for e in events),
        **_summary(
            events,
            record['logged_metrics'],
            record['error_events'] + _as_recovered(record['fallback_instance_errors']),
            record['model_usage'],
            messages,
        ),
        'assistant_messages': [
            {'id': m['id'], 'interrupted': m['interrupted'], 'metrics': m['metrics']}
            for m in messages
            if m['role'] == 'assistant'
        ],
        'user_messages': [{'id': m['id'], 'metrics': m['metrics']} for m in messages if m['role'] == 'user'],
        'model_usage': record['model_usage'],
        'metrics_events': events,
        'logged_metrics': record['logged_metrics'],
        'error_events': record['error_events'],
        'fallback_instance_errors': record['fallback_instance_errors'],
        # `--tools` only: LiveKit's own reports of the function tool executions
        **({'tool_executions': record['tool_executions']} if 'tool_executions' in record else {}),
    }


def _as_recovered(instance_errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A failed attempt of an instance behind a FallbackAdapter, as a recoverable error event: the
    adapter goes on with its next instance, whatever the instance's own retries decided (when every
    instance fails, the session gets an unrecoverable error event of its own)."""
    return [
        {'type': 'error', 'error': {'type': e['type'], 'recoverable': True}, 'source': e, 'created_at': None}
        for e in instance_errors
    ]


def _summary(
    events: list[dict[str, Any]],
    logged: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    model_usage: list[dict[str, Any]],
    messages: list[dict[str, Any]],
) -> dict[str, Any]:
    llm = [e for e in events if e['type'] == 'llm_metrics']
    llm_usage = [u for u in model_usage if u.get('type') == 'llm_usage']
    counts: dict[str, Counter[tuple[str, str]]] = {kind: Counter() for kind in ('llm', 'tts', 'stt', 'eou')}
    for event in events:
        kind = METRICS_KINDS.get(event['type'])
        metadata = event.get('metadata') or {}
        counts.setdefault(kind, Counter())[(metadata.get('model_name'), metadata.get('model_provider'))] += 1
    error_counts: dict[str, dict[str, int]] = {}
    for event in errors:
        by_kind = error_counts.setdefault(event['error']['type'], {'recoverable': 0, 'unrecoverable': 0})
        by_kind['recoverable' if event['error']['recoverable'] else 'unrecoverable'] += 1
    return {
        # fields a release does not report (e.g. cache_creation_tokens before 1.3) count as 0
        'tokens': {name: sum(e.get(field, 0) for e in llm) for name, field in TOKEN_FIELDS.items()},
        'usage_tokens': {name: sum(u.get(field, 0) for u in llm_usage) for name, field in USAGE_FIELDS.items()},
        'metrics_counts': {
            kind: [
                {'model': model, 'provider': provider, 'count': n}
                for (model, provider), n in sorted(counter.items(), key=lambda item: str(item[0]))
            ]
            for kind, counter in counts.items()
        },
        'tts_audio_duration': sum(e['audio_duration'] for e in events if e['type'] == 'tts_metrics'),
        'tts_characters': sum(e['characters_count'] for e in events if e['type'] == 'tts_metrics'),
        'stt_audio_duration': sum(e['audio_duration'] for e in events if e['type'] == 'stt_metrics'),
        'latencies': {
            name: [e[field] for e in events if e['type'] == kind] for name, (kind, field) in LATENCIES.items()
        }
        | {
            'e2e_latency': [
                m['metrics']['e2e_latency']
                for m in messages
                if m['role'] == 'assistant' and 'e2e_latency' in m['metrics']
            ]
        },
        'latencies_logged': {
            name: [r[field] for r in logged if r['message'] == message]
            for name, (message, field) in LOGGED_LATENCIES.items()
        },
        'errors': error_counts,
    }


def build_totals(records: list[dict[str, Any]], generator: dict[str, Any]) -> dict[str, Any]:
    records = sorted(records, key=lambda r: r['conversation'])
    jobs = [job_totals(r) for r in records]
    every = {
        key: [item for r in records for item in r[key]]
        for key in ('metrics_events', 'logged_metrics', 'error_events', 'model_usage', 'messages')
    }
    errors = every['error_events'] + _as_recovered([e for r in records for e in r['fallback_instance_errors']])
    overall = _summary(every['metrics_events'], every['logged_metrics'], errors, every['model_usage'], every['messages'])
    overall |= {
        'conversations': len(jobs),
        'user_turns': sum(j['user_turns'] for j in jobs),
        'agent_turns': sum(j['agent_turns'] for j in jobs),
        'eou_events': sum(j['eou_events'] for j in jobs),
        'close_reasons': dict(Counter(str(j['close_reason']) for j in jobs)),
        'started_at': min((j['started_at'] for j in jobs), default=None),
        'ended_at': max((j['ended_at'] for j in jobs), default=None),
    }
    return {
        'schema_version': SCHEMA_VERSION,
        'sdk_version': jobs[0]['sdk_version'] if jobs else None,
        'generator': generator,
        'overall': overall,
        'jobs': {j['job_id']: j for j in jobs},
    }
