# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Local LLM, STT and TTS classes for a real AgentSession, driven by a conversation plan.

They subclass livekit-agents' own provider base classes and behave like the network plugins:
simulated latencies, realistic token usage reported through `CompletionUsage` and
`RecognitionUsage`, model and provider names, and injected provider failures raised as LiveKit's
`APIStatusError` / `APIConnectionError`, so that retries, error events, metrics and log lines
are the framework's own. Nothing here touches the network.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Any

from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    AgentSession,
    APIConnectionError,
    APIConnectOptions,
    APIStatusError,
    llm,
    stt,
    tts,
    utils,
)
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from lk_producers.compat import agent_session, recognition_usage, send_synthesized_audio, speech_event
from lk_producers.scripted_io import frame_turn

CHARS_PER_TOKEN = 4
SPEECH_SECONDS_PER_CHAR = 0.065  # about 15 characters of speech per second
TTS_SAMPLE_RATE = 24000


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def provider_error(fault: dict[str, Any], model: str) -> Exception:
    """The exception a network plugin raises for a failed request."""
    kind = fault['kind']
    if kind == 'connection':
        return APIConnectionError()
    status = int(kind)
    message = {
        429: f'Rate limit reached for {model}',
        500: 'Internal Server Error',
        503: 'Service Unavailable',
    }[status]
    # rate limits and server errors are transient: retryable, as provider plugins raise them
    return APIStatusError(message, status_code=status, request_id=utils.shortuuid('req_'), retryable=True)


class _Faults:
    """Counts attempts per key; an attempt fails while the plan says so."""

    def __init__(self, faults: dict[str, dict[str, Any]]) -> None:
        self._faults = faults
        self._attempts: dict[str, int] = {}

    def attempts(self, key: str) -> int:
        return self._attempts.get(key, 0)

    def check(self, key: str, model: str) -> None:
        attempt = self.attempts(key)
        self._attempts[key] = attempt + 1
        fault = self._faults.get(key)
        if fault is not None and attempt < fault['attempts']:
            raise provider_error(fault, model)


class _Latency:
    """Seeded, scaled delays: the same plan sleeps the same (scaled) times."""

    def __init__(self, seed: str, time_scale: float) -> None:
        self._seed = seed
        self._time_scale = time_scale

    def draw(self, key: str, low: float, high: float) -> float:
        return random.Random(f'{self._seed}/{key}').uniform(low, high)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self._time_scale)


class _Scripted:
    """What the scripted providers share: the plan's model names, its faults and its latencies."""

    _spec: dict[str, Any]
    _faults: _Faults
    _latency: _Latency

    def _label_as_plugin(self, kind: str) -> None:
        """The label a provider plugin's instance has (its class path, e.g.
        `livekit.plugins.openai.llm.LLM`), which LiveKit's retry and fallback lines carry."""
        self._label = f'livekit.plugins.{self.provider}.{kind.lower()}.{kind}'

    @property
    def model(self) -> str:
        return self._spec['model']

    @property
    def provider(self) -> str:
        return self._spec['provider']

    async def attempt(self, key: str, latency: float) -> None:
        """Raise the planned failure of this attempt, if any, after half of `latency` (a failure
        still costs a round trip)."""
        try:
            self._faults.check(key, self.model)
        except Exception:
            await self._latency.sleep(latency / 2)
            raise


class ScriptedLLM(_Scripted, llm.LLM):
    """Answers the n-th user message with the plan's n-th reply (reply 0 is the greeting)."""

    def __init__(self, plan: dict[str, Any], *, time_scale: float, backup: bool = False) -> None:
        super().__init__()
        # the backup behind a FallbackAdapter: its own model, no planned failures
        self._spec = plan['llm_backup'] if backup else plan['llm']
        self._replies: list[str] = plan['replies']
        self._label_as_plugin('LLM')
        self._faults = _Faults({} if backup else {str(k): v for k, v in plan.get('llm_faults', {}).items()})
        self._latency = _Latency(f'{plan["seed"]}/llm', time_scale)
        self._previous_prompt_tokens = 0
        self._cache_written = False
        self._tool_turns = set(plan.get('tool_turns') or ())  # `--tools`: turns answered by tool calls first

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _ScriptedLLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    def usage_for(self, prompt_tokens: int, instructions_tokens: int, reply: str) -> llm.CompletionUsage:
        """Token usage as the provider would report it, prefix caching included."""
        cached = created = reasoning = 0
        cache = self._spec.get('cache')
        if cache == 'prefix' and self._previous_prompt_tokens >= 1024:
            # OpenAI-style automatic caching: the previous prompt, in 128-token blocks
            cached = min(self._previous_prompt_tokens, prompt_tokens) // 128 * 128
        elif cache == 'explicit' and instructions_tokens >= 1024:
            # Anthropic-style cache_control on the system prompt: written once, then read
            if self._cache_written:
                cached = instructions_tokens
            else:
                created, self._cache_written = instructions_tokens, True
        completion = count_tokens(reply)
        if self._spec.get('reasoning'):
            reasoning = 8 * completion
            completion += reasoning
        self._previous_prompt_tokens = prompt_tokens
        return llm.CompletionUsage(
            prompt_tokens=prompt_tokens,
            prompt_cached_tokens=cached,
            cache_creation_tokens=created,
            completion_tokens=completion,
            reasoning_tokens=reasoning,
            total_tokens=prompt_tokens + completion,
        )


class _ScriptedLLMStream(llm.LLMStream):
    _llm: ScriptedLLM

    async def _run(self) -> None:
        scripted = self._llm
        messages = [m for m in self._chat_ctx.items if m.type == 'message' and m.text_content]
        turn = sum(1 for m in messages if m.role == 'user')
        key = str(turn)
        attempt_key = f'{turn}/{scripted._faults.attempts(key)}'
        spec = scripted._spec
        ttft = scripted._latency.draw(f'ttft/{attempt_key}', *spec['ttft'])
        await scripted.attempt(key, ttft)

        reply = scripted._replies[turn] if turn < len(scripted._replies) else scripted._replies[-1]
        instructions = sum(count_tokens(m.text_content or '') for m in messages if m.role in ('system', 'developer'))
        prompt = sum(count_tokens(m.text_content or '') + 4 for m in messages) + 3
        request_id = utils.shortuuid(spec.get('request_prefix', 'chatcmpl-'))

        await scripted._latency.sleep(ttft)
        last = self._chat_ctx.items[-1] if self._chat_ctx.items else None
        if turn in scripted._tool_turns and getattr(last, 'type', None) == 'message' and last.role == 'user':
            from lk_producers.scripted_tools import TOOL_ARGUMENTS

            calls = [
                llm.FunctionToolCall(name=name, arguments=arguments, call_id=f'call_{request_id[-8:]}_{index}')
                for index, (name, arguments) in enumerate(TOOL_ARGUMENTS.items())
            ]
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role='assistant', tool_calls=calls))
            )
            self._event_ch.send_nowait(llm.ChatChunk(id=request_id, usage=scripted.usage_for(prompt, instructions, '')))
            return
        words = reply.split(' ')
        per_word = 1.0 / spec['words_per_second']
        for index, word in enumerate(words):
            content = word if index == len(words) - 1 else word + ' '
            self._event_ch.send_nowait(
                llm.ChatChunk(id=request_id, delta=llm.ChoiceDelta(role='assistant', content=content))
            )
            await scripted._latency.sleep(per_word)
        usage = scripted.usage_for(prompt, instructions, reply)
        self._event_ch.send_nowait(llm.ChatChunk(id=request_id, usage=usage))


class ScriptedTTS(_Scripted, tts.TTS):
    """Non-streaming TTS (the session wraps it in LiveKit's StreamAdapter, one request per
    sentence) that returns PCM silence as long as the text would take to say."""

    def __init__(self, plan: dict[str, Any], *, time_scale: float, backup: bool = False) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=TTS_SAMPLE_RATE,
            num_channels=1,
        )
        self._spec = plan['tts_backup'] if backup else plan['tts']
        self._fault_prefixes: dict[str, dict[str, Any]] = {} if backup else plan.get('tts_faults', {})
        self._label_as_plugin('TTS')
        self._faults = _Faults(self._fault_prefixes)
        self._latency = _Latency(f'{plan["seed"]}/tts', time_scale)
        self._requests = 0

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self._requests += 1
        return _ScriptedChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class _ScriptedChunkedStream(tts.ChunkedStream):
    _tts: ScriptedTTS

    async def _run(self, output_emitter: tts.AudioEmitter | None = None) -> None:
        # 1.0 calls `_run()` without an emitter: the stream sends its frames itself
        scripted = self._tts
        text = self.input_text
        key = next((p for p in scripted._fault_prefixes if text.lstrip().startswith(p)), text)
        draw_key = f'ttfb/{text}/{scripted._faults.attempts(key)}'
        ttfb = scripted._latency.draw(draw_key, *scripted._spec['ttfb'])
        await scripted.attempt(key, ttfb)

        request_id = utils.shortuuid()
        if output_emitter is not None:
            output_emitter.initialize(
                request_id=request_id,
                sample_rate=TTS_SAMPLE_RATE,
                num_channels=1,
                mime_type='audio/pcm',
            )
        await scripted._latency.sleep(ttfb)
        samples = round(len(text.strip()) * SPEECH_SECONDS_PER_CHAR * TTS_SAMPLE_RATE)
        if output_emitter is None:
            send_synthesized_audio(self, request_id, bytes(2 * samples), TTS_SAMPLE_RATE)
            return
        chunk = TTS_SAMPLE_RATE // 10  # 100 ms
        for start in range(0, samples, chunk):
            output_emitter.push(bytes(2 * min(chunk, samples - start)))
        output_emitter.flush()


class ScriptedSTT(_Scripted, stt.STT):
    """Streaming STT that recognizes the plan's utterances from the scripted microphone."""

    def __init__(self, plan: dict[str, Any], *, time_scale: float) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=True))
        self._spec = plan['stt']
        self._utterances: list[str] = [turn['user'] for turn in plan['turns']]
        self._label_as_plugin('STT')
        self._faults = _Faults({'stream': plan['stt_fault']} if plan.get('stt_fault') else {})
        self._latency = _Latency(f'{plan["seed"]}/stt', time_scale)

    async def _recognize_impl(self, buffer: Any, *, language: Any = NOT_GIVEN, conn_options: Any) -> stt.SpeechEvent:
        raise NotImplementedError('the scripted STT only streams')

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _ScriptedRecognizeStream(stt=self, conn_options=conn_options)


class _ScriptedRecognizeStream(stt.RecognizeStream):
    _stt: ScriptedSTT
    ENDPOINT_SILENCE = 0.2  # the provider's own end-of-speech silence

    async def _run(self) -> None:
        scripted = self._stt
        scripted._faults.check('stream', scripted.model)  # a dropped websocket at connect
        spec = scripted._spec
        language = spec.get('language', 'en')
        unbilled = 0.0  # audio received since the last usage report
        speaking_turn: int | None = None
        speech = silence = 0.0
        speech_ended_at = 0.0
        request_id = utils.shortuuid()
        async for frame in self._input_ch:
            if isinstance(frame, self._FlushSentinel):
                continue
            unbilled += frame.duration
            turn = frame_turn(frame)
            if turn is not None:
                if speaking_turn is None:
                    speaking_turn, speech = turn, 0.0
                    self._event_ch.send_nowait(speech_event(type=stt.SpeechEventType.START_OF_SPEECH))
                speech += frame.duration
                silence = 0.0
                speech_ended_at = time.time()
                text = scripted._utterances[turn]
                if 0.5 <= speech < 0.5 + frame.duration:
                    partial = ' '.join(text.split(' ')[: max(1, len(text.split(' ')) // 2)])
                    self._event_ch.send_nowait(
                        self._transcript(stt.SpeechEventType.INTERIM_TRANSCRIPT, partial, language, request_id)
                    )
                continue
            if speaking_turn is None:
                continue
            silence += frame.duration
            if silence + 1e-9 < self.ENDPOINT_SILENCE:
                continue
            await scripted._latency.sleep(scripted._latency.draw(f'final/{speaking_turn}', *spec['final_delay']))
            text = scripted._utterances[speaking_turn]
            self._event_ch.send_nowait(
                self._transcript(stt.SpeechEventType.FINAL_TRANSCRIPT, text, language, request_id)
            )
            self._event_ch.send_nowait(
                speech_event(type=stt.SpeechEventType.END_OF_SPEECH, speech_end_time=speech_ended_at)
            )
            tokens = spec.get('tokens_per_second', 0)
            self._event_ch.send_nowait(
                speech_event(
                    type=stt.SpeechEventType.RECOGNITION_USAGE,
                    request_id=request_id,
                    recognition_usage=recognition_usage(
                        audio_duration=unbilled,
                        input_tokens=round(unbilled * tokens),
                        output_tokens=count_tokens(text) if tokens else 0,
                    ),
                )
            )
            unbilled, speaking_turn, request_id = 0.0, None, utils.shortuuid()

    @staticmethod
    def _transcript(kind: stt.SpeechEventType, text: str, language: str, request_id: str) -> stt.SpeechEvent:
        return speech_event(
            type=kind,
            request_id=request_id,
            alternatives=[stt.SpeechData(language=language, text=text, confidence=0.97)],
        )


def scripted_session(plan: dict[str, Any], time_scale: float) -> AgentSession:
    """An AgentSession on the plan's scripted STT, LLM and TTS, its endpointing delays scaled; a
    plan with a backup model puts the two instances behind LiveKit's own FallbackAdapter."""
    model: Any = ScriptedLLM(plan, time_scale=time_scale)
    if plan.get('llm_backup'):
        model = llm.FallbackAdapter([model, ScriptedLLM(plan, time_scale=time_scale, backup=True)])
    voice: Any = ScriptedTTS(plan, time_scale=time_scale)
    if plan.get('tts_backup'):
        voice = tts.FallbackAdapter([voice, ScriptedTTS(plan, time_scale=time_scale, backup=True)])
    return agent_session(
        stt=ScriptedSTT(plan, time_scale=time_scale),
        llm=model,
        tts=voice,
        min_delay=round(0.5 * time_scale, 3),
        max_delay=round(3.0 * time_scale, 3),
        scale=time_scale,
    )
