# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Python `livekit-agents` 1.x lines, as its JsonFormatter writes them (values in seconds).

Three shapes of `log_metrics` output exist: values inside the message text (1.0 - 1.1.5, e.g.
`LLM metrics: ttft=0.34, input_tokens=100,  cached_input_tokens=0, ...`), a fixed message plus
extra fields (1.1.6+), and the same with `model_name` / `model_provider` (1.2.12+) and more token
fields later. Job lines forwarded by the worker carry `job_id` and, depending on the release,
`room_id` (1.3 - 1.5), `room` (1.6+), `agent_name` (1.8); `received job request` names the room
and the agent name on every release (verified on 1.0.23, 1.1.5, 1.2.18, 1.3.12, 1.5.17, 1.6.10, 1.7.1, 1.8.9).
An exception logged in a job process has its traceback after a newline in `message`.
"""

from .. import events
from ..fields import MAX_TEXT, BadValue, count, text
from ..provider_errors import PYTHON_ERROR_LINES, match_error_line
from . import companion
from .line_format import HeaderKeys, LineFormat

LEVEL_TAGS = {
    'TRACE': 'trace',
    'DEBUG': 'debug',
    'DEV': 'dev',
    'INFO': 'info',
    'WARNING': 'warning',
    'ERROR': 'error',
    'CRITICAL': 'critical',
}
# Levels at which LiveKit writes retry and failure lines.
_PROBLEM_LEVELS = frozenset(('WARNING', 'ERROR', 'CRITICAL'))

_MODEL = {'model': 'model_name', 'provider': 'model_provider'}
LLM_KEYS = events.LLMKeys(
    'prompt_tokens',
    'completion_tokens',
    'prompt_cached_tokens',
    'cache_creation_tokens',
    'ttft',
    'tokens_per_second',
    **_MODEL,
)
REALTIME_KEYS = events.LLMKeys(
    'input_tokens', 'output_tokens', 'cached_input_tokens', None, 'ttft', 'tokens_per_second', **_MODEL
)
TTS_KEYS = events.TTSKeys('ttfb', 'audio_duration', **_MODEL)
STT_KEYS = events.STTKeys('audio_duration', **_MODEL)
EOU_KEYS = events.EOUKeys('end_of_utterance_delay', 'transcription_delay', **_MODEL)
# 1.0 - 1.1.5 wrote LLM values inside the message with the realtime key names
INLINE_LLM_KEYS = events.LLMKeys(
    'input_tokens', 'output_tokens', 'cached_input_tokens', None, 'ttft', 'tokens_per_second'
)

TOOL_ERROR_MESSAGE = 'ToolError while executing tool'
TOOL_EXCEPTION_MESSAGE = 'exception occurred while executing tool'
# `logger.exception` puts the traceback after a newline
_TOOL_EXCEPTION_PREFIX = TOOL_EXCEPTION_MESSAGE + '\n'


def _read_tool_failed(obj):
    return events.ToolFailed(companion.tool_name(obj, 'function'))


_METRICS_READERS = {
    'LLM metrics': events.model_request_reader(LLM_KEYS, 'llm'),
    'RealtimeModel metrics': events.model_request_reader(REALTIME_KEYS, 'realtime'),
    'TTS metrics': events.synthesis_reader(TTS_KEYS),
    'STT metrics': events.transcription_reader(STT_KEYS),
    'EOU metrics': events.end_of_utterance_reader(EOU_KEYS),
}

MESSAGES = {
    **{message: (read, False) for message, read in _METRICS_READERS.items()},
    'Interruption metrics': (
        lambda obj: events.Interruptions(
            count(obj, 'num_interruptions'),
            text(obj, 'model_name'),
            text(obj, 'model_provider'),
            count(obj, 'num_backchannels'),
        ),
        False,
    ),
    # a tool that raised (voice/generation.py, voice/tool_executor.py): `function` is the tool's name;
    # the error text is in `lk.pii.error` (ToolError) or the traceback, never read
    TOOL_ERROR_MESSAGE: (_read_tool_failed, False),
    TOOL_EXCEPTION_MESSAGE: (_read_tool_failed, False),
    'session closed': (lambda obj: events.SessionClosed(text(obj, 'reason')), False),
    'received job request': (lambda obj: events.JobRequest(), False),
    **companion.MESSAGES,
}

_INLINE_READERS = {**_METRICS_READERS, 'LLM metrics': events.model_request_reader(INLINE_LLM_KEYS, 'llm')}
_INLINE_PREFIXES = tuple(f'{kind}: ' for kind in _INLINE_READERS)


def room(obj):
    # job lines carry `room` since 1.6; `received job request` said `room_name` before
    value = obj.get('room')
    if type(value) is str and value:
        return value[:MAX_TEXT]
    if value is None or value == '':
        return text(obj, 'room_name')
    # not a string: rejected
    return text(obj, 'room')


def read_other(obj, message, level):
    """The event of a line whose message is not a fixed text, or None."""
    if level == 'INFO':
        if message.startswith(_INLINE_PREFIXES):
            kind, _, values = message.partition(': ')
            return _INLINE_READERS[kind](inline_values(values))
    elif level in _PROBLEM_LEVELS:
        if message.startswith(_TOOL_EXCEPTION_PREFIX):
            return _read_tool_failed(obj)
        return match_error_line(PYTHON_ERROR_LINES, obj, message)
    return None


def inline_values(values):
    """`ttft=0.34, input_tokens=100,  cached_input_tokens=0` -> {'ttft': 0.34, 'input_tokens': 100.0, ...}.

    Every value is read by `float()` (which ignores surrounding blanks): the field readers take a
    float with an integral value as a count, and every count they accept is exact in a float.
    """
    pairs = [pair.partition('=') for pair in values.split(',')]
    if not all(sep for _, sep, _ in pairs):
        raise BadValue(values)
    try:
        return {key.strip(): float(value) for key, _, value in pairs}
    except ValueError:
        raise BadValue(values) from None


FORMAT = LineFormat(
    language='python',
    header_keys=HeaderKeys('message', 'name', 'timestamp', 'job_id', None, 'agent_name'),
    message_required=True,
    error_levels=frozenset(('ERROR', 'CRITICAL')),
    level_tags=LEVEL_TAGS,
    messages=MESSAGES,
    # `read_other` finds no event at any other level: it is not called there
    other_levels=frozenset(('INFO',)) | _PROBLEM_LEVELS,
    read_other=read_other,
    room=room,
)
