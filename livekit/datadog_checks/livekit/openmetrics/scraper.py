# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""One OpenMetrics scraper per LiveKit endpoint, each under its own namespace (`livekit.server`, ...).

Differences from the base scraper, all for failing well:
- the health service check is sent once, after the whole answer was read and parsed: OK, or CRITICAL
  with a message naming the endpoint and the reason (the base sends OK as soon as headers arrive);
- the answer is bounded by the instance timeout and a size cap, and must be Prometheus text;
- labels no asset reads are dropped and reserved label names renamed, see `labels.py`;
- histograms go out as distributions without `upper_bound`/`lower_bound` tags, see `build_scrapers`.
"""

from time import monotonic

from datadog_checks.base.checks.openmetrics.v2.scraper import OpenMetricsScraper
from datadog_checks.base.constants import ServiceCheck

from . import bounded_http
from .labels import LabelCleaner
from .metrics import AGENT_METRICS, SERVER_METRICS, SIP_METRICS

# (instance option, source name, metric map); the namespace of a source is `livekit.<source name>`.
SOURCES = (
    ('server_endpoint', 'server', SERVER_METRICS),
    ('agent_endpoint', 'agent', AGENT_METRICS),
    ('sip_endpoint', 'sip', SIP_METRICS),
)
# A busy LiveKit server answers a few MiB. The text parser holds a whole metric family in memory
# (about 8 times its size), so the cap also bounds memory: at most ~130 MB for one 16 MiB family.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
PROMETHEUS_CONTENT_TYPES = ('', 'text/plain', 'application/openmetrics-text')


def build_scrapers(check):
    """{source name: scraper} for every endpoint option set in the instance.

    Histograms go out as distributions without bucket bound tags (`collect_histograms_as_distributions`):
    with `upper_bound`/`lower_bound` tags every bucket would be its own context, 5 billed series per
    bucket. The Agent then tells the buckets of a context apart by their bounds, which needs its
    `submit_histogram_bucket_multi` builtin. Without it (an older Agent, or `process_isolation`),
    the Agent would diff every bucket of a context against the previous bucket's count and submit
    garbage; keeping the bound tags instead would multiply the distributions' cost by their bucket
    count (10 to 20) without anyone asking for it. So there the scrapers skip histograms, and say so
    once, with the reason and the fix; counters, gauges, the health checks and the log source go on.
    """
    opted_in = check.config.high_cardinality_labels or ()
    histograms_unsupported = check.multiple_histogram_buckets_unsupported_reason()
    scrapers = {}
    for option, source, metric_map in SOURCES:
        url = getattr(check.config, option)
        if not url:
            continue
        config = dict(
            check.instance,
            openmetrics_endpoint=url,
            metrics=[metric_map],
            collect_histograms_as_distributions=histograms_unsupported is None,
            tags=list(check.config.tags or ()),
        )
        scrapers[source] = LiveKitScraper(
            check, config, 'livekit.{}'.format(source), opted_in, histograms_unsupported=histograms_unsupported
        )
    if scrapers and histograms_unsupported is not None:
        check.warning(
            'LiveKit histograms (the distributions of %s) are not collected: the Agent builtin '
            '`submit_histogram_bucket_multi`, needed to send them without a tag per bucket, %s. '
            'Counters, gauges and the agent logs are collected as usual.',
            ', '.join('livekit.{}.*'.format(source) for source in scrapers),
            histograms_unsupported,
        )
    return scrapers


class LiveKitScraper(OpenMetricsScraper):
    def __init__(self, check, config, namespace, opted_in_labels, histograms_unsupported=None):
        super().__init__(check, config)
        # The base scraper always takes the check's namespace; each LiveKit source has its own.
        self.namespace = namespace
        self.clean_labels = LabelCleaner(opted_in_labels)
        self.skip_histograms = histograms_unsupported is not None
        self.display_url = bounded_http.safe_url(self.endpoint)
        if self.display_url != self.endpoint:
            self.static_tags = tuple(
                'endpoint:{}'.format(self.display_url) if tag == 'endpoint:{}'.format(self.endpoint) else tag
                for tag in self.static_tags
            )
            self.tags = self.static_tags
        self.timeout = bounded_http.request_timeout(self.http)
        self.deadline = None

    def scrape(self):
        """Scrape once; on any failure send CRITICAL and raise SourceError naming the endpoint."""
        self.deadline = monotonic() + self.timeout
        try:
            super().scrape()
        except Exception as e:
            message = '{}: {}'.format(self.display_url, self.reason(e))
            self.submit_health_check(ServiceCheck.CRITICAL, message=message)
            raise bounded_http.SourceError(message) from None
        self.submit_health_check(ServiceCheck.OK)

    def reason(self, error):
        if isinstance(error, bounded_http.TRANSPORT_ERRORS):
            return bounded_http.describe(error, self.timeout)
        # Anything else was raised by the text parser on a line it could not read.
        return 'the answer is not valid Prometheus text ({}: {})'.format(type(error).__name__, error)

    def parse_metrics(self):
        for metric in super().parse_metrics():
            if self.skip_histograms and metric.type == 'histogram':
                continue
            yield self.clean_labels(metric)

    def stream_connection_lines(self):
        with self.get_connection() as response:
            self._content_type = response.headers.get('Content-Type', '')
            yield from bounded_http.iter_lines(bounded_http.iter_body(response, self.deadline, MAX_ANSWER_BYTES))

    def get_connection(self):
        return bounded_http.get(self.http, self.endpoint, self.deadline, PROMETHEUS_CONTENT_TYPES)
