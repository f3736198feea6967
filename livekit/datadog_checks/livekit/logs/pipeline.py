# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""LiveKit agent log lines -> events -> conversations: the log-derived metrics of the catalog and records.

`feed` reads each line (`parsers.read_line`), finds its conversation and hands its event to its
handler (`handlers.py`), which adds to the accumulator (`accumulator.py`); `flush` ends idle
conversations and submits everything accumulated since the previous flush through the check.
"""

import logging

from ..conversations import Conversations
from .accumulator import Accumulator
from .handlers import EventHandlers
from .parsers import read_line

LOGGER = logging.getLogger(__name__)


class LogPipeline:
    def __init__(
        self,
        *,
        min_conversation_turns=3,
        conversation_idle_timeout=600.0,
        max_open_conversations=10000,
        tags=(),
        prices=None,
        log=None,
    ):
        self.log = log or LOGGER
        self.conversations = Conversations(min_conversation_turns, conversation_idle_timeout, max_open_conversations)
        self.accumulator = Accumulator(tags, self.log)
        # `prices`: a `pricing.table.PriceTable`, or None for no cost metrics
        self.handlers = EventHandlers(self.accumulator, self.conversations, prices)

    def feed(self, lines):
        """Read raw payload lines (framing removed, no newline) and accumulate what they say."""
        accumulator = self.accumulator
        levels, error_loggers, unparsed = accumulator.levels, accumulator.error_loggers, accumulator.unparsed
        conversations = self.conversations
        handler_of = self.handlers.by_event_type
        # for the inlined `touch` below
        open_conversations, next_sequence = conversations.open, conversations.next_sequence
        # the time of the newest line, for the idle clock: only `flush` reads it
        last_time = None
        for raw in lines:
            line = read_line(raw)
            if type(line) is str:
                unparsed[line] += 1
                continue
            levels[line.level] += 1
            if line.is_error:
                error_loggers[line.language, line.logger] += 1
            timestamp = line.timestamp
            if timestamp is not None:
                last_time = timestamp

            job_id = line.job_id
            agent_name = line.agent_name
            conversation = None
            if job_id is not None:
                conversation = open_conversations.get(job_id)
                if conversation is not None:
                    # `Conversations.touch` of an open conversation, inlined: most lines take this path, and
                    # the call costs a tenth of `feed` (measured on the bench log); keep the two in step
                    conversation.sequence = next_sequence()
                    conversation.last_raw = timestamp
                else:
                    conversation = conversations.touch(job_id, line.language, timestamp)
                if conversation is not None:
                    # tag with the conversation's agent name: the first one its lines gave
                    if conversation.agent_name is None:
                        conversation.agent_name = agent_name
                    agent_name = conversation.agent_name

            event = line.event
            if event is None:
                if line.rejected is not None:
                    unparsed[line.rejected] += 1
                continue
            if line.companion:
                if conversation is not None:
                    conversation.companion = True
                    if line.service is not None:
                        conversation.service = line.service
            elif conversation is not None:
                if conversation.companion and not getattr(event, 'unseen_by_companion', False):
                    # the companion reports this job: its stock lines would count it twice
                    continue
            elif job_id is not None and conversations.ended_jobs.get(job_id, False):
                # likewise after the companion ended it
                continue
            if conversation is not None and line.room is not None and conversation.room is None:
                conversation.room = line.room
            handler_of[type(event)](event, line, conversation, agent_name)
        if last_time is not None:
            conversations.last_raw_time = last_time
        accumulator.fold()

    def flush(self, check, now):
        """Submit what was accumulated since the last flush, after ending idle conversations.

        The accumulator starts over before anything is handed to the Agent (`Accumulator.submit`).
        """
        conversations = self.conversations
        conversations.expire(now)
        for conversation in conversations.take_started():
            self.handlers.conversation_started(conversation)
        for ended in conversations.take_ended():
            self.handlers.conversation_ended(ended)
        self.accumulator.submit(check)

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
