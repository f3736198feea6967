# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Builds the expected totals of a Node capture from the per-job records that `capture_node.mjs`
wrote inside the job processes: every metrics object it passed to @livekit/agents'
`metrics.logMetrics()` (LiveKit's units: milliseconds, camelCase), the fields that call puts on
the line, and the session's error and close events. Schema in README.md next to this file."""

from __future__ import annotations

from collections import Counter
from typing import Any

SCHEMA_VERSION = 1
# latency name -> (metrics type, field), in milliseconds as @livekit/agents reports them
LATENCIES_MS = {
    'llm_ttft': ('llm_metrics', 'ttftMs'),
    'llm_duration': ('llm_metrics', 'durationMs'),
    'tts_ttfb': ('tts_metrics', 'ttfbMs'),
    'eou_end_of_utterance_delay': ('eou_metrics', 'endOfUtteranceDelayMs'),
    'eou_transcription_delay': ('eou_metrics', 'transcriptionDelayMs'),
    'realtime_ttft': ('realtime_model_metrics', 'ttftMs'),
}
LOGGED_LATENCIES_MS = {
    'llm_ttft': ('llm_metrics', 'ttftMs'),
    'tts_ttfb': ('tts_metrics', 'ttfbMs'),
    'tts_audio_duration': ('tts_metrics', 'audioDurationMs'),
    'stt_audio_duration': ('stt_metrics', 'audioDurationMs'),
    'eou_end_of_utterance_delay': ('eou_metrics', 'endOfUtteranceDelayMs'),
    'eou_transcription_delay': ('eou_metrics', 'transcriptionDelayMs'),
    'realtime_ttft': ('realtime_model_metrics', 'ttftMs'),
}


def _summary(logged: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
    objects = [entry['metrics'] for entry in logged]
    llm = [m for m in objects if m['type'] == 'llm_metrics']
    realtime = [m for m in objects if m['type'] == 'realtime_model_metrics']
    error_counts: dict[str, dict[str, int]] = {}
    for error in errors:
        by_kind = error_counts.setdefault(error['type'], {'recoverable': 0, 'unrecoverable': 0})
        by_kind['recoverable' if error['recoverable'] else 'unrecoverable'] += 1
    return {
        'metrics_counts': dict(Counter(m['type'] for m in objects)),
        'constructed_counts': dict(Counter(e['metrics']['type'] for e in logged if e['source'] == 'constructed')),
        'tokens': {
            'prompt': sum(m['promptTokens'] for m in llm),
            'completion': sum(m['completionTokens'] for m in llm),
            'cached': sum(m['promptCachedTokens'] for m in llm),
            'cache_creation': sum(m.get('cacheCreationTokens', 0) for m in llm),
        },
        'realtime_tokens': {
            'input': sum(m['inputTokens'] for m in realtime),
            'output': sum(m['outputTokens'] for m in realtime),
            'cached': sum(m['inputTokenDetails']['cachedTokens'] for m in realtime),
        },
        'tts_audio_duration_ms': sum(m['audioDurationMs'] for m in objects if m['type'] == 'tts_metrics'),
        'stt_audio_duration_ms': sum(m['audioDurationMs'] for m in objects if m['type'] == 'stt_metrics'),
        'interruptions': sum(m['numInterruptions'] for m in objects if m['type'] == 'interruption_metrics'),
        'latencies_ms': {
            name: [m[field] for m in objects if m['type'] == kind] for name, (kind, field) in LATENCIES_MS.items()
        },
        'latencies_logged_ms': {
            name: [e['logged'][field] for e in logged if e['metrics']['type'] == kind]
            for name, (kind, field) in LOGGED_LATENCIES_MS.items()
        },
        'errors': error_counts,
    }


def job_totals(record: dict[str, Any]) -> dict[str, Any]:
    close = record['close'] or {}
    return {
        'job_id': record['job_id'],
        'room': record['room'],
        'room_id': record['room_id'],
        'pid': record['pid'],
        'conversation': record['conversation'],
        'scenario': record['scenario'],
        'sdk_version': record['sdk_version'],
        'started_at': record['started_at'] / 1000,
        'ended_at': record['ended_at'] / 1000,
        'close_reason': close.get('reason'),
        'close_error': close.get('error'),
        'user_turns': record['user_turns'],
        'agent_turns': record['agent_turns'],
        **_summary(record['logged'], record['errors']),
        'logged_metrics': record['logged'],
        'error_events': record['errors'],
    }


def build_node_totals(records: list[dict[str, Any]], generator: dict[str, Any]) -> dict[str, Any]:
    records = sorted(records, key=lambda r: r['conversation'])
    jobs = [job_totals(r) for r in records]
    overall = _summary([e for r in records for e in r['logged']], [e for r in records for e in r['errors']])
    overall |= {
        'conversations': len(jobs),
        'user_turns': sum(j['user_turns'] for j in jobs),
        'agent_turns': sum(j['agent_turns'] for j in jobs),
        'close_reasons': dict(Counter(str(j['close_reason']) for j in jobs)),
    }
    return {
        'schema_version': SCHEMA_VERSION,
        'language': 'node',
        'sdk_version': jobs[0]['sdk_version'] if jobs else None,
        'generator': generator,
        'overall': overall,
        'jobs': {j['job_id']: j for j in jobs},
    }
