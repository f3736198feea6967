"""Offline stand-ins for the network parts of a LiveKit voice agent, for livekit-agents 1.2 to 1.8.

Only the providers and the audio devices are scripted; the AgentSession, its turn detection,
retries, metrics, events and logs are LiveKit's own (reference: livekit-offline-sessions.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, APIStatusError, llm, stt, tts, utils
from livekit.agents.voice import io

SAMPLE_RATE = 16000
FRAME_MS = 20


def _speech_event(type_: stt.SpeechEventType, **fields: Any) -> stt.SpeechEvent:
    known = {field.name for field in dataclasses.fields(stt.SpeechEvent)}
    return stt.SpeechEvent(type=type_, **{key: value for key, value in fields.items() if key in known})


class ScriptedSTT(stt.STT):
    """Streaming STT that 'hears' whatever the test says through `say()`."""

    def __init__(self) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=True))
        self.utterances: asyncio.Queue[str] = asyncio.Queue()

    @property
    def model(self) -> str:
        return "scripted-stt"

    @property
    def provider(self) -> str:
        return "scripted"

    def say(self, text: str) -> None:
        self.utterances.put_nowait(text)

    async def _recognize_impl(self, buffer: Any, *, language: Any = None, conn_options: Any = None) -> Any:
        raise NotImplementedError("streaming only")

    def stream(self, *, language: Any = None, conn_options: Any = None) -> ScriptedSTTStream:
        return ScriptedSTTStream(stt=self, conn_options=conn_options or APIConnectOptions())


class ScriptedSTTStream(stt.RecognizeStream):
    async def _run(self) -> None:
        heard = {"seconds": 0.0}

        async def drain_audio() -> None:
            async for frame in self._input_ch:
                if isinstance(frame, rtc.AudioFrame):
                    heard["seconds"] += frame.samples_per_channel / frame.sample_rate

        drain = asyncio.create_task(drain_audio())
        try:
            while True:
                text = await self._stt.utterances.get()
                request_id = utils.shortuuid("stt_")
                speech = [stt.SpeechData(language="en", text=text, confidence=0.98)]
                self._event_ch.send_nowait(_speech_event(stt.SpeechEventType.START_OF_SPEECH))
                await asyncio.sleep(0.15)
                self._event_ch.send_nowait(
                    _speech_event(stt.SpeechEventType.INTERIM_TRANSCRIPT, request_id=request_id, alternatives=speech)
                )
                await asyncio.sleep(0.15)
                spoken_until = time.time()
                self._event_ch.send_nowait(
                    _speech_event(stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=request_id, alternatives=speech)
                )
                self._event_ch.send_nowait(
                    _speech_event(stt.SpeechEventType.END_OF_SPEECH, speech_end_time=spoken_until)
                )
                usage, heard["seconds"] = heard["seconds"], 0.0
                self._event_ch.send_nowait(
                    _speech_event(
                        stt.SpeechEventType.RECOGNITION_USAGE,
                        request_id=request_id,
                        recognition_usage=stt.RecognitionUsage(audio_duration=usage),
                    )
                )
        finally:
            drain.cancel()


class ScriptedLLM(llm.LLM):
    """Answers word by word; `failures` makes the next attempts raise (each attempt pops one)."""

    def __init__(self, *, model: str = "scripted-llm-1", reply: str = "Sure, I can help with that. Anything else?"):
        super().__init__()
        self._model = model
        self.reply = reply
        self.failures: list[Exception] = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "scripted"

    def chat(self, *, chat_ctx: llm.ChatContext, tools: Any = None, conn_options: Any = None, **_: Any) -> Any:
        return ScriptedLLMStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options or APIConnectOptions()
        )


class ScriptedLLMStream(llm.LLMStream):
    async def _run(self) -> None:
        scripted: ScriptedLLM = self._llm  # type: ignore[assignment]
        await asyncio.sleep(0.03)
        if scripted.failures:
            raise scripted.failures.pop(0)
        request_id = utils.shortuuid("chatcmpl_")
        words = scripted.reply.split(" ")
        for index, word in enumerate(words):
            delta = llm.ChoiceDelta(role="assistant", content=word if index == 0 else " " + word)
            self._event_ch.send_nowait(llm.ChatChunk(id=request_id, delta=delta))
            await asyncio.sleep(0.005)
        prompt_chars = sum(len(item.text_content or "") for item in self._chat_ctx.items if item.type == "message")
        prompt_tokens = 20 + prompt_chars // 4
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=request_id,
                usage=llm.CompletionUsage(
                    completion_tokens=len(words),
                    prompt_tokens=prompt_tokens,
                    prompt_cached_tokens=0,
                    total_tokens=prompt_tokens + len(words),
                ),
            )
        )


class ScriptedTTS(tts.TTS):
    """Non-streaming TTS (LiveKit wraps it in its StreamAdapter): silence, 10 ms per character."""

    def __init__(self) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=24000, num_channels=1)
        self.failures: list[Exception] = []

    @property
    def model(self) -> str:
        return "scripted-tts"

    @property
    def provider(self) -> str:
        return "scripted"

    def synthesize(self, text: str, *, conn_options: Any = None) -> ScriptedChunkedStream:
        return ScriptedChunkedStream(tts=self, input_text=text, conn_options=conn_options or APIConnectOptions())


class ScriptedChunkedStream(tts.ChunkedStream):
    async def _run(self, output_emitter: Any) -> None:
        scripted: ScriptedTTS = self._tts  # type: ignore[assignment]
        await asyncio.sleep(0.02)
        if scripted.failures:
            raise scripted.failures.pop(0)
        output_emitter.initialize(
            request_id=utils.shortuuid("tts_"), sample_rate=24000, num_channels=1, mime_type="audio/pcm"
        )
        samples = int(24000 * 0.01 * max(len(self.input_text), 5))
        output_emitter.push(b"\x00\x00" * samples)
        output_emitter.flush()


class ScriptedMic(io.AudioInput):
    """A microphone that hears silence, one 20 ms frame at a time (the STT script 'speaks')."""

    def __init__(self) -> None:
        super().__init__(label="ScriptedMic")

    async def __anext__(self) -> rtc.AudioFrame:
        await asyncio.sleep(FRAME_MS / 1000)
        samples = SAMPLE_RATE * FRAME_MS // 1000
        return rtc.AudioFrame(b"\x00\x00" * samples, SAMPLE_RATE, 1, samples)


class ScriptedSpeaker(io.AudioOutput):
    """Plays agent audio ten times faster than real time and reports playback like a room would."""

    def __init__(self) -> None:
        super().__init__(label="ScriptedSpeaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self._pushed = 0.0
        self._segment_open = False  # captured audio whose playback has not finished yet
        self._finish: asyncio.TimerHandle | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._pushed == 0.0 and hasattr(self, "on_playback_started"):  # 1.3+
            self.on_playback_started(created_at=time.time())
        self._segment_open = True
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        if not self._segment_open:
            return
        pushed, self._pushed = self._pushed, 0.0
        self._finish = asyncio.get_running_loop().call_later(pushed / 10, self._finished, pushed, False)

    def clear_buffer(self) -> None:
        if self._finish is not None:
            self._finish.cancel()
        if self._segment_open:
            self._finished(self._pushed, True)
        self._pushed = 0.0

    def _finished(self, position: float, interrupted: bool) -> None:
        self._segment_open = False
        self._finish = None
        self.on_playback_finished(playback_position=position, interrupted=interrupted)


def retryable_failure() -> Exception:
    return APIStatusError("Rate limit reached", status_code=429, retryable=True)


def connection_failure() -> Exception:
    return APIConnectionError("Connection error.")
