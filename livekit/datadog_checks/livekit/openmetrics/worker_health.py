# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The agent worker's health server (port 8081 by default): `GET /` and `GET /worker`.

`GET /` answers 200 "OK", or 503 with the reason ("failed to connect to livekit", "inference
process not running"; Node: "not connected to livekit"). `GET /worker` answers, in Python, the
`WorkerInfo` proto as JSON, where zero fields are left out: {"worker_type": "JT_ROOM",
"agent_name": "...", "active_jobs": 2, "sdk_version": "1.8.9", "worker_load": 0.42,
"protocol_version": 1}; in Node, a plain object with every field, `"project_type": "nodejs"` and
no load at all.
"""

from time import monotonic

from datadog_checks.base.constants import ServiceCheck
from datadog_checks.base.utils.serialization import json

from . import bounded_http

SERVICE_CHECK = 'agent.health'
MAX_ANSWER_BYTES = 1024 * 1024


class WorkerHealth:
    def __init__(self, check, base_url, agent_scraper=None):
        self.check = check
        self.base_url = base_url.rstrip('/')
        self.display_url = bounded_http.safe_url(self.base_url)
        # With `agent_endpoint` set, load and active jobs come from Prometheus; sending them here
        # too would count them twice, so the scraper gets the `agent_name` tag instead.
        self.agent_scraper = agent_scraper
        self.timeout = bounded_http.request_timeout(check.http)
        self.base_tags = ['endpoint:{}'.format(self.display_url), *(check.config.tags or ())]

    def run(self):
        """Query the worker; send the service check; return the failures (empty when healthy)."""
        failures = []
        tags = list(self.base_tags)
        try:
            info = self.worker_info()
        except bounded_http.SourceError as e:
            failures.append(str(e))
        else:
            tags.extend(self.submit_worker_info(info))
        try:
            self.health()
        except bounded_http.SourceError as e:
            failures.append(str(e))

        status = ServiceCheck.CRITICAL if failures else ServiceCheck.OK
        self.check.service_check(SERVICE_CHECK, status, tags=tags, message='; '.join(failures) or None)
        return failures

    def health(self):
        self.fetch('/')

    def worker_info(self):
        body = self.fetch('/worker')
        url = self.display_url + '/worker'
        try:
            info = json.loads(body)
        except ValueError as e:
            raise bounded_http.SourceError('{}: the answer is not JSON ({})'.format(url, e)) from None
        if not isinstance(info, dict):
            raise bounded_http.SourceError('{}: expected a JSON object, got {}'.format(url, type(info).__name__))
        for field in ('worker_load', 'active_jobs'):
            value = info.get(field, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bounded_http.SourceError('{}: `{}` is not a number: {!r}'.format(url, field, value))
        return info

    def submit_worker_info(self, info):
        """Send version metadata and, without a Prometheus source, load and jobs; return extra tags."""
        tags = []
        agent_name = info.get('agent_name')
        if isinstance(agent_name, str) and agent_name:
            tags.append('agent_name:{}'.format(agent_name))
        sdk_version = info.get('sdk_version')
        if isinstance(sdk_version, str) and sdk_version:
            self.check.set_metadata('version', sdk_version, scheme='semver')

        metric_tags = self.base_tags + tags
        if self.agent_scraper is None:
            # Proto JSON leaves zero values out, so a missing field means 0; Node has no load field.
            if 'worker_load' in info or info.get('project_type') != 'nodejs':
                self.check.gauge('agent.worker.load', info.get('worker_load', 0), tags=metric_tags)
            self.check.gauge('agent.jobs.active', info.get('active_jobs', 0), tags=metric_tags)
        else:
            self.agent_scraper.set_dynamic_tags(*tags)
        return tags

    def fetch(self, path):
        url = self.base_url + path
        deadline = monotonic() + self.timeout
        try:
            with bounded_http.get(self.check.http, url, deadline) as response:
                return bounded_http.read_all(response, deadline, MAX_ANSWER_BYTES)
        except Exception as e:
            raise bounded_http.SourceError(
                '{}{}: {}'.format(self.display_url, path, bounded_http.describe(e, self.timeout))
            ) from None
