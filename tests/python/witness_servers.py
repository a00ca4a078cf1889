"""Small in-process HTTP servers on 127.0.0.1 for the issue 10 witnesses, written from AWS's documentation (not
from Tarius's code):

- DynamoRecorder: a DynamoDB endpoint that accepts BatchWriteItem for chosen tables itself (answering
  {"UnprocessedItems":{}} with DynamoDB's x-amz-crc32 header) and records, per accepted request, when it arrived
  and the write units of each item (1 KB units, each item rounded up); every other request (DescribeTable, the
  ledger's calls, writes to other tables) is forwarded unchanged to a real emulator (dynalite), or answered with a
  describe of the configured key when there is none.
- S3KeyLimitProxy: a proxy in front of moto that refuses, as S3 does, any request whose object key is longer than
  1,024 bytes (400 KeyTooLongError); moto does not enforce that limit.

Use them as context managers; each serves on its own thread and stops with the block."""
import json
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

S3_MAX_KEY_BYTES = 1024
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection",
                "expect"}


class _server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up mid-request is not news here


def _read_body(handler):
    """The request body (Content-Length or chunked)."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _forward(handler, base_url, body):
    """Sends the request to `base_url` unchanged (method, path, headers, body) and relays the answer."""
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_HEADERS}
    request = urllib.request.Request(base_url + handler.path, data=body if body or handler.command in (
        "POST", "PUT") else None, method=handler.command, headers=headers)
    try:
        with _NO_PROXY.open(request, timeout=120) as response:
            status, answer, out_headers = response.status, response.read(), response.headers.items()
    except urllib.error.HTTPError as e:
        status, answer, out_headers = e.code, e.read(), e.headers.items()
    handler.send_response(status)
    length = str(len(answer))
    for name, value in out_headers:
        if name.lower() == "content-length" and handler.command == "HEAD":
            length = value  # a HEAD answer announces the object's size
        elif name.lower() not in _HOP_HEADERS:
            handler.send_header(name, value)
    handler.send_header("Content-Length", length)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(answer)


def attribute_size(value):
    """The size DynamoDB counts for one attribute value (its documented rules; numbers approximated as
    1 byte per two significant digits plus one)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        digits = v.lstrip("+-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v) * 3 // 4  # base64 in the request
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + attribute_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attribute_size(x) for k, x in v.items())
    raise ValueError("unknown attribute type %r" % kind)


def item_size(item):
    """An item's size as DynamoDB counts it: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(item):
    """Write capacity units of one standard write of `item`: 1 per KB, rounded up."""
    return max(1, math.ceil(item_size(item) / 1024))


class Accepted:
    """One BatchWriteItem request the recorder accepted."""

    def __init__(self, at, items):
        self.at = at  # time.monotonic() when its body had arrived
        self.items = items  # the PutRequest items, in request order
        self.units = [write_units(item) for item in items]

    @property
    def wcu(self):
        return sum(self.units)


class DynamoRecorder:
    """A DynamoDB endpoint recording the writes to `tables` (see the module's docstring)."""

    def __init__(self, tables, forward_url=None, key="ID", record_items=True):
        self.tables = set(tables)
        self.forward_url = forward_url
        self.key = key
        self.record_items = record_items
        self.accepted = []
        self.other_targets = []
        self.lock = threading.Lock()
        self.server = _server(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def items(self):
        """Every accepted item, in acceptance order."""
        with self.lock:
            return [item for request in self.accepted for item in request.items]

    def _is_mine(self, body):
        head = body[:300]
        return any(('"RequestItems":{"%s"' % t).encode() in head.replace(b" ", b"") for t in self.tables)

    def _handler_class(self):
        recorder = self

        class handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))
                self.send_header("x-amzn-RequestId", "recorder-%d" % time.monotonic_ns())
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = _read_body(self)
                target = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                if target == "BatchWriteItem" and recorder._is_mine(body):
                    at = time.monotonic()
                    items, answer = [], {"UnprocessedItems": {}}
                    if recorder.record_items:
                        request = json.loads(body)
                        consumed = []
                        for table, requests in request["RequestItems"].items():
                            mine = [r["PutRequest"]["Item"] for r in requests if "PutRequest" in r]
                            items.extend(mine)
                            consumed.append({"TableName": table, "CapacityUnits": float(
                                sum(write_units(i) for i in mine) + sum(1 for r in requests if "DeleteRequest" in r))})
                        if request.get("ReturnConsumedCapacity", "NONE") != "NONE":
                            answer["ConsumedCapacity"] = consumed  # as DynamoDB answers when asked
                    with recorder.lock:
                        recorder.accepted.append(Accepted(at, items))
                    return self._answer(200, answer)
                with recorder.lock:
                    recorder.other_targets.append(target)
                if recorder.forward_url:
                    return _forward(self, recorder.forward_url, body)
                if target == "DescribeTable":
                    name = json.loads(body)["TableName"]
                    return self._answer(200, {"Table": {
                        "TableName": name, "TableStatus": "ACTIVE",
                        "KeySchema": [{"AttributeName": recorder.key, "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": recorder.key, "AttributeType": "S"}]}})
                return self._answer(400, {"__type": "com.amazon.coral.validate#ValidationException",
                                          "message": "the recorder does not serve " + target})

        return handler


class S3KeyLimitProxy:
    """moto behind S3's 1,024-byte key limit (path-style requests: /bucket/key)."""

    def __init__(self, moto_url):
        self.moto_url = moto_url.rstrip("/")
        self.refused = []  # (method, key) of every refused request
        self.lock = threading.Lock()
        self.server = _server(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def _handler_class(self):
        proxy = self

        class handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                body = _read_body(self)
                path = urllib.parse.urlsplit(self.path).path
                parts = path.split("/", 2)
                key = urllib.parse.unquote(parts[2]) if len(parts) == 3 else ""
                if len(key.encode("utf-8")) > S3_MAX_KEY_BYTES:
                    with proxy.lock:
                        proxy.refused.append((self.command, key))
                    xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>KeyTooLongError</Code>"
                           "<Message>Your key is too long</Message><Size>%d</Size><MaxSizeAllowed>%d"
                           "</MaxSizeAllowed><RequestId>proxy</RequestId></Error>"
                           % (len(key.encode("utf-8")), S3_MAX_KEY_BYTES)).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(xml)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(xml)
                    return
                _forward(self, proxy.moto_url, body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        return handler
