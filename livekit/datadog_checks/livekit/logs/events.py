# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The typed events a LiveKit log line can carry, in seconds, whatever the SDK and version.

The `read_*` functions build an event from a decoded line and a key table (`*Keys`), so Python,
Node, pre-1.1.6 inline values and companion records share one reader per kind; they raise
`fields.BadValue` when a known field holds a wrong value.
"""
from typing import NamedTuple

from .fields import count, derived_duration, latency, rate, seconds, text

LLM = 'llm'
REALTIME = 'realtime'
TTS = 'tts'
STT = 'stt'


class Event:
    __slots__ = ()

    def __repr__(self):
        values = ', '.join(f'{name}={getattr(self, name)!r}' for name in self.__slots__)
        return f'{type(self).__name__}({values})'

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )


class ModelRequest(Event):
    """One successful LLM request or realtime model response."""

    __slots__ = (
        'kind',
        'model',
        'provider',
        'input_tokens',
        'output_tokens',
        'cached_tokens',
        'cache_creation_tokens',
        'ttft',
        'duration',
    )

    def __init__(
        self, kind, model, provider, input_tokens, output_tokens, cached_tokens, cache_creation_tokens, ttft, duration
    ):
        self.kind = kind
        self.model = model
        self.provider = provider
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cached_tokens = cached_tokens
        self.cache_creation_tokens = cache_creation_tokens
        self.ttft = ttft
        self.duration = duration


class Synthesis(Event):
    """One text-to-speech segment."""

    __slots__ = ('model', 'provider', 'ttfb', 'audio_duration', 'characters')

    def __init__(self, model, provider, ttfb, audio_duration, characters):
        self.model = model
        self.provider = provider
        self.ttfb = ttfb
        self.audio_duration = audio_duration
        self.characters = characters


class Transcription(Event):
    """One speech-to-text usage report."""

    __slots__ = ('model', 'provider', 'audio_duration')

    def __init__(self, model, provider, audio_duration):
        self.model = model
        self.provider = provider
        self.audio_duration = audio_duration


class EndOfUtterance(Event):
    """One committed user turn (stock `EOU metrics`), or the companion's `eou` record."""

    __slots__ = ('model', 'provider', 'end_of_utterance_delay', 'transcription_delay')

    def __init__(self, model, provider, end_of_utterance_delay, transcription_delay):
        self.model = model
        self.provider = provider
        self.end_of_utterance_delay = end_of_utterance_delay
        self.transcription_delay = transcription_delay


class Interruptions(Event):
    __slots__ = ('count', 'model', 'provider')

    def __init__(self, count, model=None, provider=None):
        self.count = count
        self.model = model
        self.provider = provider


class ProviderError(Event):
    """One failed attempt of an LLM, realtime, TTS or STT call."""

    __slots__ = ('kind', 'recoverable', 'model', 'provider')

    def __init__(self, kind, recoverable, model=None, provider=None):
        self.kind = kind
        self.recoverable = recoverable
        self.model = model
        self.provider = provider


class SessionClosed(Event):
    """A stock close line (Python DEBUG `session closed`, Node INFO `AgentSession closed`)."""

    __slots__ = ('reason',)

    def __init__(self, reason):
        self.reason = reason


class JobRequest(Event):
    """The worker's `received job request`: the job's room and agent name."""

    __slots__ = ()


class CompanionStart(Event):
    __slots__ = ()


class CompanionTurn(Event):
    """A chat message added to the history: a user turn, or an agent reply with its latency."""

    __slots__ = ('role', 'e2e_latency')

    def __init__(self, role, e2e_latency):
        self.role = role
        self.e2e_latency = e2e_latency


class CompanionConversation(Event):
    """The companion's record at session close."""

    __slots__ = ('close_reason', 'user_turns', 'duration', 'trace_id')

    def __init__(self, close_reason, user_turns, duration, trace_id):
        self.close_reason = close_reason
        self.user_turns = user_turns
        self.duration = duration
        self.trace_id = trace_id


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


def read_model_request(obj, keys, kind):
    output_tokens = count(obj, keys.output_tokens)
    if keys.duration:
        duration = seconds(obj, keys.duration, keys.scale)
        rate(obj, keys.tokens_per_second)
    else:
        duration = derived_duration(output_tokens, rate(obj, keys.tokens_per_second))
    return ModelRequest(
        kind,
        text(obj, keys.model),
        text(obj, keys.provider),
        count(obj, keys.input_tokens),
        output_tokens,
        count(obj, keys.cached_tokens),
        count(obj, keys.cache_creation_tokens),
        latency(obj, keys.ttft, keys.scale),
        duration,
    )


def read_synthesis(obj, keys):
    return Synthesis(
        text(obj, keys.model),
        text(obj, keys.provider),
        latency(obj, keys.ttfb, keys.scale),
        seconds(obj, keys.audio_duration, keys.scale),
        count(obj, keys.characters) if keys.characters else None,
    )


def read_transcription(obj, keys):
    return Transcription(text(obj, keys.model), text(obj, keys.provider), seconds(obj, keys.audio_duration, keys.scale))


def read_end_of_utterance(obj, keys):
    return EndOfUtterance(
        text(obj, keys.model),
        text(obj, keys.provider),
        seconds(obj, keys.end_of_utterance_delay, keys.scale),
        seconds(obj, keys.transcription_delay, keys.scale),
    )
