# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A scripted caller for a real AgentSession: a microphone that speaks the plan's user turns and
a speaker that plays the agent's audio out in (scaled) real time.

The microphone writes each utterance as 16-bit PCM whose samples carry the turn number, so the
scripted STT recognizes what was said from the audio itself.
"""

from __future__ import annotations

import asyncio
import time

from livekit import rtc
from livekit.agents.voice import io

from lk_producers.compat import supported_kwargs

SAMPLE_RATE = 16000
FRAME_MS = 20
SAMPLES_PER_FRAME = SAMPLE_RATE * FRAME_MS // 1000
# Samples of user speech are SPEECH_BASE + turn number; silence is 0.
SPEECH_BASE = 1000
TRAILING_SILENCE_S = 0.3


def speech_frame(turn: int) -> rtc.AudioFrame:
    value = (SPEECH_BASE + turn).to_bytes(2, 'little', signed=True)
    return rtc.AudioFrame(value * SAMPLES_PER_FRAME, SAMPLE_RATE, 1, SAMPLES_PER_FRAME)


def silence_frame() -> rtc.AudioFrame:
    return rtc.AudioFrame(bytes(2 * SAMPLES_PER_FRAME), SAMPLE_RATE, 1, SAMPLES_PER_FRAME)


def frame_turn(frame: rtc.AudioFrame) -> int | None:
    """The turn number a frame of user speech carries, None for silence."""
    sample = frame.data[0]
    return sample - SPEECH_BASE if sample >= SPEECH_BASE else None


class ScriptedMic(io.AudioInput):
    """Audio input fed from a queue; `speak()` paces the frames in scaled real time."""

    def __init__(self, *, time_scale: float) -> None:
        super().__init__(**supported_kwargs(io.AudioInput, label='ScriptedMic'))
        self._frames: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue()
        self._time_scale = time_scale

    async def __anext__(self) -> rtc.AudioFrame:
        return await self._frames.get()

    async def speak(self, turn: int, duration: float) -> None:
        """Say utterance `turn` for `duration` seconds of audio, then a short silence."""
        frames = [speech_frame(turn)] * round(duration * 1000 / FRAME_MS)
        frames += [silence_frame()] * round(TRAILING_SILENCE_S * 1000 / FRAME_MS)
        batch = 5  # push 100 ms of audio at a time: same audio, fewer wake-ups
        for start in range(0, len(frames), batch):
            chunk = frames[start : start + batch]
            for frame in chunk:
                self._frames.put_nowait(frame)
            await asyncio.sleep(len(chunk) * FRAME_MS / 1000 * self._time_scale)


class ScriptedSpeaker(io.AudioOutput):
    """Audio output that 'plays' each segment for its duration (scaled) and reports playback."""

    def __init__(self, *, time_scale: float, sample_rate: int = 24000) -> None:
        capabilities = getattr(io, 'AudioOutputCapabilities', None)
        super().__init__(
            sample_rate=sample_rate,
            **supported_kwargs(
                io.AudioOutput,
                label='ScriptedSpeaker',
                capabilities=capabilities(pause=False) if capabilities else None,
            ),
        )
        self._time_scale = time_scale
        self._capturing = 0.0  # seconds of audio captured for the segment not yet flushed
        self._capture_started = False
        self._queued: list[float] = []  # flushed segments waiting to be played, in order
        self._player: asyncio.Task[None] | None = None
        self._playing_since = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._capture_started:
            self._capture_started = True
            if hasattr(self, 'on_playback_started'):  # reported since 1.3
                self.on_playback_started(created_at=time.time())
        self._capturing += frame.duration

    def flush(self) -> None:
        super().flush()
        if not self._capture_started:
            return
        self._queued.append(self._capturing)
        self._capturing, self._capture_started = 0.0, False
        if self._player is None or self._player.done():
            self._player = asyncio.create_task(self._play())

    async def _play(self) -> None:
        while self._queued:
            self._playing_since = time.monotonic()
            await asyncio.sleep(self._queued[0] * self._time_scale)
            duration = self._queued.pop(0)
            self.on_playback_finished(playback_position=duration, interrupted=False)

    def clear_buffer(self) -> None:
        if self._player is not None and not self._player.done():
            self._player.cancel()
        played = (time.monotonic() - self._playing_since) / self._time_scale
        for position, duration in enumerate(self._queued):
            heard = min(played, duration) if position == 0 else 0.0
            self.on_playback_finished(playback_position=heard, interrupted=True)
        self._queued.clear()
        if self._capture_started:
            self.on_playback_finished(playback_position=0.0, interrupted=True)
        self._capturing, self._capture_started = 0.0, False
