# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Idempotent import of the dashboard and monitors (`livekit-datadog assets import`), with datadog-api-client.

CLI only: `datadog_api_client` is imported inside functions, because the Agent imports this package.

An asset that exists is updated, never duplicated: a monitor matches by name and the `integration:livekit`
tag; a dashboard (whose tags may only be `team:` tags) by title and the `integration:livekit` marker its
description carries. One failing asset never hides the others; the exit status says whether any failed.
"""
import json
from collections import Counter
from functools import partial

from .validate import INTEGRATION_TAG

CREATED, UPDATED, UNCHANGED, FAILED = 'created', 'updated', 'unchanged', 'failed'


def normalize_site(site):
    """`DD_SITE` as users write it (`datadoghq.eu`, `https://app.datadoghq.eu/`, `us3.datadoghq.com`)."""
    site = site.strip().rstrip('/')
    for prefix in ('https://', 'http://'):
        if site.startswith(prefix):
            site = site[len(prefix) :]
    for prefix in ('app.', 'api.'):
        if site.startswith(prefix):
            site = site[len(prefix) :]
    return site


def api_configuration(api_key, app_key, site=None, host=None):
    from datadog_api_client import Configuration

    if host:
        configuration = Configuration(host=host)
    else:
        configuration = Configuration()
        # Server 2 is "https://{subdomain}.{site}" for any Datadog site, including sites newer than the client.
        configuration.server_index = 2
        configuration.server_variables['site'] = normalize_site(site or 'datadoghq.com')
    configuration.api_key['apiKeyAuth'] = api_key
    configuration.api_key['appKeyAuth'] = app_key
    configuration.request_timeout = 60
    return configuration


def api_error_message(error):
    """The API's own words for a failed call, without headers (nothing secret is echoed)."""
    status = getattr(error, 'status', None)
    if status is None:
        return '{}: {}'.format(type(error).__name__, error)
    body = getattr(error, 'body', None)
    if isinstance(body, (bytes, bytearray)):
        body = body.decode('utf-8', 'replace')
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            pass
    if isinstance(body, dict) and body.get('errors'):
        detail = '; '.join(str(e) for e in body['errors'])
    elif body:
        detail = str(body)[:500]
    else:
        detail = ''
    text = '{} {}'.format(status, getattr(error, 'reason', '') or '').strip()
    return '{}: {}'.format(text, detail) if detail else text


def contains(actual, desired):
    """Whether what Datadog holds already has every value we would send (it adds ids and defaults)."""
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(
            value is None and actual.get(key) is None or key in actual and contains(actual[key], value)
            for key, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(actual) != len(desired):
            return False
        if all(isinstance(item, str) for item in desired):
            return sorted(actual) == sorted(desired)
        return all(contains(a, d) for a, d in zip(actual, desired))
    if isinstance(desired, bool) or isinstance(actual, bool):
        return actual is desired
    if isinstance(desired, (int, float)) and isinstance(actual, (int, float)):
        return float(actual) == float(desired)
    return actual == desired


def without_widget_ids(node):
    """Datadog assigns its own widget ids: leave them out of the comparison."""
    if isinstance(node, list):
        return [without_widget_ids(item) for item in node]
    if isinstance(node, dict):
        return {k: without_widget_ids(v) for k, v in node.items() if not (k == 'id' and 'definition' in node)}
    return node


DASHBOARD_FIELDS = ('title', 'description', 'layout_type', 'reflow_type', 'template_variables', 'widgets')
MONITOR_FIELDS = ('name', 'type', 'query', 'message', 'tags', 'options', 'priority')


class Importer:
    def __init__(self, api_key, app_key, site=None, host=None, dry_run=False, out=print):
        self.configuration = api_configuration(api_key, app_key, site, host)
        self.dry_run = dry_run
        self.out = out
        self.outcomes = []
        self.client = None

    def __enter__(self):
        from datadog_api_client import ApiClient

        self.client = ApiClient(self.configuration)
        return self

    def __exit__(self, *exc):
        self.client.close()

    # --- outcomes ---

    def record(self, kind, name, outcome, detail=''):
        self.outcomes.append((kind, name, outcome))
        verb = outcome
        if self.dry_run and outcome in (CREATED, UPDATED):
            verb = 'would be ' + outcome
        line = '{} "{}": {}'.format(kind, name, verb)
        self.out(line + (' ({})'.format(detail) if detail else ''))

    def failed(self, kind, name, error):
        self.record(kind, name, FAILED, api_error_message(error))

    def report(self):
        counts = Counter(outcome for _, _, outcome in self.outcomes)
        prefix = 'dry run, nothing changed: ' if self.dry_run else ''
        self.out(
            '{}{} created, {} updated, {} unchanged, {} failed'.format(
                prefix, counts[CREATED], counts[UPDATED], counts[UNCHANGED], counts[FAILED]
            )
        )
        return 1 if counts[FAILED] else 0

    def _errors(self):
        from datadog_api_client.exceptions import OpenApiException
        from urllib3.exceptions import HTTPError

        # TypeError: the client cannot even build the model (a required field is missing).
        return (OpenApiException, HTTPError, OSError, TypeError)

    def _model(self, payload, model_class):
        return self.client.deserialize(json.dumps(payload), (model_class,), True)

    def _import_all(self, kind, name_key, payloads, list_ours, upsert):
        """`upsert(payload, existing)` for each payload, `existing` from `list_ours()` ({name: [...]}).
        A failed listing fails every payload; a failed upsert only its own."""
        try:
            ours = list_ours()
        except self._errors() as e:
            for payload in payloads:
                self.failed(kind, payload.get(name_key), e)
            return
        for payload in payloads:
            try:
                upsert(payload, ours.get(payload[name_key], []))
            except self._errors() as e:
                self.failed(kind, payload.get(name_key), e)

    # --- dashboards ---

    def import_dashboards(self, dashboards):
        from datadog_api_client.v1.api.dashboards_api import DashboardsApi

        api = DashboardsApi(self.client)
        self._import_all(
            'dashboard',
            'title',
            [payload for _, payload in dashboards],
            partial(self._our_dashboards, api),
            partial(self._upsert_dashboard, api),
        )

    @staticmethod
    def _our_dashboards(api):
        """{title: [id]} of the dashboards whose description carries the integration marker."""
        ours = {}
        for summary in api.list_dashboards_with_pagination(filter_shared=False):
            if INTEGRATION_TAG in (summary.get('description') or ''):
                ours.setdefault(summary.get('title'), []).append(summary.get('id'))
        return ours

    def _upsert_dashboard(self, api, payload, existing_ids):
        from datadog_api_client.v1.model.dashboard import Dashboard

        title = payload['title']
        body = self._model(payload, Dashboard)
        if not existing_ids:
            if self.dry_run:
                return self.record('dashboard', title, CREATED)
            created = api.create_dashboard(body)
            return self.record('dashboard', title, CREATED, 'id {}'.format(created.get('id')))
        dashboard_id = existing_ids[0]
        current = api.get_dashboard(dashboard_id).to_dict()
        desired = {k: payload[k] for k in DASHBOARD_FIELDS if k in payload}
        if contains(without_widget_ids(current), without_widget_ids(desired)):
            return self.record('dashboard', title, UNCHANGED, 'id {}'.format(dashboard_id))
        if not self.dry_run:
            api.update_dashboard(dashboard_id, body)
        self.record('dashboard', title, UPDATED, 'id {}'.format(dashboard_id))

    # --- monitors ---

    def import_monitors(self, monitors):
        from datadog_api_client.v1.api.monitors_api import MonitorsApi

        api = MonitorsApi(self.client)
        self._import_all(
            'monitor',
            'name',
            [asset['definition'] for _, asset in monitors],
            partial(self._our_monitors, api),
            partial(self._upsert_monitor, api),
        )

    @staticmethod
    def _our_monitors(api):
        """{name: [monitor]} of the monitors tagged with the integration tag."""
        ours = {}
        for monitor in api.list_monitors_with_pagination(monitor_tags=INTEGRATION_TAG, page_size=100):
            if INTEGRATION_TAG in (monitor.get('tags') or []):
                ours.setdefault(monitor.get('name'), []).append(monitor)
        return ours

    def _upsert_monitor(self, api, definition, existing):
        from datadog_api_client.v1.model.monitor import Monitor
        from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest

        name = definition['name']
        # The API's own checks (query syntax, thresholds) before anything is written.
        api.validate_monitor(self._model(definition, Monitor))
        if not existing:
            if self.dry_run:
                return self.record('monitor', name, CREATED)
            created = api.create_monitor(self._model(definition, Monitor))
            return self.record('monitor', name, CREATED, 'id {}'.format(created.get('id')))
        current = existing[0]
        desired = {k: definition[k] for k in MONITOR_FIELDS if k in definition}
        if contains(current.to_dict(), desired):
            return self.record('monitor', name, UNCHANGED, 'id {}'.format(current.id))
        if not self.dry_run:
            api.update_monitor(current.id, self._model(definition, MonitorUpdateRequest))
        self.record('monitor', name, UPDATED, 'id {}'.format(current.id))

    # --- percentiles ---

    def enable_percentiles(self, configurations):
        """Apply the plan's metric tag configurations (`plan.metric_tag_configurations`): each metric gets
        percentiles and exactly the plan's queryable tags (an allow-list), created (POST) when it has no
        configuration, updated (PATCH) when its configuration differs. Billed: see `series.billable_series`."""
        from datadog_api_client.v2.api.metrics_api import MetricsApi

        api = MetricsApi(self.client)
        for configuration in configurations:
            metric = configuration['metric']
            try:
                current = self._tag_configuration(api, metric)
                if current is not None and tag_configuration_matches(current, configuration):
                    self.record('percentiles', metric, UNCHANGED)
                    continue
                outcome = CREATED if current is None else UPDATED
                detail = 'queryable tags: {}'.format(', '.join(configuration['tags']) or 'none')
                if self.dry_run:
                    self.record('percentiles', metric, outcome, detail)
                    continue
                if current is None:
                    api.create_tag_configuration(metric, self._tag_create_request(configuration))
                else:
                    api.update_tag_configuration(metric, self._tag_update_request(configuration))
                self.record('percentiles', metric, outcome, detail)
            except self._errors() as e:
                self.failed('percentiles', metric, e)

    def warn_unplanned_percentiles(self, metrics):
        """Say which of `metrics` (distributions outside the plan) still have percentiles on, billed for
        no asset (an earlier `--enable-percentiles` turned them on for every distribution). Changes nothing."""
        from datadog_api_client.v2.api.metrics_api import MetricsApi

        api = MetricsApi(self.client)
        for metric in metrics:
            try:
                current = self._tag_configuration(api, metric)
            except self._errors():
                continue
            if current is not None and current.get('include_percentiles') is True:
                self.out(
                    'percentiles "{}": still on, but no widget or monitor reads it at a percentile '
                    '(billed; turn them off in Metrics Summary)'.format(metric)
                )

    @staticmethod
    def _tag_configuration(api, metric):
        """The attributes of the metric's tag configuration, None when it has none (404)."""
        from datadog_api_client.exceptions import NotFoundException

        try:
            return api.list_tag_configuration_by_name(metric).data.attributes
        except NotFoundException:
            return None

    @staticmethod
    def _tag_create_request(configuration):
        from datadog_api_client.v2.model.metric_tag_configuration_create_attributes import (
            MetricTagConfigurationCreateAttributes,
        )
        from datadog_api_client.v2.model.metric_tag_configuration_create_data import MetricTagConfigurationCreateData
        from datadog_api_client.v2.model.metric_tag_configuration_create_request import (
            MetricTagConfigurationCreateRequest,
        )
        from datadog_api_client.v2.model.metric_tag_configuration_metric_types import MetricTagConfigurationMetricTypes
        from datadog_api_client.v2.model.metric_tag_configuration_type import MetricTagConfigurationType

        return MetricTagConfigurationCreateRequest(
            data=MetricTagConfigurationCreateData(
                id=configuration['metric'],
                type=MetricTagConfigurationType.MANAGE_TAGS,
                attributes=MetricTagConfigurationCreateAttributes(
                    metric_type=MetricTagConfigurationMetricTypes(configuration['metric_type']),
                    include_percentiles=configuration['include_percentiles'],
                    exclude_tags_mode=False,
                    tags=list(configuration['tags']),
                ),
            )
        )

    @staticmethod
    def _tag_update_request(configuration):
        from datadog_api_client.v2.model.metric_tag_configuration_type import MetricTagConfigurationType
        from datadog_api_client.v2.model.metric_tag_configuration_update_attributes import (
            MetricTagConfigurationUpdateAttributes,
        )
        from datadog_api_client.v2.model.metric_tag_configuration_update_data import MetricTagConfigurationUpdateData
        from datadog_api_client.v2.model.metric_tag_configuration_update_request import (
            MetricTagConfigurationUpdateRequest,
        )

        # The metric type of a configuration cannot change: a PATCH carries no `metric_type`.
        return MetricTagConfigurationUpdateRequest(
            data=MetricTagConfigurationUpdateData(
                id=configuration['metric'],
                type=MetricTagConfigurationType.MANAGE_TAGS,
                attributes=MetricTagConfigurationUpdateAttributes(
                    include_percentiles=configuration['include_percentiles'],
                    exclude_tags_mode=False,
                    tags=list(configuration['tags']),
                ),
            )
        )


def tag_configuration_matches(current, configuration):
    """Whether the configuration Datadog holds (its attributes) is the planned one."""
    # Not `metric_type`: a PATCH cannot change it, so comparing it would update forever.
    return (
        current.get('include_percentiles') is configuration['include_percentiles']
        and not current.get('exclude_tags_mode')
        and sorted(current.get('tags') or []) == sorted(configuration['tags'])
    )
