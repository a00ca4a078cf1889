"""A TLS-terminating relay for tests: listens on 127.0.0.1 with a throw-away self-signed certificate (made with the
`openssl` command) and forwards each connection's plain bytes to a local HTTP server (moto, dynalite). AWS endpoints
are HTTPS-only, so this is how the tests reach the local stack over TLS and exercise the TLS stack and CA-bundle
handling of the binaries, which plain-HTTP fakes never touch.

    with tls_relay.certificate(tmp) as cert, tls_relay.relay(cert, 4566) as port:
        ...  # https://127.0.0.1:<port> reaches http://127.0.0.1:4566; trust cert.pem to connect
"""

import contextlib
import os
import socket
import ssl
import subprocess
import threading


class Certificate:
    def __init__(self, cert_path, key_path):
        self.cert_path = cert_path
        self.key_path = key_path

    def pem(self):
        with open(self.cert_path, encoding="ascii") as f:
            return f.read()


@contextlib.contextmanager
def certificate(directory):
    """A self-signed certificate for 127.0.0.1 (and localhost), valid for two days."""
    cert, key = os.path.join(directory, "relay-cert.pem"), os.path.join(directory, "relay-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key, "-out",
                    cert, "-subj", "/CN=tarius test relay", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    yield Certificate(cert, key)


def _pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((sink, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _serve(listener, context, target_port, stopping):
    while not stopping.is_set():
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_handle, args=(client, context, target_port), daemon=True).start()


def _handle(client, context, target_port):
    try:
        tls = context.wrap_socket(client, server_side=True)
    except (ssl.SSLError, OSError):
        client.close()  # the client refused our certificate (the negative tests) or went away
        return
    upstream = socket.create_connection(("127.0.0.1", target_port))
    back = threading.Thread(target=_pump, args=(upstream, tls), daemon=True)
    back.start()
    _pump(tls, upstream)
    back.join(timeout=30)
    tls.close()
    upstream.close()


@contextlib.contextmanager
def relay(cert, target_port):
    """Serves TLS on a free 127.0.0.1 port, relaying to 127.0.0.1:target_port; yields the port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.cert_path, cert.key_path)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stopping = threading.Event()
    thread = threading.Thread(target=_serve, args=(listener, context, target_port, stopping), daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        listener.close()
        thread.join(timeout=5)
