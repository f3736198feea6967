# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The typed events a LiveKit log line can carry, in seconds, whatever the SDK and version.

The `*_reader` functions make, from a key table (`*Keys`), the function that builds an event from a
decoded line, so Python, Node, pre-1.1.6 inline values and companion records share one reader per
kind; a reader raises `fields.BadValue` when a known field holds a wrong value.

Events are slotted dataclasses: one is built for most lines, so they stay cheap.
"""

from dataclasses import dataclass
from typing import NamedTuple

from .fields import NO_LATENCY, count, derived_duration, rate, seconds, text

LLM = 'llm'
REALTIME = 'realtime'
TTS = 'tts'
STT = 'stt'


@dataclass(slots=True)
class ModelRequest:
    """One successful LLM request or realtime model response."""

    kind: str
    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_creation_tokens: int
    ttft: float
    duration: float


@dataclass(slots=True)
class NoResponse:
    """A Node `LLM metrics` line of a request that got no response (no first token, no usage).

    @livekit/agents writes its LLM metrics at the end of every request, also one that failed for
    good or was cancelled before its first chunk; the line alone cannot tell which.
    """

    kind: str


@dataclass(slots=True)
class Synthesis:
    """One text-to-speech segment."""

    model: str
    provider: str
    ttfb: float
    audio_duration: float
    characters: int


@dataclass(slots=True)
class Transcription:
    """One speech-to-text usage report."""

    model: str
    provider: str
    audio_duration: float


@dataclass(slots=True)
class EndOfUtterance:
    """One committed user turn (stock `EOU metrics`), or the companion's `eou` record."""

    model: str
    provider: str
    end_of_utterance_delay: float
    transcription_delay: float


@dataclass(slots=True)
class Interruptions:
    count: int
    model: str = None
    provider: str = None
    # 0 also when the line has no such field (older releases report none)
    backchannels: int = 0


@dataclass(slots=True)
class ProviderError:
    """One failed attempt of an LLM, realtime, TTS or STT call."""

    kind: str
    recoverable: bool
    model: str = None
    provider: str = None
    # a stock line of an attempt that no companion record reports (see provider_errors.NODE_ERROR_LINES)
    unseen_by_companion: bool = False


@dataclass(slots=True)
class ToolCall:
    """One function tool execution (the companion's `tool_call` record), when it ended.

    `tool_name` is already bounded (`TOOL_NAME_CHARS`); `outcome` is `ok`, `error` or `cancelled`.
    """

    tool_name: str
    outcome: str
    duration: float


@dataclass(slots=True)
class ToolFailed:
    """LiveKit's own line of a tool that raised (`ToolError while executing tool`, `exception occurred
    while executing tool`): one tool error, named by the line's `function`, never its error text."""

    tool_name: str


@dataclass(slots=True)
class FalseInterruption:
    """The companion's `false_interruption` record (LiveKit's `agent_false_interruption` event)."""

    resumed: bool


@dataclass(slots=True)
class SessionClosed:
    """A stock close line (Python DEBUG `session closed`, Node INFO `AgentSession closed`)."""

    reason: str


@dataclass(slots=True)
class JobRequest:
    """The worker's `received job request`: the job's room and agent name.

    Node job lines come from another process than the worker's: there the request only announces
    the job (`job_id`, `agent_name`), and the job's conversation starts at its first own line.
    """

    job_id: str = None
    agent_name: str = None


@dataclass(slots=True)
class CompanionStart:
    pass


@dataclass(slots=True)
class CompanionTurn:
    """A chat message added to the history: a user turn, or an agent reply with its latency."""

    role: str
    e2e_latency: float
    interrupted: bool = False
    # user turns: time in the agent's `on_user_turn_completed`; replies: first audio frame to playout
    on_user_turn_completed_delay: float = None
    playback_latency: float = None


@dataclass(slots=True)
class CompanionConversation:
    """The companion's record at session close."""

    close_reason: str
    user_turns: int
    duration: float
    trace_id: str
    # what the agent's code declared (`set_outcome`), as written; None when none was declared
    outcome: str = None


class LLMKeys(NamedTuple):
    input_tokens: str
    output_tokens: str
    cached_tokens: str
    cache_creation_tokens: str
    ttft: str
    tokens_per_second: str
    duration: str = None
    model: str = None
    provider: str = None
    scale: float = 1.0


class TTSKeys(NamedTuple):
    ttfb: str
    audio_duration: str
    characters: str = None
    model: str = None
    provider: str = None
    scale: float = 1.0


class STTKeys(NamedTuple):
    audio_duration: str
    model: str = None
    provider: str = None
    scale: float = 1.0


class EOUKeys(NamedTuple):
    end_of_utterance_delay: str
    transcription_delay: str
    model: str = None
    provider: str = None
    scale: float = 1.0


def model_request_reader(keys, kind):
    """`read(obj) -> ModelRequest` for one key table (its keys are bound here, not looked up per line)."""
    input_tokens, output_tokens, cached_tokens = keys.input_tokens, keys.output_tokens, keys.cached_tokens
    cache_creation_tokens, ttft, tokens_per_second = keys.cache_creation_tokens, keys.ttft, keys.tokens_per_second
    duration, model, provider, scale = keys.duration, keys.model, keys.provider, keys.scale

    def read(obj):
        output = count(obj, output_tokens)
        if duration:
            request_duration = seconds(obj, duration, scale)
            rate(obj, tokens_per_second)
        else:
            request_duration = derived_duration(output, rate(obj, tokens_per_second))
        return ModelRequest(
            kind,
            text(obj, model),
            text(obj, provider),
            count(obj, input_tokens),
            output,
            count(obj, cached_tokens),
            count(obj, cache_creation_tokens),
            seconds(obj, ttft, scale, NO_LATENCY),
            request_duration,
        )

    return read


def synthesis_reader(keys):
    ttfb, audio_duration, characters, model, provider, scale = keys

    def read(obj):
        return Synthesis(
            text(obj, model),
            text(obj, provider),
            seconds(obj, ttfb, scale, NO_LATENCY),
            seconds(obj, audio_duration, scale),
            count(obj, characters) if characters else None,
        )

    return read


def transcription_reader(keys):
    audio_duration, model, provider, scale = keys

    def read(obj):
        return Transcription(text(obj, model), text(obj, provider), seconds(obj, audio_duration, scale))

    return read


def end_of_utterance_reader(keys):
    end_of_utterance_delay, transcription_delay, model, provider, scale = keys

    def read(obj):
        return EndOfUtterance(
            text(obj, model),
            text(obj, provider),
            seconds(obj, end_of_utterance_delay, scale),
            seconds(obj, transcription_delay, scale),
        )

    return read
