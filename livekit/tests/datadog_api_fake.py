# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""A small stateful stand-in for the Datadog dashboard, monitor and metric tag APIs, on 127.0.0.1.

Prism (the spec-driven mock) answers with fixed examples and keeps no state, so it cannot show that a second
import changes nothing. This fake keeps what it is sent, adds what Datadog adds (ids, option defaults), checks
the auth headers like Datadog (401 without keys, 403 with wrong ones), and can fail chosen calls.
"""
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API_KEY = 'fake-api-key-0123456789abcdef'
APP_KEY = 'fake-app-key-fedcba9876543210'

# What the real API fills in on a monitor it stores.
MONITOR_OPTION_DEFAULTS = {'notify_no_data': False, 'renotify_interval': 0, 'escalation_message': '', 'locked': False}


class FakeDatadog:
    def __init__(self):
        self.dashboards = {}
        self.monitors = {}
        self.tag_configurations = {}
        self.requests = []
        # (method, path, JSON body or None) of every request, in the order of `requests`
        self.bodies = []
        # (method, path regex, name or None) -> (status, body): the next matching calls fail that way.
        self.failures = []
        self._ids = itertools.count(1001)
        self._server = ThreadingHTTPServer(('127.0.0.1', 0), self._handler())
        self.url = 'http://127.0.0.1:{}'.format(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def fail(self, method, path_pattern, status, errors, name=None):
        self.failures.append((method, re.compile(path_pattern), name, status, {'errors': errors}))

    def tag_configuration_writes(self):
        """{metric: (method, attributes)} of the POSTs and PATCHes to /api/v2/metrics/<metric>/tags."""
        found = {}
        for method, path, body in self.bodies:
            match = re.fullmatch(r'/api/v2/metrics/([\w.]+)/tags', path)
            if match and method in ('POST', 'PATCH'):
                found[match.group(1)] = (method, body['data']['attributes'])
        return found

    def writes(self):
        return [(m, p) for m, p, _, _ in self.requests if m in ('POST', 'PUT', 'PATCH', 'DELETE') and 'validate' not in p]

    # --- routing ---

    def handle(self, method, path, query, headers, body):
        self.requests.append((method, path, query, {k.lower(): v for k, v in headers.items()}))
        self.bodies.append((method, path, body))
        api_key, app_key = headers.get('DD-API-KEY'), headers.get('DD-APPLICATION-KEY')
        if not api_key or not app_key:
            return 401, {'errors': ['Unauthorized']}
        if api_key != API_KEY or app_key != APP_KEY:
            return 403, {'errors': ['Forbidden']}
        name = (body or {}).get('name') or (body or {}).get('title')
        for failure in self.failures:
            f_method, f_path, f_name, status, error = failure
            if f_method == method and f_path.search(path) and f_name in (None, name):
                return status, error
        for pattern, route in self.routes():
            match = re.fullmatch(pattern, '{} {}'.format(method, path))
            if match:
                return route(query, body, *match.groups())
        return 404, {'errors': ['Not found']}

    def routes(self):
        return [
            (r'GET /api/v1/dashboard', self.list_dashboards),
            (r'POST /api/v1/dashboard', self.create_dashboard),
            (r'GET /api/v1/dashboard/([\w-]+)', self.get_dashboard),
            (r'PUT /api/v1/dashboard/([\w-]+)', self.update_dashboard),
            (r'GET /api/v1/monitor', self.list_monitors),
            (r'POST /api/v1/monitor/validate', self.validate_monitor),
            (r'POST /api/v1/monitor', self.create_monitor),
            (r'PUT /api/v1/monitor/(\d+)', self.update_monitor),
            (r'GET /api/v2/metrics/([\w.]+)/tags', self.get_tags),
            (r'POST /api/v2/metrics/([\w.]+)/tags', self.create_tags),
            (r'PATCH /api/v2/metrics/([\w.]+)/tags', self.update_tags),
        ]

    # --- dashboards ---

    def _stored_dashboard(self, dashboard_id, body):
        dashboard = dict(body, id=dashboard_id, url='/dashboard/{}'.format(dashboard_id))
        dashboard['widgets'] = with_widget_ids(body.get('widgets', []), self._ids)
        dashboard.setdefault('description', None)
        return dashboard

    def list_dashboards(self, query, body):
        start, count = int(query.get('start', ['0'])[0]), int(query.get('count', ['100'])[0])
        summaries = [
            {k: d.get(k) for k in ('id', 'title', 'description', 'layout_type', 'url')} for d in self.dashboards.values()
        ]
        return 200, {'dashboards': summaries[start : start + count]}

    def create_dashboard(self, query, body):
        dashboard_id = 'lk{}-abc'.format(next(self._ids))
        self.dashboards[dashboard_id] = self._stored_dashboard(dashboard_id, body)
        return 200, self.dashboards[dashboard_id]

    def get_dashboard(self, query, body, dashboard_id):
        if dashboard_id not in self.dashboards:
            return 404, {'errors': ['Dashboard not found']}
        return 200, self.dashboards[dashboard_id]

    def update_dashboard(self, query, body, dashboard_id):
        if dashboard_id not in self.dashboards:
            return 404, {'errors': ['Dashboard not found']}
        self.dashboards[dashboard_id] = self._stored_dashboard(dashboard_id, body)
        return 200, self.dashboards[dashboard_id]

    # --- monitors ---

    def _stored_monitor(self, monitor_id, body):
        monitor = dict(body, id=monitor_id, overall_state='No Data', multi=True)
        monitor['options'] = dict(MONITOR_OPTION_DEFAULTS, **body.get('options', {}))
        monitor.setdefault('priority', None)
        return monitor

    def list_monitors(self, query, body):
        wanted = query.get('monitor_tags', [''])[0]
        page, size = int(query.get('page', ['0'])[0]), int(query.get('page_size', ['100'])[0])
        found = [m for m in self.monitors.values() if not wanted or wanted in m.get('tags', [])]
        return 200, found[page * size : (page + 1) * size]

    def validate_monitor(self, query, body):
        if not body.get('query'):
            return 400, {'errors': ["Invalid monitor: 'query' is required"]}
        return 200, {}

    def create_monitor(self, query, body):
        monitor_id = next(self._ids)
        self.monitors[monitor_id] = self._stored_monitor(monitor_id, body)
        return 200, self.monitors[monitor_id]

    def update_monitor(self, query, body, monitor_id):
        monitor_id = int(monitor_id)
        if monitor_id not in self.monitors:
            return 404, {'errors': ['Monitor not found']}
        self.monitors[monitor_id] = self._stored_monitor(monitor_id, dict(self.monitors[monitor_id], **body))
        return 200, self.monitors[monitor_id]

    # --- metric tag configurations (v2) ---

    def _tag_response(self, metric):
        return {'data': {'id': metric, 'type': 'manage_tags', 'attributes': self.tag_configurations[metric]}}

    def get_tags(self, query, body, metric):
        if metric not in self.tag_configurations:
            return 404, {'errors': ['Tag configuration not found']}
        return 200, self._tag_response(metric)

    def create_tags(self, query, body, metric):
        if metric in self.tag_configurations:
            return 409, {'errors': ['Tag configuration already exists']}
        if body['data'].get('id') != metric or body['data'].get('type') != 'manage_tags':
            return 400, {'errors': ['data.id must be the metric name and data.type manage_tags']}
        self.tag_configurations[metric] = dict(body['data']['attributes'])
        return 201, self._tag_response(metric)

    def update_tags(self, query, body, metric):
        if metric not in self.tag_configurations:
            return 404, {'errors': ['Tag configuration not found']}
        if 'metric_type' in body['data']['attributes']:
            return 400, {'errors': ['metric_type cannot be updated']}
        self.tag_configurations[metric].update(body['data']['attributes'])
        return 200, self._tag_response(metric)

    # --- HTTP plumbing ---

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                url = urlparse(self.path)
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                body = json.loads(raw) if raw else None
                status, payload = fake.handle(self.command, url.path, parse_qs(url.query), dict(self.headers), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        return Handler


def with_widget_ids(widgets, ids):
    """Datadog gives every widget (and every widget of a group) its own id."""
    out = []
    for widget in widgets:
        widget = dict(widget, id=next(ids))
        definition = widget.get('definition', {})
        if 'widgets' in definition:
            widget['definition'] = dict(definition, widgets=with_widget_ids(definition['widgets'], ids))
        out.append(widget)
    return out
