"""A fake of the AWS Lambda Runtime API (and of the Lambda Invoke API the function uses to continue itself) on
127.0.0.1, for driving the real `bootstrap` binary in tests and benchmarks.

The protocol follows the Runtime API reference: GET /2018-06-01/runtime/invocation/next blocks until an
invocation is queued and answers with its payload and the Lambda-Runtime-* headers; the function answers with
POST …/{request id}/response or …/{request id}/error (202), or POST /2018-06-01/runtime/init/error at start-up.
POST /2015-03-31/functions/{name}/invocations with X-Amz-Invocation-Type: Event queues a new invocation
(asynchronous self-invocation), as Lambda's Invoke API would. Asynchronous invocations that end in an error are
retried `async_retries` times, then recorded as dead letters, like Lambda's asynchronous invocation."""
import json
import queue
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/2018-06-01"


class _quiet_server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the function was stopped while waiting for its next invocation: expected, not news


class Invocation:
    """One invocation: what was sent and how the function answered."""

    def __init__(self, payload, timeout_s, asynchronous, attempt=0, origin="test"):
        self.request_id = str(uuid.uuid4())
        self.payload = payload if isinstance(payload, str) else json.dumps(payload)
        self.timeout_s = timeout_s
        self.asynchronous = asynchronous
        self.attempt = attempt
        self.origin = origin  # "test" or "self-invoke"
        self.deadline_ms = None
        self.handed_out_at = None
        self.outcome = None  # "response" | "error"
        self.body = None
        self.error_type = None
        self.done = threading.Event()

    def json_body(self):
        return json.loads(self.body)


class FakeRuntime:
    """Start with `with FakeRuntime() as rt:`; point the function at `rt.endpoint` (AWS_LAMBDA_RUNTIME_API) and,
    for self-invocation, AWS_ENDPOINT_URL_LAMBDA at `rt.url`."""

    def __init__(self, timeout_s=900.0, async_retries=2,
                 function_arn="arn:aws:lambda:eu-west-1:123456789012:function:tarius-loader"):
        self.timeout_s = timeout_s
        self.async_retries = async_retries
        self.function_arn = function_arn
        self.pending = queue.Queue()
        self.invocations = []  # every invocation handed out, in order
        self.by_id = {}
        self.self_invocations = []  # payloads received on the Invoke API
        self.dead_letters = []  # async invocations that failed every attempt
        self.init_errors = []  # (error type header, body)
        self.first_next_at = None  # time.monotonic() of the first GET next
        self.first_response_at = None
        self.lock = threading.Lock()
        self.server = _quiet_server(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.closed = False

    # -- lifecycle
    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.server.shutdown()
            self.server.server_close()

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    @property
    def url(self):
        return "http://" + self.endpoint

    # -- driving
    def invoke(self, payload, asynchronous=True, timeout_s=None):
        """Queues an invocation and returns it (wait with `inv.done.wait()` or `wait_idle`)."""
        inv = Invocation(payload, timeout_s or self.timeout_s, asynchronous)
        self.pending.put(inv)
        return inv

    def invoke_and_wait(self, payload, asynchronous=False, timeout_s=None, wait_s=120):
        inv = self.invoke(payload, asynchronous, timeout_s)
        if not inv.done.wait(wait_s):
            raise AssertionError("the function did not answer invocation %s within %ss" % (inv.request_id, wait_s))
        return inv

    def wait_idle(self, wait_s=300, settle_s=0.5):
        """Waits until no invocation is queued or running (self-invocations and retries included)."""
        end = time.monotonic() + wait_s
        while time.monotonic() < end:
            with self.lock:
                running = [i for i in self.invocations if not i.done.is_set()]
            if self.pending.empty() and not running:
                time.sleep(settle_s)  # a self-invocation may be on its way
                with self.lock:
                    running = [i for i in self.invocations if not i.done.is_set()]
                if self.pending.empty() and not running:
                    return
            time.sleep(0.05)
        raise AssertionError("the function was still busy after %ss" % wait_s)

    # -- the HTTP side
    def _next(self):
        while not self.closed:
            try:
                inv = self.pending.get(timeout=0.2)
            except queue.Empty:
                continue
            now = time.time()
            inv.deadline_ms = int((now + inv.timeout_s) * 1000)
            inv.handed_out_at = time.monotonic()
            with self.lock:
                self.invocations.append(inv)
                self.by_id[inv.request_id] = inv
            return inv
        return None

    def _finish(self, request_id, outcome, body, error_type=None):
        with self.lock:
            inv = self.by_id.get(request_id)
        if inv is None or inv.done.is_set():
            return 400
        inv.outcome, inv.body, inv.error_type = outcome, body, error_type
        if self.first_response_at is None:
            self.first_response_at = time.monotonic()
        if outcome == "error" and inv.asynchronous:
            if inv.attempt < self.async_retries:
                retry = Invocation(inv.payload, inv.timeout_s, True, inv.attempt + 1, inv.origin)
                self.pending.put(retry)
            else:
                self.dead_letters.append(inv)
        inv.done.set()
        return 202

    def _handler_class(self):
        fake = self

        class handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length).decode()

            def do_GET(self):
                if self.path != API + "/runtime/invocation/next":
                    return self._reply(404, b'{"errorType":"NotFound"}')
                if fake.first_next_at is None:
                    fake.first_next_at = time.monotonic()
                inv = fake._next()
                if inv is None:
                    return self._reply(500, b"shutting down")
                self._reply(200, inv.payload.encode(), [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn", fake.function_arn),
                    ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
                ])

            def do_POST(self):
                body = self._body()
                parts = self.path.split("/")
                if self.path == API + "/runtime/init/error":
                    fake.init_errors.append((self.headers.get("Lambda-Runtime-Function-Error-Type"), body))
                    return self._reply(202, b'{"status":"OK"}')
                if self.path.startswith(API + "/runtime/invocation/") and len(parts) == 6:
                    request_id, what = parts[4], parts[5]
                    if what == "response":
                        status = fake._finish(request_id, "response", body)
                    elif what == "error":
                        status = fake._finish(request_id, "error", body,
                                              self.headers.get("Lambda-Runtime-Function-Error-Type"))
                    else:
                        status = 404
                    return self._reply(status, b'{"status":"OK"}' if status == 202 else b'{"errorType":"Bad"}')
                if self.path.startswith("/2015-03-31/functions/") and self.path.endswith("/invocations"):
                    if self.headers.get("X-Amz-Invocation-Type") != "Event":
                        return self._reply(400, b'{"message":"only Event invocations are faked"}')
                    fake.self_invocations.append(body)
                    inv = Invocation(body, fake.timeout_s, True, origin="self-invoke")
                    fake.pending.put(inv)
                    return self._reply(202, b"", [("x-amzn-RequestId", inv.request_id)])
                return self._reply(404, b'{"errorType":"NotFound"}')

        return handler


class InvokeApiFake:
    """Lambda's Invoke API alone, on 127.0.0.1 at a free port: for a function run by a Runtime API that lacks it
    (AWS's emulator). Point AWS_ENDPOINT_URL_LAMBDA at `url`. Each asynchronous Invoke
    (POST /2015-03-31/functions/{name or ARN}/invocations, X-Amz-Invocation-Type: Event) is answered 202 and
    recorded as (function, payload); `take()` hands over those not taken yet, in arrival order. Other invocation
    types are refused with 400 (the function must never wait on itself)."""

    def __init__(self):
        self.received = []  # every (function, payload, headers) in arrival order
        self.refused = []  # (path, invocation type) of the requests answered 400
        self._taken = 0
        self.lock = threading.Lock()
        self.server = _quiet_server(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.closed = False

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def take(self):
        """The (function, payload) pairs received since the last call, in arrival order."""
        with self.lock:
            out = [(f, p) for f, p, _ in self.received[self._taken:]]
            self._taken = len(self.received)
        return out

    def _handler_class(self):
        fake = self

        class handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                parts = self.path.split("?")[0].split("/")
                if len(parts) != 5 or parts[1:3] != ["2015-03-31", "functions"] or parts[4] != "invocations":
                    return self._reply(404, b'{"message":"not the Invoke API"}')
                kind = self.headers.get("X-Amz-Invocation-Type")
                if kind != "Event":
                    with fake.lock:
                        fake.refused.append((self.path, kind))
                    return self._reply(400, b'{"message":"only Event invocations are faked"}')
                function = urllib.parse.unquote(parts[3])
                with fake.lock:
                    fake.received.append((function, body, dict(self.headers)))
                return self._reply(202, b"", [("x-amzn-RequestId", str(uuid.uuid4()))])

        return handler
