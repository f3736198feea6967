# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""Real HTTP(S) servers on 127.0.0.1 for the tests: good endpoints and every way an endpoint fails.

`serve({'/metrics': static(...), '/loop': redirect('/loop')})` runs a threaded `http.server` and
yields its base URL. A responder is a function of the request handler that writes the answer.
"""

import contextlib
import datetime
import gzip
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from pathlib import Path

PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8'


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    tls_context = None

    def get_request(self):
        sock, address = super().get_request()
        if self.tls_context is not None:
            # The handshake happens in the handler thread, so a failing client never blocks the server.
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    routes = {}
    stopping = None

    def do_GET(self):
        responder = self.routes.get(self.path.split('?')[0])
        if responder is None:
            return static(b'not found', status=404)(self)
        try:
            responder(self)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # the client gave up, which is what several tests want

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(routes, tls_cert=None):
    """Serve `routes` ({path: responder}); with `tls_cert` (cert, key paths) over HTTPS."""
    stopping = threading.Event()
    handler = type('Handler', (_Handler,), {'routes': routes, 'stopping': stopping})
    server = _Server(('127.0.0.1', 0), handler)
    scheme = 'http'
    if tls_cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls_cert)
        server.tls_context = context
        scheme = 'https'
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield '{}://127.0.0.1:{}'.format(scheme, server.server_port)
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def silent_listener():
    """A port that accepts TCP connections (the kernel completes them) and never answers."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(16)
        yield 'http://127.0.0.1:{}'.format(sock.getsockname()[1])


def closed_port():
    """A port where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return 'http://127.0.0.1:{}'.format(sock.getsockname()[1])


def _headers(handler, status, content_type, length=None, extra=()):
    handler.send_response(status)
    if content_type is not None:
        handler.send_header('Content-Type', content_type)
    if length is None:
        handler.send_header('Connection', 'close')  # the body ends when the connection closes
        handler.close_connection = True
    else:
        handler.send_header('Content-Length', str(length))
    for name, value in extra:
        handler.send_header(name, value)
    handler.end_headers()


def static(body, content_type=PROMETHEUS_TEXT, status=200, headers=()):
    if isinstance(body, str):
        body = body.encode()

    def respond(handler):
        _headers(handler, status, content_type, len(body), headers)
        handler.wfile.write(body)

    return respond


def file(path, content_type=PROMETHEUS_TEXT):
    return static(Path(path).read_bytes(), content_type)


def gzipped(body, content_type=PROMETHEUS_TEXT):
    """`body` compressed, with Content-Encoding: gzip (the client must decompress it)."""
    return static(gzip.compress(body), content_type, headers=[('Content-Encoding', 'gzip')])


def stream(chunk, total=None, content_type=PROMETHEUS_TEXT):
    """`chunk` repeated until `total` bytes were sent, or until the client leaves when `total` is None."""

    def respond(handler):
        _headers(handler, 200, content_type, total)
        sent = 0
        while not handler.stopping.is_set() and (total is None or sent < total):
            piece = chunk if total is None else chunk[: total - sent]
            handler.wfile.write(piece)
            sent += len(piece)

    return respond


def drip(data=b'# ', interval=0.05, content_type=PROMETHEUS_TEXT):
    """A body that never ends: a couple of bytes every `interval` seconds."""

    def respond(handler):
        _headers(handler, 200, content_type)
        while not handler.stopping.is_set():
            handler.wfile.write(data)
            handler.wfile.flush()
            time.sleep(interval)

    return respond


def redirect(location, status=302):
    def respond(handler):
        _headers(handler, status, 'text/plain', 0, [('Location', location)])

    return respond


def self_signed_cert(directory, hostname='127.0.0.1'):
    """Write a self-signed certificate and its key for `hostname`; return (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        alt_name = x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        alt_name = x509.DNSName(hostname)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = Path(directory)
    cert_path, key_path = directory / '{}.crt'.format(hostname), directory / '{}.key'.format(hostname)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)
