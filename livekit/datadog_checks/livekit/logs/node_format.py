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

from .events import (
    EOUKeys,
    Interruptions,
    JobRequest,
    LLMKeys,
    NoResponse,
    SessionClosed,
    STTKeys,
    TTSKeys,
    end_of_utterance_reader,
    model_request_reader,
    synthesis_reader,
    transcription_reader,
)
from .fields import count, text
from .provider_errors import NODE_ERROR_LINES, match_error_line

LANGUAGE = 'node'
TIME_KEY = 'time'
LOGGER_KEY = 'name'
# the job runner writes `jobID`, JobContext `jobId`
JOB_ID_KEY = 'jobId'
OTHER_JOB_ID_KEY = 'jobID'
AGENT_NAME_KEY = 'agentName'
# what `parsers.read_line` fetches from every line: message, logger, time, job id, agent name
HEADER_KEYS = ('msg', LOGGER_KEY, TIME_KEY, JOB_ID_KEY, AGENT_NAME_KEY)
# pino writes no `msg` for a line logged without one
MESSAGE_REQUIRED = False
ERROR_LEVELS = frozenset((50, 60))
LEVEL_TAGS = {10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'critical'}
_PROBLEM_LEVELS = frozenset((40, 50, 60))
# `read_other` finds no event at any other level: it is not called there
OTHER_LEVELS = _PROBLEM_LEVELS

MS = 0.001
LLM_KEYS = LLMKeys(
    'inputTokens', 'outputTokens', 'promptCachedTokens', 'cacheCreationTokens', 'ttftMs', 'tokensPerSecond', scale=MS
)
REALTIME_KEYS = LLMKeys(
    'input_tokens', 'output_tokens', 'cached_input_tokens', None, 'ttftMs', 'tokens_per_second', scale=MS
)
TTS_KEYS = TTSKeys('ttfbMs', 'audioDurationMs', scale=MS)
STT_KEYS = STTKeys('audioDurationMs', scale=MS)
EOU_KEYS = EOUKeys('endOfUtteranceDelayMs', 'transcriptionDelayMs', scale=MS)


_read_llm_request = model_request_reader(LLM_KEYS, 'llm')


def read_llm(obj):
    request = _read_llm_request(obj)
    if request.ttft is None and not request.input_tokens and not request.output_tokens:
        return NoResponse('llm')
    return request


MESSAGES = {
    'LLM metrics': (read_llm, False),
    'RealtimeModel metrics': (model_request_reader(REALTIME_KEYS, 'realtime'), False),
    'TTS metrics': (synthesis_reader(TTS_KEYS), False),
    'STT metrics': (transcription_reader(STT_KEYS), False),
    'EOU metrics': (end_of_utterance_reader(EOU_KEYS), False),
    'Interruption metrics': (lambda obj: Interruptions(count(obj, 'numInterruptions')), False),
    'AgentSession closed': (lambda obj: SessionClosed(text(obj, 'reason')), False),
    'received job request': (
        lambda obj: JobRequest(text(obj, JOB_ID_KEY) or text(obj, OTHER_JOB_ID_KEY), text(obj, AGENT_NAME_KEY)),
        False,
    ),
}


def room(obj):
    # Node job lines name the room only in `lk.pii.room_name`, which is never read
    return None


def read_other(obj, message, level):
    """The event of a line whose message is not a fixed text, or None."""
    if level in _PROBLEM_LEVELS:
        return match_error_line(NODE_ERROR_LINES, obj, message)
    return None
