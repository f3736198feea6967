# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
from datadog_checks.base import OpenMetricsBaseCheckV2
from datadog_checks.base.utils.persistent_cache import config_set_persistent_cache_id

from .config_models import ConfigMixin
from .logs.source import LogsSource
from .openmetrics.bounded_http import SourceError
from .openmetrics.scraper import build_scrapers
from .openmetrics.worker_health import WorkerHealth


class LiveKitCheck(OpenMetricsBaseCheckV2, ConfigMixin):
    """Wires the configured sources together; each source lives in its own module.

    Sources: the server, agent worker and SIP OpenMetrics scrapers (`openmetrics/`), the worker
    health server (`openmetrics/worker_health.py`) and the agent log files (`logs/source.py`).
    A failing source never stops the others; the run raises at the end, naming every failure.
    """

    __NAMESPACE__ = 'livekit'
    DEFAULT_METRIC_LIMIT = 0

    def __init__(self, name, init_config, instances):
        super().__init__(name, init_config, instances)
        self.worker_health = None
        self.logs = None

    def configure_scrapers(self):
        # Runs once, after the config models are loaded (replaces the base's single-endpoint setup).
        self.scrapers = build_scrapers(self)
        if self.config.agent_health_endpoint:
            self.worker_health = WorkerHealth(self, self.config.agent_health_endpoint, self.scrapers.get('agent'))
        if self.config.log_paths:
            self.logs = LogsSource(self, self.config)

    def persistent_cache_id(self):
        # Log offsets and open conversations depend on the files read, not on tags or endpoints:
        # editing those must not reset them.
        return config_set_persistent_cache_id(self, instance_config_options=['log_paths'])

    def check(self, _):
        failures = []
        # Worker health first: it gives the agent scraper its `agent_name` tag.
        if self.worker_health is not None:
            failures += self.isolated('worker health', self.worker_health.run)
        for name, scraper in self.scrapers.items():
            with self.adopt_namespace(scraper.namespace):
                failures += self.isolated('{} endpoint'.format(name), scraper.scrape)
        failures += self.isolated('agent logs', self._run_logs)
        if failures:
            raise Exception('{} LiveKit source(s) failed: {}'.format(len(failures), ' | '.join(failures)))

    def _run_logs(self):
        return self.logs.run() if self.logs is not None else []

    def isolated(self, name, run_source):
        """Run one source; its failures as a list, so that one source never stops the others.

        A source's own errors (a dead endpoint, a bad answer) are one line; anything else is a bug
        or a surprise and is logged with its traceback, which a one-line message would hide.
        """
        try:
            return list(run_source() or ())
        except SourceError as e:
            return [str(e)]
        except Exception as e:
            self.log.exception('Unexpected error in the LiveKit %s source', name)
            return ['{} failed unexpectedly: {}: {}'.format(name, type(e).__name__, e)]
