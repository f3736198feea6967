# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Conversations (one per job id): turns, end detection, short-conversation records.

A conversation starts at the first line carrying its job id and ends, best first, at the
companion's `conversation` record, at a close line, or `idle_timeout` seconds after its last line.
Idle time is measured on the clock of the lines read; when no newer line arrives, that clock moves
on with the wall clock. An ended conversation is never reopened: its late lines still count in
their metrics, not in conversation stats. At most `max_open` are tracked; beyond that the ones
idle longest end early (close reason `evicted`), and the last `max_open` ended job ids are
remembered so their late lines never reopen them. Open conversations survive restarts through
`dump` / `restore`.
"""

import heapq
import itertools
import re
from operator import attrgetter

from .logs.fields import epoch_seconds

IDLE_TIMEOUT = 'idle_timeout'
EVICTED = 'evicted'
UNKNOWN = 'unknown'
OTHER = 'other'
STATE_VERSION = 1

_REASON = re.compile(r'[a-z][a-z0-9_]{0,39}')
# the outcome the agent's code declared (`set_outcome`), a tag value: the companion's bound, and at
# most MAX_OUTCOMES distinct values per run (the others become `other`, counted as an overflow)
_OUTCOME = re.compile(r'[a-z0-9_-]{1,32}')
MAX_OUTCOMES = 20
_SEQUENCE = attrgetter('sequence')


def close_reason_tag(reason):
    """A bounded tag value: LiveKit's close reasons are short identifiers (`CR_ERROR` -> `error`)."""
    if not reason:
        return UNKNOWN
    reason = reason.lower()
    if reason.startswith('cr_'):
        reason = reason[3:]
    if reason == 'completed':
        return 'task_completed'
    return reason if _REASON.fullmatch(reason) else OTHER


# What a restart keeps of an open conversation, in the order of its saved list, grouped by the type
# `Conversation.load` demands.
_STRINGS = ('job_id', 'language')
_OPTIONAL_STRINGS = ('agent_name', 'room', 'service', 'trace_id')
_OPTIONAL_TIMES = ('first_time', 'last_time')
_COUNTS = ('turns', 'realtime_turns')
# dollars of the conversation's priced usage so far (None: nothing priced yet); saved last, so that a
# state saved before costs existed still loads
_OPTIONAL_AMOUNTS = ('cost',)
_PERSISTED = _STRINGS + _OPTIONAL_STRINGS + ('companion',) + _OPTIONAL_TIMES + _COUNTS + _OPTIONAL_AMOUNTS


class Conversation:
    __slots__ = _PERSISTED + (
        'last_raw',
        'sequence',
        # the e2e estimate of the pending user turn: EOU delay, then the next LLM ttft and TTS ttfb
        'pending_eou',
        'pending_ttft',
        'pending_ttfb',
        # a companion job's estimate, kept for the reply's turn record when LiveKit measured none (< 1.3)
        'companion_estimate',
        # the last request of each kind (its model and provider), for the job's error lines
        'models',
        # an LLM request of the job is being retried (Node's final failure shows no line of its own)
        'llm_retrying',
    )

    def __init__(self, job_id, language, first_time):
        self.job_id = job_id
        self.language = language
        self.agent_name = None
        self.room = None
        self.service = None
        self.trace_id = None
        self.companion = False
        self.first_time = first_time
        self.last_raw = None
        self.last_time = first_time
        self.sequence = 0
        self.turns = 0
        self.realtime_turns = 0
        self.pending_eou = None
        self.pending_ttft = None
        self.pending_ttfb = None
        self.companion_estimate = None
        self.models = {}
        self.llm_retrying = False
        self.cost = None

    # -- per-turn end-to-end estimate -------------------------------------------------------

    def start_turn(self, end_of_utterance_delay):
        self.pending_eou = end_of_utterance_delay
        self.pending_ttft = self.pending_ttfb = None

    def llm_ttft(self, ttft):
        """The e2e estimate when this completes a pending turn, else None."""
        if not self._takes_part(self.pending_ttft, ttft):
            return None
        self.pending_ttft = ttft
        return self._complete_turn()

    def tts_ttfb(self, ttfb):
        if not self._takes_part(self.pending_ttfb, ttfb):
            return None
        self.pending_ttfb = ttfb
        return self._complete_turn()

    def _takes_part(self, taken, value):
        """Whether `value` is the pending turn's part whose slot holds `taken`."""
        # only the first LLM and the first TTS line after the EOU line belong to the turn
        if self.pending_eou is None or taken is not None:
            return False
        if value is None:
            # no first token or byte: this turn cannot be estimated
            self.pending_eou = None
            return False
        return True

    def _complete_turn(self):
        if self.pending_ttft is None or self.pending_ttfb is None:
            return None
        estimate = self.pending_eou + self.pending_ttft + self.pending_ttfb
        self.pending_eou = self.pending_ttft = self.pending_ttfb = None
        return estimate

    # -- persistence ----------------------------------------------------------------------

    def dump(self):
        return [getattr(self, name) for name in _PERSISTED]

    @classmethod
    def load(cls, values):
        if type(values) is list and len(values) == len(_PERSISTED) - len(_OPTIONAL_AMOUNTS):
            values = values + [None] * len(_OPTIONAL_AMOUNTS)
        if type(values) is not list or len(values) != len(_PERSISTED):
            raise ValueError('conversation entry')
        fields = dict(zip(_PERSISTED, values, strict=True))
        _check_types(fields)
        conversation = cls(fields['job_id'], fields['language'], fields['first_time'])
        for name, value in fields.items():
            setattr(conversation, name, value)
        return conversation


def _check_types(fields):
    if not all(type(fields[name]) is str for name in _STRINGS):
        raise ValueError('job id or language')
    if not all(fields[name] is None or type(fields[name]) is str for name in _OPTIONAL_STRINGS):
        raise ValueError('names')
    if not all(fields[name] is None or type(fields[name]) in (int, float) for name in _OPTIONAL_TIMES):
        raise ValueError('times')
    if not all(type(fields[name]) is int and fields[name] >= 0 for name in _COUNTS):
        raise ValueError('turns')
    if type(fields['companion']) is not bool:
        raise ValueError('companion')
    if not all(
        fields[name] is None or (type(fields[name]) in (int, float) and fields[name] >= 0) for name in _OPTIONAL_AMOUNTS
    ):
        raise ValueError('cost')


class Ended:
    """A conversation that ended, with what its end submits."""

    __slots__ = ('conversation', 'close_reason', 'turns', 'duration', 'end_time', 'extra_user_turns', 'outcome')

    def __init__(self, conversation, close_reason, turns, duration, end_time, extra_user_turns, outcome=None):
        self.conversation = conversation
        self.close_reason = close_reason
        self.turns = turns
        self.duration = duration
        self.end_time = end_time
        self.extra_user_turns = extra_user_turns
        # the `outcome` tag value (`outcome_tag`), None when no outcome was declared
        self.outcome = outcome


class Conversations:
    def __init__(self, min_turns, idle_timeout, max_open):
        self.min_turns = min_turns
        self.idle_timeout = idle_timeout
        self.max_open = max_open
        self.open = {}
        # job id -> taken over by the companion; remembered so a late line never reopens a job
        self.ended_jobs = {}
        # job id -> agent name, of jobs a worker announced whose conversation has not started (Node);
        # not kept across restarts: a job that starts right after one only lacks its agent name
        self.announced = {}
        self.ended = []
        self.started = []
        # touch order, for eviction: the pipeline stamps it too, on its inlined touch
        self.next_sequence = itertools.count(1).__next__
        # the newest line time seen, and the wall-clock time at which it was first seen
        self.line_clock = None
        self.wall_clock = None
        self.last_raw_time = None
        # the distinct outcome tag values of this run (`outcome_tag`), until `take_ended`
        self.outcomes = set()

    def touch(self, job_id, language, raw_time):
        """The open conversation of a job line, started if new; None once the job has ended."""
        conversation = self.open.get(job_id)
        if conversation is None:
            if job_id in self.ended_jobs:
                return None
            if len(self.open) >= self.max_open:
                self._evict()
            conversation = self.open[job_id] = Conversation(job_id, language, epoch_seconds(raw_time))
            conversation.agent_name = self.announced.pop(job_id, None)
            self.started.append(conversation)
        conversation.sequence = self.next_sequence()
        conversation.last_raw = raw_time
        return conversation

    def announce(self, job_id, agent_name):
        """A job the worker received: its conversation takes the agent name when it starts."""
        conversation = self.open.get(job_id)
        if conversation is not None:
            if conversation.agent_name is None:
                conversation.agent_name = agent_name
        elif job_id not in self.ended_jobs:
            self.announced[job_id] = agent_name
            if len(self.announced) > self.max_open:
                # jobs whose lines never name them (Node before 1.9) must not pile up
                del self.announced[next(iter(self.announced))]

    def end(self, conversation, close_reason, raw_time=None, turns=None, duration=None, outcome=None):
        """End an open conversation now (at the line time `raw_time` when given); `outcome` is a tag
        value from `outcome_tag`."""
        del self.open[conversation.job_id]
        self._remember_ended(conversation.job_id, conversation.companion)
        self._settle_time(conversation)
        end_time = epoch_seconds(raw_time) if raw_time is not None else None
        if end_time is None:
            end_time = conversation.last_time
        extra_user_turns = 0
        if turns is None:
            turns = conversation.turns
            if not turns and not conversation.companion:
                # realtime models with server-side turn detection write no EOU lines
                turns = extra_user_turns = conversation.realtime_turns
        if duration is None and end_time is not None and conversation.first_time is not None:
            duration = max(0.0, end_time - conversation.first_time)
        self.ended.append(Ended(conversation, close_reason, turns, duration, end_time, extra_user_turns, outcome))

    def outcome_tag(self, outcome):
        """(the bounded tag value of a declared outcome, whether it overflowed the run's cap); (None,
        False) for none. Lower case, at most 32 of [a-z0-9_-], else `other`; beyond MAX_OUTCOMES
        distinct values in one run, `other` too (an overflow)."""
        if not outcome:
            return None, False
        outcome = outcome.lower()
        if not _OUTCOME.fullmatch(outcome):
            return OTHER, False
        if outcome not in self.outcomes:
            if len(self.outcomes) >= MAX_OUTCOMES:
                return OTHER, True
            self.outcomes.add(outcome)
        return outcome, False

    def expire(self, now):
        """End the conversations idle for `idle_timeout` on the line clock (see module doc)."""
        newest = epoch_seconds(self.last_raw_time) if self.last_raw_time is not None else None
        for conversation in self.open.values():
            # only a conversation with a line since the last settling has a time to parse
            if conversation.last_raw is not None:
                self._settle_time(conversation)
            if conversation.last_time is not None and (newest is None or conversation.last_time > newest):
                newest = conversation.last_time
        if newest is not None and (self.line_clock is None or newest > self.line_clock):
            self.line_clock = newest
            self.wall_clock = now
        if self.line_clock is None:
            reference = now
        else:
            reference = self.line_clock + max(0.0, now - self.wall_clock)
        for conversation in list(self.open.values()):
            last = conversation.last_time
            if last is None:
                # none of its lines had a readable time: its idle time starts now
                last = conversation.last_time = reference
            if reference - last >= self.idle_timeout:
                self.end(conversation, IDLE_TIMEOUT)

    def short_record(self, ended):
        """The `send_log` record of a conversation that ended below `min_turns` (no text, no PII).

        Flat keys, named as on the agents' own lines: the `livekit` log pipeline moves `job_id`, `room`,
        `agent_name`, `turns`, `min_turns` and `close_reason` under `livekit.`, where `livekit.event`
        already is (Datadog reads a key with dots as the nested path).
        """
        conversation = ended.conversation
        record = {
            'message': f'LiveKit conversation below {self.min_turns} turns',
            'livekit.event': 'conversation.short',
            'ddsource': 'livekit',
            'job_id': conversation.job_id,
            'turns': ended.turns,
            'min_turns': self.min_turns,
            'close_reason': ended.close_reason,
            'language': conversation.language,
        }
        optional = {
            'room': conversation.room,
            'agent_name': conversation.agent_name,
            'duration_s': round(ended.duration, 3) if ended.duration is not None else None,
            'trace_id': conversation.trace_id,
            'service': conversation.service,
            'timestamp': ended.end_time,
        }
        record.update((key, value) for key, value in optional.items() if value is not None)
        return record

    def take_started(self):
        started, self.started = self.started, []
        return started

    def take_ended(self):
        ended, self.ended = self.ended, []
        # a run's flush takes what ended: the next run may show other outcomes
        self.outcomes = set()
        return ended

    # -- bounds ----------------------------------------------------------------------------

    def _evict(self):
        # evict in small batches so a flood of new job ids costs O(log n) per conversation
        batch = max(1, self.max_open // 100)
        for conversation in heapq.nsmallest(batch, self.open.values(), key=_SEQUENCE):
            self.end(conversation, EVICTED)

    def _remember_ended(self, job_id, companion):
        self.ended_jobs[job_id] = companion
        if len(self.ended_jobs) > self.max_open:
            del self.ended_jobs[next(iter(self.ended_jobs))]

    def _settle_time(self, conversation):
        """Parse the time of the conversation's newest line, once."""
        if conversation.last_raw is not None:
            moment = epoch_seconds(conversation.last_raw)
            conversation.last_raw = None
            if moment is not None and (conversation.last_time is None or moment > conversation.last_time):
                conversation.last_time = moment
            if conversation.first_time is None:
                conversation.first_time = moment
        return conversation.last_time

    # -- persistence -----------------------------------------------------------------------

    def dump(self):
        for conversation in self.open.values():
            self._settle_time(conversation)
        return {
            'version': STATE_VERSION,
            'open': [conversation.dump() for conversation in self.open.values()],
            'ended': [[job_id, companion] for job_id, companion in self.ended_jobs.items()],
            'clock': [self.line_clock, self.wall_clock],
        }

    def restore(self, state):
        """Load a `dump`; raises ValueError (and changes nothing) when it is not one."""
        if type(state) is not dict or state.get('version') != STATE_VERSION:
            raise ValueError('unknown state version')
        opened = [Conversation.load(values) for values in _list(state.get('open'))]
        ended = _list(state.get('ended'))
        if not all(
            type(item) is list and len(item) == 2 and type(item[0]) is str and type(item[1]) is bool for item in ended
        ):
            raise ValueError('ended jobs')
        clock = state.get('clock')
        if type(clock) is not list or len(clock) != 2 or not all(v is None or type(v) in (int, float) for v in clock):
            raise ValueError('clock')
        if (clock[0] is None) != (clock[1] is None):
            raise ValueError('clock')
        opened.sort(key=lambda c: c.last_time if c.last_time is not None else float('-inf'))
        self.open = {}
        for conversation in opened:
            conversation.sequence = self.next_sequence()
            self.open[conversation.job_id] = conversation
        self.ended_jobs = dict(ended[-self.max_open :])
        self.line_clock, self.wall_clock = clock
        # a lowered `max_open_conversations` ends the excess, idle longest first
        while len(self.open) > self.max_open:
            self._evict()


def _list(value):
    if type(value) is not list:
        raise ValueError('list expected')
    return value
