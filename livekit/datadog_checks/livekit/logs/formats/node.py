# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Node `@livekit/agents` lines, as pino writes them: numeric `level`, `msg`, epoch-ms `time`.

`logMetrics` uses the Python message texts with camelCase keys in milliseconds (converted to
seconds here), except `RealtimeModel metrics`, whose token keys are snake_case. No model fields.
Unlike Python, Node writes `LLM metrics` for a request that got no response at all (verified on
1.9.0: `ttftMs: -1` and zero tokens after its retries ran out), so such a line is no success.
Job lines carry `jobID` (job runner) or `jobId` (JobContext); `received job request` carries
`agentName`.
"""

from .. import events
from ..fields import count, text
from ..provider_errors import NODE_ERROR_LINES, match_error_line
from . import companion
from .line_format import HeaderKeys, LineFormat

# the job runner writes `jobID`, JobContext `jobId`
JOB_ID_KEY = 'jobId'
OTHER_JOB_ID_KEY = 'jobID'
AGENT_NAME_KEY = 'agentName'
LEVEL_TAGS = {10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'critical'}
_PROBLEM_LEVELS = frozenset((40, 50, 60))

MS = 0.001
LLM_KEYS = events.LLMKeys(
    'inputTokens', 'outputTokens', 'promptCachedTokens', 'cacheCreationTokens', 'ttftMs', 'tokensPerSecond', scale=MS
)
REALTIME_KEYS = events.LLMKeys(
    'input_tokens', 'output_tokens', 'cached_input_tokens', None, 'ttftMs', 'tokens_per_second', scale=MS
)
TTS_KEYS = events.TTSKeys('ttfbMs', 'audioDurationMs', scale=MS)
STT_KEYS = events.STTKeys('audioDurationMs', scale=MS)
EOU_KEYS = events.EOUKeys('endOfUtteranceDelayMs', 'transcriptionDelayMs', scale=MS)


_read_llm_request = events.model_request_reader(LLM_KEYS, 'llm')


def _read_tool_failed(obj):
    return events.ToolFailed(companion.tool_name(obj, 'function'))


def read_llm(obj):
    request = _read_llm_request(obj)
    if request.ttft is None and not request.input_tokens and not request.output_tokens:
        return events.NoResponse('llm')
    return request


MESSAGES = {
    'LLM metrics': (read_llm, False),
    'RealtimeModel metrics': (events.model_request_reader(REALTIME_KEYS, 'realtime'), False),
    'TTS metrics': (events.synthesis_reader(TTS_KEYS), False),
    'STT metrics': (events.transcription_reader(STT_KEYS), False),
    'EOU metrics': (events.end_of_utterance_reader(EOU_KEYS), False),
    'Interruption metrics': (
        lambda obj: events.Interruptions(count(obj, 'numInterruptions'), backchannels=count(obj, 'numBackchannels')),
        False,
    ),
    # a tool that threw (voice/generation.js; tool_executor.js after a progress update), ToolError
    # included: `function` is the tool's name, `error` its message (never read)
    'exception occurred while executing tool': (_read_tool_failed, False),
    'exception occurred while executing tool after a progress update': (_read_tool_failed, False),
    'AgentSession closed': (lambda obj: events.SessionClosed(text(obj, 'reason')), False),
    'received job request': (
        lambda obj: events.JobRequest(text(obj, JOB_ID_KEY) or text(obj, OTHER_JOB_ID_KEY), text(obj, AGENT_NAME_KEY)),
        False,
    ),
    # the Node companion (livekit-plugins-datadog on npm) writes the same records through pino
    **companion.MESSAGES,
}


def room(obj):
    # Node job lines name the room only in `lk.pii.room_name`, which is never read
    return None


def read_other(obj, message, level):
    """The event of a line whose message is not a fixed text, or None."""
    if level in _PROBLEM_LEVELS:
        return match_error_line(NODE_ERROR_LINES, obj, message)
    return None


FORMAT = LineFormat(
    language='node',
    header_keys=HeaderKeys('msg', 'name', 'time', JOB_ID_KEY, OTHER_JOB_ID_KEY, AGENT_NAME_KEY),
    # pino writes no `msg` for a line logged without one
    message_required=False,
    error_levels=frozenset((50, 60)),
    level_tags=LEVEL_TAGS,
    messages=MESSAGES,
    # `read_other` finds no event at any other level: it is not called there
    other_levels=_PROBLEM_LEVELS,
    read_other=read_other,
    room=room,
)
