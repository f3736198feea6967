# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""HTTP reads that end: a total deadline and a size cap for every answer, and readable failure reasons.

`requests` only bounds each socket read, so an endpoint that drips a byte a second, or never stops
sending, would hold the check forever and fill its memory. Here the body is read one socket read at
a time, the socket timeout is shortened to what is left of the deadline, and reading stops at the cap.
"""

import codecs
import re
import socket
from time import monotonic
from urllib.parse import urlsplit, urlunsplit

from requests import exceptions as requests_errors
from urllib3 import exceptions as urllib3_errors

READ_SIZE = 65536


class SourceError(Exception):
    """A source failed; the message names the endpoint and the reason, ready for a service check."""


class EndpointFailure(Exception):
    """A reason found by this module (status, size, deadline, content type, encoding)."""


# What fetching and reading can raise; anything else comes from parsing the answer.
TRANSPORT_ERRORS = (
    SourceError,
    EndpointFailure,
    requests_errors.RequestException,
    urllib3_errors.HTTPError,
    OSError,
)


def safe_url(url):
    """The URL without credentials (`http://user:pass@host` -> `http://host`), for tags and messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ''
    if ':' in host:
        host = '[{}]'.format(host)
    if parts.port is not None:
        host = '{}:{}'.format(host, parts.port)
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def request_timeout(http):
    """The instance's read timeout (`timeout` unless `read_timeout` is set): the budget of one answer."""
    return float(http.options['timeout'][1])


def get(http, url, deadline, accepted_types=None):
    """GET `url` for streaming; fail on an error status or on a Content-Type outside `accepted_types`."""
    response = http.get(url, stream=True)
    try:
        if response.status_code >= 400:
            excerpt = read_excerpt(response, deadline)
            raise EndpointFailure(
                'HTTP {} {}{}'.format(response.status_code, response.reason or '', ': ' + excerpt if excerpt else '')
            )
        if accepted_types is not None:
            content_type = response.headers.get('Content-Type', '')
            if content_type.split(';')[0].strip().lower() not in accepted_types:
                raise EndpointFailure(
                    'unexpected Content-Type {!r} (expected {})'.format(
                        content_type, ' or '.join(t for t in accepted_types if t)
                    )
                )
    except BaseException:
        response.close()
        raise
    return response


def iter_body(response, deadline, max_bytes):
    """Yield the decoded body in chunks; stop with EndpointFailure past `max_bytes` or the deadline."""
    raw = response.raw
    sock = getattr(getattr(raw, 'connection', None), 'sock', None)
    total = 0
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise incomplete(total)
        if sock is not None:
            sock.settimeout(remaining)
        try:
            chunk = raw.read1(READ_SIZE, decode_content=True)
        except urllib3_errors.ReadTimeoutError:
            if monotonic() >= deadline:
                raise incomplete(total) from None
            raise
        if not chunk:
            return
        total += len(chunk)
        if total > max_bytes:
            raise EndpointFailure('the answer is larger than {}; stopped reading'.format(format_size(max_bytes)))
        yield chunk


def incomplete(bytes_read):
    return EndpointFailure('the answer did not complete within the timeout ({} bytes read)'.format(bytes_read))


def iter_lines(chunks):
    """Split UTF-8 chunks into lines without their line ends."""
    decoder = codecs.getincrementaldecoder('utf-8')()
    pending = ''
    try:
        for chunk in chunks:
            pending += decoder.decode(chunk)
            *lines, pending = pending.split('\n')
            for line in lines:
                yield line[:-1] if line.endswith('\r') else line
        pending += decoder.decode(b'', final=True)
    except UnicodeDecodeError as e:
        raise EndpointFailure('the answer is not UTF-8 text ({})'.format(e.reason)) from None
    if pending:
        yield pending


def read_all(response, deadline, max_bytes):
    return b''.join(iter_body(response, deadline, max_bytes))


def read_excerpt(response, deadline, size=200):
    """The start of an error body, printable, for the message; never fails."""
    try:
        body = read_all(response, deadline, 64 * 1024)
    except Exception:
        return ''
    text = body.decode('utf-8', 'replace')
    return re.sub(r'\s+', ' ', ''.join(c if c.isprintable() or c.isspace() else '?' for c in text)).strip()[:size]


def format_size(size):
    return '{:g} MiB'.format(size / 1024 / 1024) if size >= 1024 * 1024 else '{} bytes'.format(size)


def describe(error, timeout):
    """A short reason for an exception raised while fetching or reading an endpoint."""
    if isinstance(error, (EndpointFailure, SourceError)):
        return str(error)
    if isinstance(error, requests_errors.SSLError):
        return 'TLS error: {}'.format(innermost(error))
    if isinstance(error, requests_errors.ConnectTimeout):
        return 'connection timed out ({})'.format(innermost(error))
    if isinstance(error, (requests_errors.ReadTimeout, urllib3_errors.ReadTimeoutError, socket.timeout)):
        return 'no answer within {:g} s'.format(timeout)
    if isinstance(error, requests_errors.TooManyRedirects):
        return 'too many redirects ({})'.format(error)
    if isinstance(error, requests_errors.ConnectionError):
        reason = innermost(error)
        if 'refused' in reason.lower():
            return 'connection refused ({})'.format(reason)
        return 'connection failed: {}'.format(reason)
    if isinstance(error, (urllib3_errors.ProtocolError, requests_errors.ChunkedEncodingError)):
        return 'the connection broke while reading the answer: {}'.format(innermost(error))
    if isinstance(error, (urllib3_errors.DecodeError, requests_errors.ContentDecodingError)):
        return 'the answer could not be decompressed: {}'.format(innermost(error))
    if isinstance(error, requests_errors.InvalidURL):
        return 'invalid URL: {}'.format(error)
    return '{}: {}'.format(type(error).__name__, error)


def innermost(error):
    """The message of the deepest cause (the OS or TLS error), without urllib3's object reprs."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        nested = (
            getattr(error, 'reason', None)
            or error.__cause__
            or next((arg for arg in getattr(error, 'args', ()) if isinstance(arg, BaseException)), None)
        )
        if not isinstance(nested, BaseException):
            break
        error = nested
    message = str(error)
    # urllib3 prefixes "<urllib3.connection.HTTPConnection object at 0x...>: "
    return re.sub(r'^<[^>]+>:\s*', '', message)
