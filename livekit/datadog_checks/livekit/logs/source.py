# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The agent log source: tail the files, turn their lines into metrics, keep the offsets.

Order matters for crash safety: lines are read, their metrics submitted, and only then are the new
offsets (and the open conversations) written to the persistent cache, in one value. A crash between
submission and the write makes the next run read that run's lines again: at most one run's lines are
counted twice, and nothing is lost.
"""
import time

from datadog_checks.base import AgentCheck
from datadog_checks.base.utils.serialization import from_json, to_json

from ..pricing.table import PriceTable, plain_prices
from .pipeline import LogPipeline
from .tailer import LogTailer, TailerOptions

STATE_KEY = 'log_state'
SERVICE_CHECK = 'logs.can_read'
MAX_MESSAGE_FILES = 5


class LogsSource:
    def __init__(self, check, config):
        self.check = check
        self.tags = list(config.tags or ())
        options = TailerOptions(
            log_format=config.log_format,
            start_position=config.start_position,
            max_bytes_per_run=config.max_bytes_per_run,
        )
        self.tailer = LogTailer(list(config.log_paths), options, log=check.log)
        self.pipeline = LogPipeline(
            min_conversation_turns=config.min_conversation_turns,
            conversation_idle_timeout=config.conversation_idle_timeout,
            max_open_conversations=config.max_open_conversations,
            tags=self.tags,
            prices=PriceTable(plain_prices(config.prices)),
            log=check.log,
        )
        self._restored = False

    def run(self):
        """Read what is new, submit it, save the state; return a description of each failure."""
        if not self._restored:
            self._restore()
        for batch in self.tailer.poll():
            self.pipeline.feed(batch.lines)
        self.pipeline.flush(self.check, time.time())
        self._submit_tailer_stats()
        failures = self._submit_can_read()
        self._save()
        return failures

    def _restore(self):
        self._restored = True
        raw = self.check.read_persistent_cache(STATE_KEY)
        if not raw:
            self.tailer.restore(None)
            self.pipeline.restore(None)
            return
        try:
            state = from_json(raw)
            if not isinstance(state, dict):
                raise ValueError('not an object')
        except ValueError as e:
            self.check.log.warning('Discarding unreadable log state (%s); files are read from their end', e)
            state = {}
        # A state without offsets is not a first run: the tailer then reads existing files from their end.
        self.tailer.restore(state.get('tailer') or {'discarded': True})
        self.pipeline.restore(state.get('pipeline'))

    def _save(self):
        state = {'tailer': self.tailer.dump_state(), 'pipeline': self.pipeline.dump_state()}
        self.check.write_persistent_cache(STATE_KEY, to_json(state))

    def _submit_tailer_stats(self):
        stats = self.tailer.stats
        for reason, lines in stats.rejected.items():
            if lines:
                self.check.count('log.unparsed', lines, tags=self.tags + ['reason:{}'.format(reason)])
        self.check.gauge('log.backlog', stats.backlog_bytes, tags=self.tags)

    def _submit_can_read(self):
        errors = self.tailer.errors
        if not errors:
            self.check.service_check(SERVICE_CHECK, AgentCheck.OK, tags=self.tags)
            return []
        shown = '; '.join('{}: {}'.format(path, reason) for path, reason in errors[:MAX_MESSAGE_FILES])
        more = len(errors) - MAX_MESSAGE_FILES
        message = 'cannot read {} agent log file(s): {}{}'.format(
            len(errors), shown, ' (and {} more)'.format(more) if more > 0 else ''
        )
        self.check.service_check(SERVICE_CHECK, AgentCheck.CRITICAL, tags=self.tags, message=message)
        return [message]
