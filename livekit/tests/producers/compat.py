# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The few API differences between livekit-agents 1.x releases that the scripted parts bridge, so
that the same generator runs the real worker of 1.8.9 and of the older releases whose log shapes
the check must read (1.0 / 1.1.5: values in the message text; 1.2.x: fixed message and model fields).

Everything is detected from the installed package, never from a version number.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from livekit.agents import AgentSession, APIConnectOptions, stt, tts, utils

try:  # 1.1 and later
    from livekit.agents.voice.agent_session import SessionConnectOptions
except ImportError:  # 1.0: no per-session options, the providers get LiveKit's DEFAULT_API_CONNECT_OPTIONS
    SessionConnectOptions = None  # type: ignore[assignment,misc]

try:  # 1.3 and later
    from livekit.agents import AgentServer
except ImportError:  # the 1.1 / 1.2 worker API
    AgentServer = None  # type: ignore[assignment,misc]

SESSION_PARAMETERS = inspect.signature(AgentSession.__init__).parameters
HAS_TURN_HANDLING = 'turn_handling' in SESSION_PARAMETERS
HAS_CONN_OPTIONS = SessionConnectOptions is not None and 'conn_options' in SESSION_PARAMETERS
SPEECH_EVENT_FIELDS = {f.name for f in dataclasses.fields(stt.SpeechEvent)}
RECOGNITION_USAGE_FIELDS = {f.name for f in dataclasses.fields(stt.RecognitionUsage)}


def agent_session(*, min_delay: float, max_delay: float, scale: float, **models: Any) -> AgentSession:
    """An AgentSession with STT turn detection, no VAD, and LiveKit's retry settings scaled (1.0
    has no session `conn_options`: its providers retry with the unscaled defaults, 3 retries 2 s
    apart)."""
    options: dict[str, Any] = {}
    if HAS_CONN_OPTIONS:
        retries = APIConnectOptions(max_retry=3, retry_interval=round(2.0 * scale, 3), timeout=10.0)
        options['conn_options'] = SessionConnectOptions(
            stt_conn_options=retries, llm_conn_options=retries, tts_conn_options=retries
        )
    if HAS_TURN_HANDLING:
        turn = {
            'turn_handling': {'turn_detection': 'stt', 'endpointing': {'min_delay': min_delay, 'max_delay': max_delay}}
        }
    else:
        turn = {'turn_detection': 'stt', 'min_endpointing_delay': min_delay, 'max_endpointing_delay': max_delay}
    return AgentSession(vad=None, **options, **turn, **models)


def supported_kwargs(cls: type, **candidates: Any) -> dict[str, Any]:
    """The keyword arguments `cls.__init__` accepts: `AudioInput`/`AudioOutput` take a `label`
    since 1.2, `AudioOutput` takes `capabilities` since 1.2."""
    parameters = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in candidates.items() if k in parameters}


def speech_event(**fields: Any) -> stt.SpeechEvent:
    """A SpeechEvent without the fields this release does not have (e.g. `speech_end_time`)."""
    return stt.SpeechEvent(**{k: v for k, v in fields.items() if k in SPEECH_EVENT_FIELDS})


def recognition_usage(**fields: Any) -> stt.RecognitionUsage:
    """RecognitionUsage carries token counts only in later releases."""
    return stt.RecognitionUsage(**{k: v for k, v in fields.items() if k in RECOGNITION_USAGE_FIELDS})


def send_synthesized_audio(stream: tts.ChunkedStream, request_id: str, pcm: bytes, sample_rate: int) -> None:
    """What a 1.0 ChunkedStream does with its audio (no `AudioEmitter` yet): sends 100 ms frames
    of mono PCM as `SynthesizedAudio` on its event channel."""
    frames = utils.audio.AudioByteStream(sample_rate=sample_rate, num_channels=1)
    for frame in frames.write(pcm) + frames.flush():
        stream._event_ch.send_nowait(tts.SynthesizedAudio(frame=frame, request_id=request_id))


def model_usage(session: AgentSession) -> list[dict[str, Any]]:
    """`session.usage` (per model and provider) exists since 1.5."""
    usage = getattr(session, 'usage', None)
    return [u.model_dump(mode='json') for u in usage.model_usage] if usage is not None else []
