# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Records of the `livekit-plugins-datadog` companion (docs/companion-records.schema.json).

They are job lines with the message `livekit.datadog <event>` (Python `message`, Node pino `msg`),
`livekit.event` and `livekit.schema`; every duration is in seconds and absent values are omitted.
"""

from .. import events
from ..fields import NO_LATENCY, BadValue, count, flag, seconds, text

# the `livekit.schema` versions these readers know (2 only adds records and fields to 1, which the
# Node companion and older Python companions write): a record of another schema counts as
# `unknown_schema`; tests/test_companion_contract.py keeps the newest, and every field read here,
# equal to the schema's
COMPANION_SCHEMAS = (1, 2)

_MODEL = {'model': 'model', 'provider': 'provider'}
# LiveKit's Python field names, and the request's own duration
LLM_KEYS = events.LLMKeys(
    input_tokens='prompt_tokens',
    output_tokens='completion_tokens',
    cached_tokens='prompt_cached_tokens',
    cache_creation_tokens='cache_creation_tokens',
    ttft='ttft',
    tokens_per_second='tokens_per_second',
    duration='duration',
    **_MODEL,
)
REALTIME_KEYS = events.LLMKeys(
    'input_tokens', 'output_tokens', 'input_cached_tokens', None, 'ttft', None, duration='duration', **_MODEL
)
TTS_KEYS = events.TTSKeys('ttfb', 'audio_duration', characters='characters_count', **_MODEL)
STT_KEYS = events.STTKeys('audio_duration', **_MODEL)
EOU_KEYS = events.EOUKeys('end_of_utterance_delay', 'transcription_delay', **_MODEL)

ERROR_KINDS = frozenset(('llm', 'realtime', 'tts', 'stt', 'interruption'))
TOOL_OUTCOMES = frozenset(('ok', 'error', 'cancelled'))
# a tool's name is a tag value (`tool_name`): the agent's own identifier, cut to this many characters
TOOL_NAME_CHARS = 64
UNNAMED_TOOL = 'unknown'


def tool_name(obj, key):
    """The bounded `tool_name` tag value of a record or of LiveKit's line (`function`)."""
    name = text(obj, key)
    return name[:TOOL_NAME_CHARS] if name else UNNAMED_TOOL


def read_turn(obj):
    role = text(obj, 'role')
    interrupted = flag(obj, 'interrupted') or False
    if role == 'assistant':
        return events.CompanionTurn(
            role,
            seconds(obj, 'e2e_latency', 1.0, NO_LATENCY),
            interrupted,
            playback_latency=seconds(obj, 'playback_latency'),
        )
    return events.CompanionTurn(
        role, None, interrupted, on_user_turn_completed_delay=seconds(obj, 'on_user_turn_completed_delay')
    )


def read_tool_call(obj):
    outcome = text(obj, 'outcome')
    if outcome not in TOOL_OUTCOMES:
        raise BadValue('outcome')
    return events.ToolCall(tool_name(obj, 'tool_name'), outcome, seconds(obj, 'duration'))


def read_error(obj):
    kind = text(obj, 'error_kind')
    recoverable = flag(obj, 'recoverable')
    if kind not in ERROR_KINDS or recoverable is None:
        raise BadValue('error_kind')
    return events.ProviderError(kind, recoverable, text(obj, 'model'), text(obj, 'provider'))


def read_conversation(obj):
    return events.CompanionConversation(
        text(obj, 'close_reason'),
        count(obj, 'user_turns') if obj.get('user_turns') is not None else None,
        seconds(obj, 'duration'),
        text(obj, 'trace_id'),
        text(obj, 'outcome'),
    )


def _record(event):
    return f'livekit.datadog {event}'


MESSAGES = {
    _record('session_start'): (lambda obj: events.CompanionStart(), True),
    _record('llm_request'): (events.model_request_reader(LLM_KEYS, 'llm'), True),
    _record('realtime_request'): (events.model_request_reader(REALTIME_KEYS, 'realtime'), True),
    _record('tts_request'): (events.synthesis_reader(TTS_KEYS), True),
    _record('stt_request'): (events.transcription_reader(STT_KEYS), True),
    _record('eou'): (events.end_of_utterance_reader(EOU_KEYS), True),
    _record('interruption'): (
        lambda obj: events.Interruptions(
            count(obj, 'num_interruptions'), text(obj, 'model'), text(obj, 'provider'), count(obj, 'num_backchannels')
        ),
        True,
    ),
    _record('turn'): (read_turn, True),
    _record('error'): (read_error, True),
    _record('conversation'): (read_conversation, True),
    _record('tool_call'): (read_tool_call, True),
    _record('false_interruption'): (lambda obj: events.FalseInterruption(flag(obj, 'resumed')), True),
}
