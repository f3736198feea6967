# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""What each event adds to the accumulator and to its conversation, and what a conversation's start
and end add (DESIGN.md, Definitions).

A handler takes the event, the `Line` it came from, the line's open conversation (None for a line
without a job, or of a job that ended) and the agent name to tag with: the conversation's, else the
line's own.
"""

from typing import NamedTuple

from ..conversations import EVICTED, close_reason_tag
from ..pricing.cost import request_cost
from . import events
from .events import LLM, REALTIME, STT, TTS

_ERROR_METRICS = {LLM: 'llm.errors', REALTIME: 'llm.errors', TTS: 'tts.errors', STT: 'stt.errors'}
# errors take the model of the job's last request of the same family
_MODEL_FAMILY = {LLM: LLM, REALTIME: LLM, TTS: TTS, STT: STT}
_RECOVERABLE_TAGS = {True: 'recoverable:true', False: 'recoverable:false'}
_KIND_TAGS = {kind: f'kind:{kind}' for kind in (LLM, REALTIME, TTS, STT)}
# how a turn's end-to-end latency was obtained
_MEASURED = 'method:measured'
# a companion `tool_call`'s outcome tag (the reader admits these three only)
_OUTCOME_TAGS = {outcome: f'outcome:{outcome}' for outcome in ('ok', 'error', 'cancelled')}
_TOOL_ERROR = 'error'
_ESTIMATED = 'method:estimated'


class RequestMetrics(NamedTuple):
    """What one request adds: a request, usage counts and latencies, each (metric name, event field)."""

    requests: str
    # None (not reported) and 0 add nothing, not even an empty series
    usage: tuple
    # None is not reported
    latencies: tuple


_LLM_REQUEST = RequestMetrics(
    'llm.requests',
    usage=(
        ('llm.tokens.input', 'input_tokens'),
        ('llm.tokens.output', 'output_tokens'),
        ('llm.tokens.cached', 'cached_tokens'),
        ('llm.tokens.cache_creation', 'cache_creation_tokens'),
    ),
    latencies=(('llm.ttft', 'ttft'), ('llm.duration', 'duration')),
)
_TTS_REQUEST = RequestMetrics(
    'tts.requests',
    usage=(('tts.audio_duration', 'audio_duration'), ('tts.characters', 'characters')),
    latencies=(('tts.ttfb', 'ttfb'),),
)


class EventHandlers:
    """The handler of each event type, over one accumulator and one set of conversations."""

    def __init__(self, accumulator, conversations, prices=None):
        self.accumulator = accumulator
        self.conversations = conversations
        # the price table (`pricing.table.PriceTable`); None: no cost metrics
        self.prices = prices
        # event type -> its handler: `by_event_type[type(event)](event, line, conversation, agent_name)`
        self.by_event_type = {
            events.ModelRequest: self._model_request,
            events.NoResponse: self._no_response,
            events.Synthesis: self._synthesis,
            events.Transcription: self._transcription,
            events.EndOfUtterance: self._end_of_utterance,
            events.Interruptions: self._interruptions,
            events.ProviderError: self._provider_error,
            events.SessionClosed: self._session_closed,
            events.JobRequest: self._job_request,
            events.CompanionStart: self._ignore,
            events.CompanionTurn: self._companion_turn,
            events.CompanionConversation: self._companion_conversation,
            events.ToolCall: self._tool_call,
            events.ToolFailed: self._tool_failed,
            events.FalseInterruption: self._false_interruption,
        }

    # -- requests and turns ----------------------------------------------------------------

    def _count_request(self, event, line, agent_name, metrics):
        series = self.accumulator.series(agent_name, event.model, event.provider, line.language)
        counts = series.counts
        counts[metrics.requests] += 1
        for name, field in metrics.usage:
            value = getattr(event, field)
            if value:
                counts[name] += value
        for name, field in metrics.latencies:
            value = getattr(event, field)
            if value is not None:
                series.latencies[name].append(value)

    def _model_request(self, event, line, conversation, agent_name):
        self._count_request(event, line, agent_name, _LLM_REQUEST)
        self._cost(event.kind, event, line, conversation, agent_name)
        if conversation is not None:
            conversation.models[LLM] = event
            conversation.llm_retrying = False
            if event.kind == REALTIME:
                if not line.companion:
                    conversation.realtime_turns += 1
            elif conversation.pending_eou is not None:
                # only a user turn waiting for its reply takes part in an estimate
                estimate = conversation.llm_ttft(event.ttft)
                if estimate is not None:
                    self._estimate(conversation, estimate, line)

    def _synthesis(self, event, line, conversation, agent_name):
        self._count_request(event, line, agent_name, _TTS_REQUEST)
        self._cost(TTS, event, line, conversation, agent_name)
        if conversation is not None:
            conversation.models[TTS] = event
            if conversation.pending_eou is not None:
                estimate = conversation.tts_ttfb(event.ttfb)
                if estimate is not None:
                    self._estimate(conversation, estimate, line)

    def _series_of(self, event, line, agent_name):
        """The series of an event's model and provider."""
        return self.accumulator.series(agent_name, event.model, event.provider, line.language)

    def _agent_series(self, line, agent_name, extra=None):
        """The series of the agent alone (no model), with an optional extra tag or tags."""
        return self.accumulator.series(agent_name, None, None, line.language, extra)

    def _cost(self, kind, event, line, conversation, agent_name):
        """The estimated dollars of a request, or its count as unpriced: never a silent zero."""
        if self.prices is None:
            return
        prices = self.prices.lookup(event.provider, event.model)
        dollars = None if prices is None else request_cost(prices, kind, event)
        kind_tag = _KIND_TAGS[kind]
        if dollars is None:
            self.accumulator.series(None, event.model, None, line.language, kind_tag).counts['cost.unpriced'] += 1
            return
        series = self.accumulator.series(agent_name, event.model, event.provider, line.language, kind_tag)
        series.counts['cost.estimated'] += dollars
        if conversation is not None:
            conversation.cost = (conversation.cost or 0.0) + dollars

    def _estimate(self, conversation, estimate, line):
        if line.companion:
            # the reply's turn record decides: LiveKit's measured latency when it has one (1.3+)
            conversation.companion_estimate = estimate
        else:
            self._submit_e2e(conversation.agent_name, line.language, _ESTIMATED, estimate)

    def _submit_e2e(self, agent_name, language, method_tag, value):
        series = self.accumulator.series(agent_name, None, None, language, method_tag)
        series.latencies['turn.e2e_latency'].append(value)

    def _transcription(self, event, line, conversation, agent_name):
        self._cost(STT, event, line, conversation, agent_name)
        counts = self._series_of(event, line, agent_name).counts
        counts['stt.requests'] += 1
        if event.audio_duration:
            counts['stt.audio_duration'] += event.audio_duration
        if conversation is not None:
            conversation.models[STT] = event

    def _end_of_utterance(self, event, line, conversation, agent_name):
        series = self._series_of(event, line, agent_name)
        if event.end_of_utterance_delay is not None:
            series.latencies['eou.end_of_utterance_delay'].append(event.end_of_utterance_delay)
        if event.transcription_delay is not None:
            series.latencies['eou.transcription_delay'].append(event.transcription_delay)
        if conversation is not None and event.end_of_utterance_delay is not None:
            conversation.start_turn(event.end_of_utterance_delay)
        if line.companion:
            # the companion's turn records count the turns
            return
        self._count_user_turn(line, conversation, agent_name)

    def _count_user_turn(self, line, conversation, agent_name):
        self._agent_series(line, agent_name).counts['turns.user'] += 1
        if conversation is not None:
            conversation.turns += 1

    def _interruptions(self, event, line, conversation, agent_name):
        if event.count or event.backchannels:
            counts = self._series_of(event, line, agent_name).counts
            if event.count:
                counts['interruptions'] += event.count
            if event.backchannels:
                counts['interruptions.backchannels'] += event.backchannels

    def _false_interruption(self, event, line, conversation, agent_name):
        self._agent_series(line, agent_name).counts['interruptions.false'] += 1

    # -- tools -----------------------------------------------------------------------------

    def _tool_call(self, event, line, conversation, agent_name):
        """A companion `tool_call`: a call by tool and outcome, its duration and errors by tool."""
        tool = f'tool_name:{event.tool_name}'
        self._agent_series(line, agent_name, (tool, _OUTCOME_TAGS[event.outcome])).counts['tool.calls'] += 1
        series = self._agent_series(line, agent_name, tool)
        if event.duration is not None:
            series.latencies['tool.duration'].append(event.duration)
        if event.outcome == _TOOL_ERROR:
            series.counts['tool.errors'] += 1

    def _tool_failed(self, event, line, conversation, agent_name):
        """LiveKit's own line of a tool that raised: in a job without the companion (the pipeline drops
        the stock lines of a companion's job, whose `tool_call` records count its errors)."""
        tool = f'tool_name:{event.tool_name}'
        self._agent_series(line, agent_name, tool).counts['tool.errors'] += 1

    # -- failures --------------------------------------------------------------------------

    def _no_response(self, event, line, conversation, agent_name):
        # after retry lines, the request failed for good; else it may have been cancelled
        if conversation is not None and conversation.llm_retrying:
            self._provider_error(events.ProviderError(event.kind, False), line, conversation, agent_name)

    def _provider_error(self, event, line, conversation, agent_name):
        metric = _ERROR_METRICS.get(event.kind)
        if metric is None:
            return
        if conversation is not None and event.kind == LLM:
            conversation.llm_retrying = event.recoverable
        model, provider = event.model, event.provider
        if model is None and conversation is not None:
            last = conversation.models.get(_MODEL_FAMILY[event.kind])
            if last is not None and (provider is None or provider == last.provider):
                model, provider = last.model, last.provider
        recoverable = _RECOVERABLE_TAGS[event.recoverable]
        self.accumulator.series(agent_name, model, provider, line.language, recoverable).counts[metric] += 1

    # -- jobs and the companion's records --------------------------------------------------

    def _session_closed(self, event, line, conversation, agent_name):
        if conversation is not None:
            self.conversations.end(conversation, close_reason_tag(event.reason), line.timestamp)

    def _job_request(self, event, line, conversation, agent_name):
        if event.job_id is not None:
            self.conversations.announce(event.job_id, event.agent_name)

    def _companion_turn(self, event, line, conversation, agent_name):
        if event.role == 'user':
            self._count_user_turn(line, conversation, agent_name)
            if event.on_user_turn_completed_delay is not None:
                series = self._agent_series(line, agent_name)
                series.latencies['eou.on_user_turn_completed_delay'].append(event.on_user_turn_completed_delay)
        elif event.role == 'assistant':
            if event.interrupted or event.playback_latency is not None:
                series = self._agent_series(line, agent_name)
                if event.interrupted:
                    series.counts['turns.interrupted'] += 1
                if event.playback_latency is not None:
                    series.latencies['turn.playback_latency'].append(event.playback_latency)
            estimate = None
            if conversation is not None:
                estimate, conversation.companion_estimate = conversation.companion_estimate, None
            if event.e2e_latency is not None:
                self._submit_e2e(agent_name, line.language, _MEASURED, event.e2e_latency)
            elif estimate is not None:
                self._submit_e2e(agent_name, line.language, _ESTIMATED, estimate)

    def _companion_conversation(self, event, line, conversation, agent_name):
        if conversation is not None:
            if event.trace_id:
                conversation.trace_id = event.trace_id
            outcome, overflowed = self.conversations.outcome_tag(event.outcome)
            if overflowed:
                self._agent_series(line, agent_name).counts['conversations.outcome_overflow'] += 1
            self.conversations.end(
                conversation,
                close_reason_tag(event.close_reason),
                line.timestamp,
                turns=event.user_turns,
                duration=event.duration,
                outcome=outcome,
            )

    def _ignore(self, event, line, conversation, agent_name):
        pass

    # -- conversations ---------------------------------------------------------------------

    def conversation_started(self, conversation):
        self._conversation_series(conversation).counts['conversations.started'] += 1

    def conversation_ended(self, ended):
        """Its counts and distributions, and its record when it was short."""
        conversation = ended.conversation
        close_reason = f'close_reason:{ended.close_reason}'
        # the outcome the agent's code declared, when it declared one (no tag otherwise)
        tags = (close_reason, f'outcome:{ended.outcome}') if ended.outcome else close_reason
        self._conversation_series(conversation, tags).counts['conversations.ended'] += 1
        series = self._conversation_series(conversation)
        if ended.close_reason == EVICTED:
            series.counts['conversations.evicted'] += 1
        if ended.extra_user_turns:
            series.counts['turns.user'] += ended.extra_user_turns
        series.latencies['conversation.turns'].append(ended.turns)
        if ended.duration is not None:
            series.latencies['conversation.duration'].append(ended.duration)
        if conversation.cost is not None:
            series.latencies['conversation.cost'].append(conversation.cost)
        if ended.turns < self.conversations.min_turns:
            series.counts['conversations.short'] += 1
            self.accumulator.records.append(self.conversations.short_record(ended))

    def _conversation_series(self, conversation, extra=None):
        return self.accumulator.series(conversation.agent_name, None, None, conversation.language, extra)
