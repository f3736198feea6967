# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""LiveKit agent log lines -> the log-derived metrics of the catalog, conversations and records.

`feed` parses lines and accumulates; `flush` ends idle conversations and submits everything
accumulated since the previous flush through the check. Counts are summed per run; latencies go
out as distribution buckets (`distributions.py`).
"""

import logging
from collections import defaultdict

from ..conversations import EVICTED, Conversations, close_reason_tag
from ..distributions import Distributions
from . import node_format, python_format
from .events import (
    LLM,
    REALTIME,
    STT,
    TTS,
    CompanionConversation,
    CompanionStart,
    CompanionTurn,
    EndOfUtterance,
    Interruptions,
    JobRequest,
    ModelRequest,
    NoResponse,
    ProviderError,
    SessionClosed,
    Synthesis,
    Transcription,
)
from .parsers import read_line

LOGGER = logging.getLogger(__name__)

_ERROR_METRICS = {LLM: 'llm.errors', REALTIME: 'llm.errors', TTS: 'tts.errors', STT: 'stt.errors'}
# errors take the model of the job's last request of the same family
_MODEL_FAMILY = {LLM: LLM, REALTIME: LLM, TTS: TTS, STT: STT}
_RECOVERABLE_TAGS = {True: 'recoverable:true', False: 'recoverable:false'}
# how a turn's end-to-end latency was obtained
_MEASURED = 'method:measured'
_ESTIMATED = 'method:estimated'


class _Series:
    """What one tag set accumulates until the next flush: sums and latencies by metric name.

    Keyed by name alone, an accumulation costs a fraction of one keyed by (name, tags).
    """

    __slots__ = ('tags', 'counts', 'latencies')

    def __init__(self, tags, distributions):
        self.tags = tags
        self.counts = defaultdict(int)
        # metric name -> the list of its values in `distributions`: `latencies[name].append(value)`
        # records one latency (a finite value >= 0) without a Python call
        self.latencies = _Latencies(tags, distributions)


class _Latencies(dict):
    __slots__ = ('tags', 'distributions')

    def __init__(self, tags, distributions):
        self.tags = tags
        self.distributions = distributions

    def __missing__(self, name):
        values = self[name] = self.distributions.values(name, self.tags)
        return values


class LogPipeline:
    def __init__(
        self,
        *,
        min_conversation_turns=3,
        conversation_idle_timeout=600.0,
        max_open_conversations=10000,
        tags=(),
        log=None,
    ):
        self.tags = tuple(tags)
        self.log = log or LOGGER
        self.conversations = Conversations(min_conversation_turns, conversation_idle_timeout, max_open_conversations)
        self._reset()

    def _reset(self):
        # tags -> _Series, and the shortcut to it from what the tags are made of
        self._series_by_tags = {}
        self._series_cache = {}
        # defaultdicts: `counts[key] += value` needs no method call per line
        self._levels = defaultdict(int)
        self._error_loggers = defaultdict(int)
        self._unparsed = defaultdict(int)
        self._distributions = Distributions()

    # -- reading ---------------------------------------------------------------------------

    def feed(self, lines):
        """Parse raw payload lines (framing removed, no newline) and accumulate what they say."""
        levels = self._levels
        unparsed = self._unparsed
        conversations = self.conversations
        open_conversations = conversations.open
        next_sequence = conversations.next_sequence
        handlers = _HANDLERS
        # the time of the newest line, for the idle clock: only `flush` reads it
        last_time = None
        for raw in lines:
            line = read_line(raw)
            if type(line) is str:
                unparsed[line] += 1
                continue
            language, level, logger, error, timestamp, job_id, agent, room, event, companion, service, rejected = line
            # keyed by the level alone (a tuple key costs twice as much): its type tells the format
            levels[level] += 1
            if error:
                self._error_loggers[language, logger] += 1
            if timestamp is not None:
                last_time = timestamp

            if job_id is None:
                conversation = None
            else:
                conversation = open_conversations.get(job_id)
                if conversation is not None:
                    # `touch` of an open conversation, inlined: most lines take this path
                    conversation.sequence = next_sequence()
                    conversation.last_raw = timestamp
                else:
                    conversation = conversations.touch(job_id, language, timestamp)
                if agent is not None and conversation is not None and conversation.agent_name is None:
                    conversation.agent_name = agent

            if event is None:
                # a rejected line has no event
                if rejected is not None:
                    unparsed[rejected] += 1
                continue
            if companion:
                if conversation is not None:
                    conversation.companion = True
                    if service is not None:
                        conversation.service = service
            elif conversation is not None:
                if conversation.companion:
                    # the companion reports this job: its stock lines would count it twice
                    continue
            elif job_id is not None and conversations.ended_jobs.get(job_id, False):
                # likewise after the companion ended it
                continue
            if conversation is not None:
                if room is not None and conversation.room is None:
                    conversation.room = room
                agent = conversation.agent_name
            handlers[type(event)](self, event, conversation, agent, language, companion, timestamp)
        if last_time is not None:
            conversations.last_raw_time = last_time
        self._distributions.fold()

    def _series(self, agent_name, model, provider, language, extra=None):
        """The accumulator of a tag set: language, agent name, model, provider and an optional extra tag."""
        key = (agent_name, model, provider, language, extra)
        series = self._series_cache.get(key)
        if series is None:
            tags = [f'language:{language}']
            if agent_name:
                tags.append(f'agent_name:{agent_name}')
            if model:
                tags.append(f'model:{model}')
            if provider:
                tags.append(f'provider:{provider}')
            if extra:
                tags.append(extra)
            tags = tuple(tags)
            # different keys can make the same tags ('' and None): one series, one submission
            series = self._series_by_tags.get(tags)
            if series is None:
                series = self._series_by_tags[tags] = _Series(tags, self._distributions)
            self._series_cache[key] = series
        return series

    # -- events ----------------------------------------------------------------------------

    def _on_model_request(self, event, conversation, agent_name, language, companion, timestamp):
        series = self._series(agent_name, event.model, event.provider, language)
        counts = series.counts
        counts['llm.requests'] += 1
        if event.input_tokens:
            counts['llm.tokens.input'] += event.input_tokens
        if event.output_tokens:
            counts['llm.tokens.output'] += event.output_tokens
        if event.cached_tokens:
            counts['llm.tokens.cached'] += event.cached_tokens
        if event.cache_creation_tokens:
            counts['llm.tokens.cache_creation'] += event.cache_creation_tokens
        if event.ttft is not None:
            series.latencies['llm.ttft'].append(event.ttft)
        if event.duration is not None:
            series.latencies['llm.duration'].append(event.duration)
        if conversation is not None:
            conversation.models[LLM] = event
            conversation.llm_retrying = False
            if event.kind == REALTIME:
                if not companion:
                    conversation.realtime_turns += 1
            elif conversation.pending_eou is not None:
                # only a user turn waiting for its reply takes part in an estimate
                estimate = conversation.llm_ttft(event.ttft)
                if estimate is not None:
                    self._estimate(conversation, estimate, language, companion)

    def _on_synthesis(self, event, conversation, agent_name, language, companion, timestamp):
        series = self._series(agent_name, event.model, event.provider, language)
        counts = series.counts
        counts['tts.requests'] += 1
        if event.audio_duration:
            counts['tts.audio_duration'] += event.audio_duration
        if event.characters:
            counts['tts.characters'] += event.characters
        if event.ttfb is not None:
            series.latencies['tts.ttfb'].append(event.ttfb)
        if conversation is not None:
            conversation.models[TTS] = event
            if conversation.pending_eou is not None:
                estimate = conversation.tts_ttfb(event.ttfb)
                if estimate is not None:
                    self._estimate(conversation, estimate, language, companion)

    def _estimate(self, conversation, estimate, language, companion):
        if companion:
            # the reply's turn record decides: LiveKit's measured latency when it has one (1.3+)
            conversation.companion_estimate = estimate
        else:
            self._submit_e2e(conversation.agent_name, language, _ESTIMATED, estimate)

    def _submit_e2e(self, agent_name, language, method_tag, value):
        series = self._series(agent_name, None, None, language, method_tag)
        series.latencies['turn.e2e_latency'].append(value)

    def _on_transcription(self, event, conversation, agent_name, language, companion, timestamp):
        counts = self._series(agent_name, event.model, event.provider, language).counts
        counts['stt.requests'] += 1
        if event.audio_duration:
            counts['stt.audio_duration'] += event.audio_duration
        if conversation is not None:
            conversation.models[STT] = event

    def _on_end_of_utterance(self, event, conversation, agent_name, language, companion, timestamp):
        series = self._series(agent_name, event.model, event.provider, language)
        if event.end_of_utterance_delay is not None:
            series.latencies['eou.end_of_utterance_delay'].append(event.end_of_utterance_delay)
        if event.transcription_delay is not None:
            series.latencies['eou.transcription_delay'].append(event.transcription_delay)
        if conversation is not None and event.end_of_utterance_delay is not None:
            conversation.start_turn(event.end_of_utterance_delay)
        if companion:
            # the companion's turn records count the turns
            return
        self._series(agent_name, None, None, language).counts['turns.user'] += 1
        if conversation is not None:
            conversation.turns += 1

    def _on_interruptions(self, event, conversation, agent_name, language, companion, timestamp):
        if event.count:
            self._series(agent_name, event.model, event.provider, language).counts['interruptions'] += event.count

    def _on_no_response(self, event, conversation, agent_name, language, companion, timestamp):
        # after retry lines, the request failed for good; else it may have been cancelled
        if conversation is not None and conversation.llm_retrying:
            self._on_provider_error(
                ProviderError(event.kind, False), conversation, agent_name, language, companion, timestamp
            )

    def _on_provider_error(self, event, conversation, agent_name, language, companion, timestamp):
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
        self._series(agent_name, model, provider, language, recoverable).counts[metric] += 1

    def _on_session_closed(self, event, conversation, agent_name, language, companion, timestamp):
        if conversation is not None:
            self.conversations.end(conversation, close_reason_tag(event.reason), timestamp)

    def _on_companion_turn(self, event, conversation, agent_name, language, companion, timestamp):
        if event.role == 'user':
            self._series(agent_name, None, None, language).counts['turns.user'] += 1
            if conversation is not None:
                conversation.turns += 1
        elif event.role == 'assistant':
            estimate = conversation.companion_estimate if conversation is not None else None
            if conversation is not None:
                conversation.companion_estimate = None
            if event.e2e_latency is not None:
                self._submit_e2e(agent_name, language, _MEASURED, event.e2e_latency)
            elif estimate is not None:
                self._submit_e2e(agent_name, language, _ESTIMATED, estimate)

    def _on_companion_conversation(self, event, conversation, agent_name, language, companion, timestamp):
        if conversation is not None:
            if event.trace_id:
                conversation.trace_id = event.trace_id
            self.conversations.end(
                conversation,
                close_reason_tag(event.close_reason),
                timestamp,
                turns=event.user_turns,
                duration=event.duration,
            )

    def _on_job_request(self, event, conversation, agent_name, language, companion, timestamp):
        if event.job_id is not None:
            self.conversations.announce(event.job_id, event.agent_name)

    def _ignore(self, event, conversation, agent_name, language, companion, timestamp):
        pass

    # -- submission ------------------------------------------------------------------------

    def flush(self, check, now):
        """Submit what was accumulated since the last flush, after ending idle conversations.

        The accumulators start over before anything is handed to the Agent: a call that raises
        (an Agent without the `send_log` builtin, say) can lose this run's records, never count
        them again in the next run.
        """
        conversations = self.conversations
        conversations.expire(now)
        for conversation in conversations.take_started():
            self._conversation_series(conversation).counts['conversations.started'] += 1
        records = []
        for ended in conversations.take_ended():
            records.extend(self._on_conversation_end(ended))
        series_by_tags, levels, error_loggers, unparsed = (
            self._series_by_tags,
            self._levels,
            self._error_loggers,
            self._unparsed,
        )
        distributions = self._distributions
        self._reset()

        base = self.tags
        for tags, series in series_by_tags.items():
            for name, value in series.counts.items():
                check.count(name, value, tags=[*base, *tags])
        for level, value in levels.items():
            # Python names its levels, Node numbers them
            fmt = python_format if type(level) is str else node_format
            level_tag = fmt.LEVEL_TAGS.get(level, 'other')
            check.count('log.lines', value, tags=[*base, f'level:{level_tag}', f'language:{fmt.LANGUAGE}'])
        for (language, logger), value in error_loggers.items():
            tags = [*base, f'language:{language}']
            if logger:
                tags.append(f'logger:{logger[:100]}')
            check.count('log.errors', value, tags=tags)
        for reason, value in unparsed.items():
            check.count('log.unparsed', value, tags=[*base, f'reason:{reason}'])
        distributions.submit(check, base)
        self._send_records(check, records)

    def _send_records(self, check, records):
        failed, reason = 0, None
        for record in records:
            try:
                check.send_log(record)
            except Exception as e:
                failed += 1
                reason = reason or '{}: {}'.format(type(e).__name__, e)
        if failed:
            self.log.warning(
                'Could not send %d of %d LiveKit short-conversation record(s) to the Agent (%s); their metrics '
                'were submitted. Log records from a check need an Agent with integration log collection: '
                'logs_enabled: true and a `logs: - type: integration` entry in conf.yaml',
                failed,
                len(records),
                reason,
            )

    def _conversation_series(self, conversation, extra=None):
        return self._series(conversation.agent_name, None, None, conversation.language, extra)

    def _on_conversation_end(self, ended):
        conversation = ended.conversation
        close_reason = f'close_reason:{ended.close_reason}'
        self._conversation_series(conversation, close_reason).counts['conversations.ended'] += 1
        series = self._conversation_series(conversation)
        if ended.close_reason == EVICTED:
            series.counts['conversations.evicted'] += 1
        if ended.extra_user_turns:
            series.counts['turns.user'] += ended.extra_user_turns
        series.latencies['conversation.turns'].append(ended.turns)
        if ended.duration is not None:
            series.latencies['conversation.duration'].append(ended.duration)
        if ended.turns < self.conversations.min_turns:
            series.counts['conversations.short'] += 1
            yield self.conversations.short_record(ended)

    # -- persistence -----------------------------------------------------------------------

    def dump_state(self):
        """Open conversations and the line clock, JSON-serializable and bounded."""
        return self.conversations.dump()

    def restore(self, state):
        """Continue from `dump_state`; a missing, corrupt or foreign state starts empty."""
        if state is None:
            return
        try:
            self.conversations.restore(state)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            self.log.warning('Ignoring the saved LiveKit conversation state, it is not usable (%s)', e)


_HANDLERS = {
    ModelRequest: LogPipeline._on_model_request,
    NoResponse: LogPipeline._on_no_response,
    Synthesis: LogPipeline._on_synthesis,
    Transcription: LogPipeline._on_transcription,
    EndOfUtterance: LogPipeline._on_end_of_utterance,
    Interruptions: LogPipeline._on_interruptions,
    ProviderError: LogPipeline._on_provider_error,
    SessionClosed: LogPipeline._on_session_closed,
    JobRequest: LogPipeline._on_job_request,
    CompanionStart: LogPipeline._ignore,
    CompanionTurn: LogPipeline._on_companion_turn,
    CompanionConversation: LogPipeline._on_companion_conversation,
}
