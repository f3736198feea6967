# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Every way an endpoint fails, against real local servers: CRITICAL with the endpoint and the
reason, the run still ends, and the other source of the same instance still submits."""

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from datadog_checks.base.constants import ServiceCheck
from datadog_checks.dev.utils import assert_service_checks
from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.logs.pipeline import LogPipeline
from datadog_checks.livekit.openmetrics.scraper import MAX_ANSWER_BYTES

from . import http_servers

FIXTURES = Path(__file__).parent / 'fixtures' / 'openmetrics'
TIMEOUT = 1  # seconds, the instance `timeout`
COMMENT_LINE = b'# ' + b'x' * 1021 + b'\n'  # valid Prometheus text that the parser skips
COMMENT_BLOCK = COMMENT_LINE * 64
# Faults about size are given time enough to reach the cap on a busy machine.
SLOW_OK = {'timeout': 60}


@pytest.fixture(scope='module')
def healthy_sip():
    with http_servers.serve({'/metrics': http_servers.file(FIXTURES / 'sip.txt')}) as base_url:
        yield base_url + '/metrics'


@contextlib.contextmanager
def endpoint(responder):
    with http_servers.serve({'/metrics': responder}) as base_url:
        yield base_url + '/metrics'


@contextlib.contextmanager
def refused():
    yield http_servers.closed_port() + '/metrics'


@contextlib.contextmanager
def never_answers():
    with http_servers.silent_listener() as base_url:
        yield base_url + '/metrics'


@contextlib.contextmanager
def redirect_loop():
    with http_servers.serve(
        {'/metrics': http_servers.redirect('/again'), '/again': http_servers.redirect('/metrics')}
    ) as url:
        yield url + '/metrics'


@contextlib.contextmanager
def truncated():
    def respond(handler):
        handler.send_response(200)
        handler.send_header('Content-Type', http_servers.PROMETHEUS_TEXT)
        handler.send_header('Content-Length', '5000')
        handler.end_headers()
        handler.wfile.write(b'livekit_sip_available{node_id="x"} 1\n')
        handler.close_connection = True

    with endpoint(respond) as url:
        yield url


FAULTS = {
    'refused': (refused, 'connection refused'),
    'accepts_never_answers': (never_answers, 'no answer within {} s'.format(TIMEOUT)),
    'http_500': (
        lambda: endpoint(http_servers.static('boom: database down', status=500)),
        'HTTP 500 Internal Server Error: boom: database down',
    ),
    'http_404': (lambda: endpoint(http_servers.static('no route', status=404)), 'HTTP 404 Not Found: no route'),
    'garbage_text': (lambda: endpoint(http_servers.static('hello world\n')), 'the answer is not valid Prometheus text'),
    'not_utf8': (lambda: endpoint(http_servers.static(b'\xff\xfe\x00\x81garbage\n')), 'the answer is not UTF-8 text'),
    '100_mb_body': (
        lambda: endpoint(http_servers.stream(COMMENT_BLOCK, total=100 * 1024 * 1024)),
        'the answer is larger than 16 MiB; stopped reading',
        SLOW_OK,
    ),
    'endless_body': (lambda: endpoint(http_servers.stream(COMMENT_BLOCK)), 'the answer is larger than 16 MiB', SLOW_OK),
    'gzip_bomb': (
        lambda: endpoint(http_servers.gzipped(COMMENT_BLOCK * 1024)),
        'the answer is larger than 16 MiB',
        SLOW_OK,
    ),
    'dripping_body': (lambda: endpoint(http_servers.drip()), 'the answer did not complete within the timeout'),
    'truncated_body': (truncated, 'the connection broke while reading the answer'),
    'redirect_loop': (redirect_loop, 'too many redirects'),
    'json_content_type': (
        lambda: endpoint(http_servers.static('{"rooms": 3}', content_type='application/json')),
        "unexpected Content-Type 'application/json' (expected text/plain or application/openmetrics-text)",
    ),
    'html_content_type': (
        lambda: endpoint(http_servers.static('<html>login</html>', content_type='text/html; charset=utf-8')),
        "unexpected Content-Type 'text/html; charset=utf-8'",
    ),
}


def run_with_failing_server(dd_run_check, url, healthy_sip, **options):
    """Run the check with `url` as the server endpoint; return the server's health check message."""
    instance = {'server_endpoint': url, 'sip_endpoint': healthy_sip, 'timeout': TIMEOUT, **options}
    check = LiveKitCheck('livekit', {}, [instance])
    with pytest.raises(Exception) as raised:
        dd_run_check(check)
    return str(raised.value)


def assert_only_server_failed(aggregator, url, reason, run_error):
    [service_check] = aggregator.service_checks('livekit.server.openmetrics.health')
    assert service_check.status == ServiceCheck.CRITICAL
    assert service_check.message.startswith(url + ': '), service_check.message
    assert reason in service_check.message
    assert 'endpoint:' + url in service_check.tags
    # the run's error names the same endpoint and reason, and only that source
    assert '1 LiveKit source(s) failed: ' + service_check.message in run_error
    # the SIP bridge in the same instance was scraped in the same run
    aggregator.assert_service_check('livekit.sip.openmetrics.health', ServiceCheck.OK, count=1)
    aggregator.assert_metric('livekit.sip.calls.active', at_least=1)
    assert not [name for name in aggregator.metric_names if name.startswith('livekit.server.')]
    assert_service_checks(aggregator)


@pytest.mark.parametrize('fault', list(FAULTS))
def test_endpoint_fault(dd_run_check, aggregator, healthy_sip, fault):
    make_endpoint, reason, *options = FAULTS[fault]
    with make_endpoint() as url:
        run_error = run_with_failing_server(dd_run_check, url, healthy_sip, **(options[0] if options else {}))
    assert_only_server_failed(aggregator, url, reason, run_error)


# Runs in a child process and prints how much its peak RSS grew during one check run (Linux: writing
# 5 to /proc/self/clear_refs resets the peak, VmHWM, to the current RSS).
MEASURE_RUN = """
import re, sys
from datadog_checks.livekit import LiveKitCheck
from datadog_checks.livekit.logs.pipeline import LogPipeline

def status(field):
    with open('/proc/self/status') as f:
        return int(re.search(field + r':\\s+(\\d+) kB', f.read()).group(1))

check = LiveKitCheck('livekit', {}, [{'server_endpoint': sys.argv[1], 'timeout': 60}])
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')
before = status('VmRSS')
error = check.run()
print(status('VmHWM') - before)
print(error)
"""


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads the peak RSS from /proc')
def test_memory_stays_bounded_on_a_100_mb_answer():
    with endpoint(http_servers.stream(COMMENT_BLOCK, total=100 * 1024 * 1024)) as url:
        output = subprocess.run(
            [sys.executable, '-c', MEASURE_RUN, url], capture_output=True, text=True, check=True, timeout=300
        ).stdout
    growth_kib, error = output.split('\n', 1)
    assert 'the answer is larger than 16 MiB' in error, error
    # the answer streams through: neither the 100 MB nor the 16 MiB read are ever held at once
    assert int(growth_kib) * 1024 < MAX_ANSWER_BYTES / 4, growth_kib


def test_a_gzip_answer_within_the_cap_is_read(dd_run_check, aggregator):
    with endpoint(http_servers.gzipped((FIXTURES / 'sip.txt').read_bytes())) as url:
        dd_run_check(LiveKitCheck('livekit', {}, [{'sip_endpoint': url}]))
    aggregator.assert_service_check('livekit.sip.openmetrics.health', ServiceCheck.OK, count=1)
    aggregator.assert_metric('livekit.sip.available', value=1, count=1)


def test_basic_auth_password_never_appears(dd_run_check, aggregator, healthy_sip):
    with endpoint(http_servers.static('denied', status=401)) as url:
        run_error = run_with_failing_server(
            dd_run_check, url, healthy_sip, username='scraper', password='s3cret-pa55', auth_type='basic'
        )
    assert_only_server_failed(aggregator, url, 'HTTP 401 Unauthorized: denied', run_error)
    assert 's3cret-pa55' not in run_error


@pytest.fixture(scope='module')
def tls_endpoint(tmp_path_factory):
    cert, key = http_servers.self_signed_cert(tmp_path_factory.mktemp('tls'))
    with http_servers.serve({'/metrics': http_servers.file(FIXTURES / 'server.txt')}, tls_cert=(cert, key)) as url:
        yield url + '/metrics', cert


def test_tls_self_signed_certificate_is_rejected(dd_run_check, aggregator, healthy_sip, tls_endpoint):
    url, _ = tls_endpoint
    run_error = run_with_failing_server(dd_run_check, url, healthy_sip)
    assert_only_server_failed(aggregator, url, 'TLS error: ', run_error)
    assert 'certificate verify failed' in run_error


def test_tls_with_the_ca_of_the_server_works(dd_run_check, aggregator, tls_endpoint):
    url, cert = tls_endpoint
    dd_run_check(LiveKitCheck('livekit', {}, [{'server_endpoint': url, 'tls_ca_cert': cert}]))
    aggregator.assert_service_check('livekit.server.openmetrics.health', ServiceCheck.OK, count=1)
    aggregator.assert_metric('livekit.server.rooms', value=3, count=1)


def test_tls_verification_can_be_turned_off(dd_run_check, aggregator, tls_endpoint):
    url, _ = tls_endpoint
    dd_run_check(
        LiveKitCheck('livekit', {}, [{'server_endpoint': url, 'tls_verify': False, 'tls_ignore_warning': True}])
    )
    aggregator.assert_service_check('livekit.server.openmetrics.health', ServiceCheck.OK, count=1)


def test_tls_certificate_for_another_host_is_rejected(dd_run_check, aggregator, healthy_sip, tmp_path):
    cert, key = http_servers.self_signed_cert(tmp_path, hostname='livekit.example.com')
    with http_servers.serve({'/metrics': http_servers.file(FIXTURES / 'server.txt')}, tls_cert=(cert, key)) as base:
        url = base + '/metrics'
        run_error = run_with_failing_server(dd_run_check, url, healthy_sip, tls_ca_cert=cert)
    assert_only_server_failed(aggregator, url, 'TLS error: ', run_error)
    assert "IP address mismatch" in run_error


def test_https_to_a_plain_http_endpoint(dd_run_check, aggregator, healthy_sip):
    with endpoint(http_servers.file(FIXTURES / 'server.txt')) as plain_url:
        url = plain_url.replace('http://', 'https://')
        run_error = run_with_failing_server(dd_run_check, url, healthy_sip)
    assert_only_server_failed(aggregator, url, 'TLS error: ', run_error)


def test_every_source_fails_and_every_one_is_named(dd_run_check, aggregator):
    server, sip = http_servers.closed_port() + '/metrics', http_servers.closed_port() + '/metrics'
    with endpoint(http_servers.static('nope', status=500)) as agent:
        instance = {'server_endpoint': server, 'sip_endpoint': sip, 'agent_endpoint': agent, 'timeout': TIMEOUT}
        with pytest.raises(Exception) as raised:
            dd_run_check(LiveKitCheck('livekit', {}, [instance]))

    message = str(raised.value)
    assert '3 LiveKit source(s) failed' in message
    for url in (server, sip, agent):
        assert url in message
    for source in ('server', 'sip', 'agent'):
        aggregator.assert_service_check('livekit.{}.openmetrics.health'.format(source), ServiceCheck.CRITICAL, count=1)


def test_a_failed_endpoint_recovers_on_the_next_run(dd_run_check, aggregator):
    answers = [http_servers.static('boom', status=500), http_servers.file(FIXTURES / 'sip.txt')]

    def respond(handler):
        answers[0](handler)

    with endpoint(respond) as url:
        check = LiveKitCheck('livekit', {}, [{'sip_endpoint': url}])
        with pytest.raises(Exception, match='HTTP 500'):
            dd_run_check(check)
        answers.pop(0)
        dd_run_check(check)

    statuses = [sc.status for sc in aggregator.service_checks('livekit.sip.openmetrics.health')]
    assert statuses == [ServiceCheck.CRITICAL, ServiceCheck.OK]
    aggregator.assert_metric('livekit.sip.available', value=1, count=1)


def test_an_unexpected_error_in_a_source_is_logged_with_its_traceback(
    dd_run_check, aggregator, caplog, tmp_path, monkeypatch
):
    """A bug in one source: its traceback in the log, one line in the run's error, the other source goes on;
    an endpoint's own failure stays one line, with no traceback."""
    log = tmp_path / 'agent.log'
    log.write_text('{"message": "starting worker", "level": "INFO", "name": "livekit.agents"}\n')
    server = http_servers.closed_port() + '/metrics'
    with endpoint(http_servers.file(FIXTURES / 'sip.txt')) as sip:
        instance = {'log_paths': [str(log)], 'server_endpoint': server, 'sip_endpoint': sip, 'timeout': TIMEOUT}
        def broken_flush(*_):
            raise KeyError('no such series')

        monkeypatch.setattr(LogPipeline, 'flush', broken_flush)
        with pytest.raises(Exception) as raised:
            dd_run_check(LiveKitCheck('livekit', {}, [instance]))

    message = str(raised.value)
    assert "agent logs failed unexpectedly: KeyError: 'no such series'" in message
    assert server in message
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.getMessage() == 'Unexpected error in the LiveKit agent logs source'
    assert logged.exc_info[0] is KeyError and 'broken_flush' in caplog.text
    aggregator.assert_metric('livekit.sip.available', value=1, count=1)
