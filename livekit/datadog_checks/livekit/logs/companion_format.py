# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Records of the `livekit-plugins-datadog` companion (schema 1, docs/companion-records.md).

They are Python job lines with `message` `livekit.datadog <event>`, `livekit.event` and
`livekit.schema`; every duration is in seconds and absent values are omitted.
"""

from .events import (
    CompanionConversation,
    CompanionStart,
    CompanionTurn,
    EOUKeys,
    Interruptions,
    LLMKeys,
    ProviderError,
    STTKeys,
    TTSKeys,
    end_of_utterance_reader,
    model_request_reader,
    synthesis_reader,
    transcription_reader,
)
from .fields import NO_LATENCY, BadValue, count, flag, seconds, text

_MODEL = {'model': 'model', 'provider': 'provider'}
LLM_KEYS = LLMKeys(
    'prompt_tokens',
    'completion_tokens',
    'prompt_cached_tokens',
    'cache_creation_tokens',
    'ttft',
    'tokens_per_second',
    duration='duration',
    **_MODEL,
)
REALTIME_KEYS = LLMKeys(
    'input_tokens', 'output_tokens', 'input_cached_tokens', None, 'ttft', None, duration='duration', **_MODEL
)
TTS_KEYS = TTSKeys('ttfb', 'audio_duration', characters='characters_count', **_MODEL)
STT_KEYS = STTKeys('audio_duration', **_MODEL)
EOU_KEYS = EOUKeys('end_of_utterance_delay', 'transcription_delay', **_MODEL)

ERROR_KINDS = frozenset(('llm', 'realtime', 'tts', 'stt', 'interruption'))


def read_turn(obj):
    role = text(obj, 'role')
    return CompanionTurn(role, seconds(obj, 'e2e_latency', 1.0, NO_LATENCY) if role == 'assistant' else None)


def read_error(obj):
    kind = text(obj, 'error_kind')
    recoverable = flag(obj, 'recoverable')
    if kind not in ERROR_KINDS or recoverable is None:
        raise BadValue('error_kind')
    return ProviderError(kind, recoverable, text(obj, 'model'), text(obj, 'provider'))


def read_conversation(obj):
    return CompanionConversation(
        text(obj, 'close_reason'),
        count(obj, 'user_turns') if obj.get('user_turns') is not None else None,
        seconds(obj, 'duration'),
        text(obj, 'trace_id'),
    )


def _record(event):
    return f'livekit.datadog {event}'


MESSAGES = {
    _record('session_start'): (lambda obj: CompanionStart(), True),
    _record('llm_request'): (model_request_reader(LLM_KEYS, 'llm'), True),
    _record('realtime_request'): (model_request_reader(REALTIME_KEYS, 'realtime'), True),
    _record('tts_request'): (synthesis_reader(TTS_KEYS), True),
    _record('stt_request'): (transcription_reader(STT_KEYS), True),
    _record('eou'): (end_of_utterance_reader(EOU_KEYS), True),
    _record('interruption'): (
        lambda obj: Interruptions(count(obj, 'num_interruptions'), text(obj, 'model'), text(obj, 'provider')),
        True,
    ),
    _record('turn'): (read_turn, True),
    _record('error'): (read_error, True),
    _record('conversation'): (read_conversation, True),
}
