"""A fault-injecting HTTP proxy in front of a real DynamoDB emulator (dynalite), for tests.

Every request is forwarded to the upstream unchanged, except BatchWriteItem, where a seeded fault profile decides,
per request, one of:

- `pass`          forward, answer what the upstream answered;
- `throttle`      answer ProvisionedThroughputExceededException (HTTP 400) without forwarding;
- `throttling`    answer ThrottlingException (HTTP 400) without forwarding;
- `partial`       forward a random subset (at least half, never all) as its own BatchWriteItem and answer the rest
                  as UnprocessedItems, byte for byte as the client sent them, in DynamoDB's shape;
- `error_before`  answer InternalServerError (HTTP 500) without forwarding;
- `error_after`   forward, then answer InternalServerError (the write happened, the client is not told);
- `drop_after`    forward, then close the connection without answering;
- `reset`         reset the connection (RST) without forwarding;
- `reset_after`   forward, then reset the connection;

- `outage`        (every request after the profile's first `outage_after`) answer InternalServerError;

plus, independently, a delay before forwarding (later requests overtake this one) and a delay before answering.
A request holding an item with a string value that contains the profile's `poison` marker is refused as a whole
with a ValidationException and nothing of it is written, as DynamoDB validates a whole request before writing.

Decisions are reproducible: the random generator of a decision is seeded with (seed, SHA-1 of the request body,
how many times this body was seen before), so the order in which concurrent requests arrive does not change what
happens to each one. At most `max_faults` faults the client's SDK retries (errors, drops, resets) hit one body, so
a client that retries at least max_faults + 1 times always gets through. Answers the proxy makes itself carry what
a DynamoDB client expects: Content-Type application/x-amz-json-1.0, x-amzn-RequestId and x-amz-crc32 (CRC32 of
the body as sent).

Every decision is one JSON line in the log (the global one, and the profile's own when it names one): the request
(sequence number, table, body SHA-1, occurrence), the action, the items forwarded, the upstream's status, and for
an answer of HTTP 200 the items acknowledged (`acked`: the processed items as JSON objects) and the consumed
capacity. An `acked` line is written before the answer is sent; a later `delivered` line says the answer was
handed to the client's socket.

Capacity mode (`--capacity W` or a schedule, no upstream): a stand-in for a provisioned table, see
`capacity_table`; `GET /__proxy/capacity` gives its counters.

Profiles are set per table over HTTP at the proxy's own port (requests to `/__proxy/...`, never forwarded):

    POST /__proxy/profile   {"table": "T" or "*", "seed": 7, "throttle": 0.1, ..., "log": "/tmp/t.jsonl"}
    GET  /__proxy/health    200 "ok"

    python3 ddb_fault_proxy.py --upstream http://127.0.0.1:PORT [--port 0] [--log PATH] [--profile JSON]

With --port 0 (the default) the proxy binds a free port and prints it on the first line of stdout.
"""

import argparse
import asyncio
import collections
import email.utils
import hashlib
import json
import os
import random
import re
import signal
import socket
import string
import struct
import sys
import threading
import time
import urllib.parse
import zlib

LOOPBACK = "127.0.0.1"
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "DynamoDB_20120810."

# Actions whose answer is an error, a drop or a reset: the client's SDK retries them (they count against max_faults).
SDK_VISIBLE_FAULTS = ("throttle", "throttling", "error_before", "error_after", "drop_after", "reset", "reset_after")
FAULT_ACTIONS = SDK_VISIBLE_FAULTS + ("partial",)

# DynamoDB's error shapes (the `__type` prefixes and messages DynamoDB sends; dynalite uses the same prefixes).
THROTTLE_ERROR = ("com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                  "The level of configured provisioned throughput for the table was exceeded. "
                  "Consider increasing your provisioning level with the UpdateTable API.")
THROTTLING_ERROR = ("com.amazon.coral.availability#ThrottlingException",
                    "Rate of requests exceeds the allowed throughput.")
INTERNAL_ERROR = ("com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
VALIDATION_TYPE = "com.amazon.coral.validate#ValidationException"

_REQUEST_ID_ALPHABET = string.ascii_uppercase + string.digits
_request_ids = random.Random()  # request ids need not be reproducible


# ----------------------------------------------------------------------------------------------------------------
# JSON spans: where each value sits in the raw bytes, so the proxy can forward and give back items byte for byte.

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_STRUCTURAL = re.compile(rb'["{}\[\]]')
_SCALAR = re.compile(rb'[^,\]}\s]+')
_WS = b" \t\r\n"


class json_span_error(ValueError):
    """The body is not the JSON shape expected (the proxy then forwards it untouched)."""


def _skip_ws(buf, i):
    n = len(buf)
    while i < n and buf[i] in _WS:
        i += 1
    return i


def value_end(buf, i):
    """The index just past the JSON value that starts at buf[i] (no whitespace before it)."""
    if i >= len(buf):
        raise json_span_error("value expected at %d" % i)
    c = buf[i:i + 1]
    if c == b'"':
        m = _STRING.match(buf, i)
        if not m:
            raise json_span_error("unterminated string at %d" % i)
        return m.end()
    if c in (b"{", b"["):
        depth = 0
        pos = i
        while True:
            m = _STRUCTURAL.search(buf, pos)
            if not m:
                raise json_span_error("unterminated container at %d" % i)
            ch = m.group()
            if ch == b'"':
                s = _STRING.match(buf, m.start())
                if not s:
                    raise json_span_error("unterminated string at %d" % m.start())
                pos = s.end()
                continue
            depth += 1 if ch in (b"{", b"[") else -1
            pos = m.end()
            if depth == 0:
                return pos
    m = _SCALAR.match(buf, i)
    if not m:
        raise json_span_error("value expected at %d" % i)
    return m.end()


def object_members(buf, i):
    """[(name, value_start, value_end)] of the JSON object starting at buf[i]; and the index past it."""
    if buf[i:i + 1] != b"{":
        raise json_span_error("object expected at %d" % i)
    members = []
    i = _skip_ws(buf, i + 1)
    if buf[i:i + 1] == b"}":
        return members, i + 1
    while True:
        key_end = value_end(buf, i)
        if buf[i:i + 1] != b'"':
            raise json_span_error("member name expected at %d" % i)
        name = json.loads(buf[i:key_end])
        i = _skip_ws(buf, key_end)
        if buf[i:i + 1] != b":":
            raise json_span_error("':' expected at %d" % i)
        start = _skip_ws(buf, i + 1)
        end = value_end(buf, start)
        members.append((name, start, end))
        i = _skip_ws(buf, end)
        c = buf[i:i + 1]
        if c == b"}":
            return members, i + 1
        if c != b",":
            raise json_span_error("',' or '}' expected at %d" % i)
        i = _skip_ws(buf, i + 1)


def array_elements(buf, i):
    """[(start, end)] of the elements of the JSON array starting at buf[i]; and the index past it."""
    if buf[i:i + 1] != b"[":
        raise json_span_error("array expected at %d" % i)
    elements = []
    i = _skip_ws(buf, i + 1)
    if buf[i:i + 1] == b"]":
        return elements, i + 1
    while True:
        end = value_end(buf, i)
        elements.append((i, end))
        i = _skip_ws(buf, end)
        c = buf[i:i + 1]
        if c == b"]":
            return elements, i + 1
        if c != b",":
            raise json_span_error("',' or ']' expected at %d" % i)
        i = _skip_ws(buf, i + 1)


class batch_request:
    """A BatchWriteItem body taken apart: its write requests as raw byte spans per table, its other members raw."""

    def __init__(self, body):
        self.body = body
        start = _skip_ws(body, 0)
        members, end = object_members(body, start)
        if _skip_ws(body, end) != len(body):
            raise json_span_error("trailing bytes after the body")
        self.others = []  # (name, raw value) of members other than RequestItems, kept for sub-requests
        self.requests = []  # (table, raw bytes of one {"PutRequest": ...} / {"DeleteRequest": ...})
        found = False
        for name, vs, ve in members:
            if name != "RequestItems":
                self.others.append((name, body[vs:ve]))
                continue
            found = True
            tables, _ = object_members(body, vs)
            for table, ts, _te in tables:
                elements, _ = array_elements(body, ts)
                for es, ee in elements:
                    self.requests.append((table, body[es:ee]))
        if not found:
            raise json_span_error("no RequestItems")

    @property
    def tables(self):
        """The table names, in order of first appearance."""
        seen = []
        for table, _ in self.requests:
            if table not in seen:
                seen.append(table)
        return seen


def request_items_json(requests):
    """`{"T":[raw,raw],...}` built from (table, raw) pairs, keeping each raw request byte for byte."""
    by_table = {}
    for table, raw in requests:
        by_table.setdefault(table, []).append(raw)
    parts = []
    for table, raws in by_table.items():
        parts.append(json.dumps(table).encode() + b":[" + b",".join(raws) + b"]")
    return b"{" + b",".join(parts) + b"}"


def sub_request_body(batch, requests):
    """A BatchWriteItem body for a subset of `batch`'s requests, with its other members (ReturnConsumedCapacity)."""
    out = b'{"RequestItems":' + request_items_json(requests)
    for name, raw in batch.others:
        out += b"," + json.dumps(name).encode() + b":" + raw
    return out + b"}"


def item_of(raw_request):
    """The Item (PutRequest) or Key (DeleteRequest) of one raw write request, parsed."""
    parsed = json.loads(raw_request)
    if "PutRequest" in parsed:
        return parsed["PutRequest"].get("Item", {})
    if "DeleteRequest" in parsed:
        return parsed["DeleteRequest"].get("Key", {})
    return {}


def _strings_in(value):
    """Every string inside a DynamoDB attribute value (S, SS, L, M, ...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings_in(v)


def poisoned_attribute(item, marker):
    """The name of the first attribute whose value contains `marker`, else None."""
    if not marker:
        return None
    for name, value in item.items():
        for text in _strings_in(value):
            if marker in text:
                return name
    return None


# ----------------------------------------------------------------------------------------------------------------
# HTTP/1.1, the little of it that DynamoDB clients use.

class http_message:
    """A request or a response: start line, headers (name, value) in order, body bytes."""

    def __init__(self, start_line, headers, body):
        self.start_line = start_line
        self.headers = headers
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


async def read_message(reader, is_response=False, on_expect_continue=None):
    """Reads one HTTP/1.1 message; None at a clean end of stream before its first byte."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            return None
        raise
    lines = head[:-4].split(b"\r\n")
    start_line = lines[0].decode("latin-1")
    headers = []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    msg = http_message(start_line, headers, b"")
    if not is_response and (msg.header("expect") or "").lower() == "100-continue" and on_expect_continue:
        await on_expect_continue()
    if is_response:
        status = int(start_line.split(" ", 2)[1])
        if status in (204, 304) or 100 <= status < 200:
            return msg
    if (msg.header("transfer-encoding") or "").lower() == "chunked":
        chunks = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        msg.body = b"".join(chunks)
    elif msg.header("content-length") is not None:
        msg.body = await reader.readexactly(int(msg.header("content-length")))
    elif is_response:
        msg.body = await reader.read()
    return msg


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect", "te", "trailer",
              "upgrade", "proxy-connection"}


def serialize(start_line, headers, body):
    """The bytes of a message with Content-Length set to the body's length."""
    out = [start_line]
    for k, v in headers:
        if k.lower() not in HOP_BY_HOP:
            out.append("%s: %s" % (k, v))
    out.append("Content-Length: %d" % len(body))
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body


def request_id():
    """A DynamoDB-looking request id: 52 upper-case letters and digits."""
    return "".join(_request_ids.choice(_REQUEST_ID_ALPHABET) for _ in range(52))


def dynamodb_response(status, body, reason=None, rid=None):
    """An answer shaped like DynamoDB's: status line, x-amzn-RequestId, x-amz-crc32 of `body`, JSON 1.0 type."""
    reasons = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}
    headers = [("x-amzn-RequestId", rid or request_id()),
               ("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)),
               ("Content-Type", JSON_CONTENT_TYPE),
               ("Date", email.utils.formatdate(usegmt=True))]
    return serialize("HTTP/1.1 %d %s" % (status, reason or reasons.get(status, "")), headers, body)


def error_body(error_type, message):
    return json.dumps({"__type": error_type, "message": message}, separators=(",", ":")).encode()


# ----------------------------------------------------------------------------------------------------------------
# Profiles and decisions.

PROFILE_DEFAULTS = {
    "seed": 0,
    "throttle": 0.0, "throttling": 0.0, "partial": 0.0, "error_before": 0.0, "error_after": 0.0,
    "drop_after": 0.0, "reset": 0.0, "reset_after": 0.0,
    "delay": 0.0, "delay_max_ms": 0,  # chance and maximum of a delay before forwarding
    "delay_response": 0.0, "delay_response_max_ms": 0,  # the same, before answering
    "poison": "",  # a request holding an item with this in a string value is refused (ValidationException)
    "max_faults": 2,  # SDK-visible faults per request body, at most
    "outage_after": -1,  # when >= 0: every BatchWriteItem after this many is answered InternalServerError
    "log": "",  # this table's own decision log (JSON lines), besides the global one
}


class profile:
    """A fault profile: chances per action (they must add up to at most 1), delays, poison marker, log."""

    def __init__(self, spec=None):
        spec = dict(spec or {})
        spec.pop("table", None)
        unknown = set(spec) - set(PROFILE_DEFAULTS)
        if unknown:
            raise ValueError("unknown profile fields: %s" % ", ".join(sorted(unknown)))
        values = dict(PROFILE_DEFAULTS, **spec)
        for name, value in values.items():
            setattr(self, name, value)
        total = sum(float(values[a]) for a in FAULT_ACTIONS)
        if total > 1.0 + 1e-9:
            raise ValueError("the chances of the actions add up to %.3f > 1" % total)
        self.spec = values
        self.requests = 0  # BatchWriteItem requests seen under this profile

    def choose(self, rng, n_requests, faults_so_far):
        """The action for one request (`pass` when its body had max_faults faults already; `outage` once
        outage_after requests were seen)."""
        roll = rng.random()
        self.requests += 1
        if int(self.outage_after) >= 0 and self.requests > int(self.outage_after):
            return "outage"
        if faults_so_far >= int(self.max_faults):
            return "pass"
        acc = 0.0
        for action in FAULT_ACTIONS:
            acc += float(getattr(self, action))
            if roll < acc:
                if action == "partial" and n_requests < 2:
                    return "pass"  # one item cannot be partly processed (DynamoDB throttles the request instead)
                return action
        return "pass"


class decision_log:
    """JSON lines, one per decision, to a global file and per-table files; thread-safe, flushed per line."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._files = {}
        self.path = path
        self._global = open(path, "a", encoding="utf-8") if path else None

    def write(self, record, table_log=""):
        record = dict(record, t=round(time.time(), 6))
        with self._lock:
            if table_log:
                f = self._files.get(table_log)
                if f is None:
                    f = self._files[table_log] = open(table_log, "a", encoding="utf-8")
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
            if self._global:
                if table_log:  # keep the global log small: no item contents
                    record = {k: v for k, v in record.items() if k not in ("acked", "items")}
                self._global.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._global.flush()

    def close(self):
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            if self._global:
                self._global.close()


# ----------------------------------------------------------------------------------------------------------------
# The proxy.

class connection_closed(Exception):
    """The client's connection was dropped or reset on purpose: stop serving it."""


class fault_proxy:
    """The proxy server: one asyncio task per client connection, one upstream connection per client connection."""

    def __init__(self, upstream, log_path, default_profile=None, capacity=None):
        parsed = urllib.parse.urlsplit(upstream or "")
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.log = decision_log(log_path)
        self.capacity = capacity  # a capacity_table: answer DynamoDB calls here, forward nothing
        self.profiles = {"*": profile(default_profile)}
        self.seen = {}  # body sha1 -> times seen
        self.faults = {}  # body sha1 -> SDK-visible faults so far
        self.sequence = 0
        self.connections = 0

    def profile_for(self, tables):
        for table in tables:
            if table in self.profiles:
                return self.profiles[table]
        return self.profiles["*"]

    # -- serving ------------------------------------------------------------------------------------------------

    async def serve_client(self, reader, writer):
        self.connections += 1
        conn_id = self.connections
        upstream = [None, None]  # reader, writer

        async def expect_continue():
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()

        try:
            while True:
                request = await read_message(reader, on_expect_continue=expect_continue)
                if request is None:
                    break
                keep_alive = (request.header("connection") or "").lower() != "close"
                await self.handle(conn_id, request, writer, upstream)
                if not keep_alive:
                    break
        except (connection_closed, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if upstream[1] is not None:
                upstream[1].close()
            if not writer.is_closing():
                writer.close()

    async def handle(self, conn_id, request, writer, upstream):
        method, target, _ = (request.start_line.split(" ", 2) + ["", ""])[:3]
        if target.startswith("/__proxy/"):
            await self.control(method, target, request, writer)
            return
        operation = (request.header("x-amz-target") or "")
        if self.capacity is not None:
            await self.send(writer, self.capacity_answer(operation, request.body))
            return
        if operation == TARGET_PREFIX + "BatchWriteItem":
            try:
                batch = batch_request(request.body)
            except (json_span_error, ValueError, UnicodeDecodeError):
                batch = None
            if batch is not None and batch.requests:
                await self.batch_write(conn_id, request, batch, writer, upstream)
                return
        response = await self.forward(request, request.body, upstream)
        await self.send(writer, serialize(response.start_line, response.headers, response.body))

    def capacity_answer(self, operation, body):
        """The stand-in table's answer to one DynamoDB call."""
        try:
            if operation == TARGET_PREFIX + "BatchWriteItem":
                batch = batch_request(body)
                asked = any(name == "ReturnConsumedCapacity" and raw.strip(b'"') in (b"TOTAL", b"INDEXES")
                            for name, raw in batch.others)
                status, out = self.capacity.batch_write(batch, asked)
                return dynamodb_response(status, out)
            if operation == TARGET_PREFIX + "DescribeTable":
                return dynamodb_response(200, self.capacity.describe_table(json.loads(body)["TableName"]))
        except (json_span_error, ValueError, KeyError) as e:
            return dynamodb_response(400, error_body(VALIDATION_TYPE, "malformed request: %s" % e))
        return dynamodb_response(400, error_body("com.amazon.coral.service#UnknownOperationException",
                                                 "the capacity stand-in answers BatchWriteItem and DescribeTable"))

    async def control(self, method, target, request, writer):
        path = urllib.parse.urlsplit(target).path
        if path == "/__proxy/health":
            body, status = b"ok", 200
        elif path == "/__proxy/capacity" and self.capacity is not None:
            body, status = self.capacity.stats_json(), 200
        elif path == "/__proxy/profile" and method == "POST":
            try:
                spec = json.loads(request.body)
                self.profiles[spec.get("table", "*")] = profile(spec)
                body, status = b"{}", 200
            except ValueError as e:
                body, status = json.dumps({"error": str(e)}).encode(), 400
        else:
            body, status = b"not found", 404
        await self.send(writer, serialize("HTTP/1.1 %d X" % status, [("Content-Type", "text/plain")], body))

    async def send(self, writer, data):
        writer.write(data)
        await writer.drain()

    async def forward(self, request, body, upstream):
        """Sends `request` with `body` to the upstream on this connection's upstream connection; its answer."""
        for attempt in range(2):  # a kept-alive upstream connection may have closed meanwhile: reconnect once
            if upstream[1] is None or upstream[1].is_closing():
                upstream[0], upstream[1] = await asyncio.open_connection(self.upstream_host, self.upstream_port)
            headers = [(k, v) for k, v in request.headers if k.lower() != "host"]
            headers.insert(0, ("Host", "%s:%d" % (self.upstream_host, self.upstream_port)))
            data = serialize(request.start_line, headers, body)
            try:
                upstream[1].write(data)
                await upstream[1].drain()
                response = await read_message(upstream[0], is_response=True)
                if response is None:
                    raise ConnectionError("upstream closed")
                if (response.header("connection") or "").lower() == "close":
                    upstream[1].close()
                    upstream[1] = None
                return response
            except (ConnectionError, asyncio.IncompleteReadError):
                if upstream[1] is not None:
                    upstream[1].close()
                upstream[1] = None
                if attempt == 1:
                    raise
        raise ConnectionError("unreachable")

    @staticmethod
    def close(writer, reset):
        """Closes the client's connection without an answer: FIN, or RST when `reset`."""
        if reset:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()
        raise connection_closed()

    async def batch_write(self, conn_id, request, batch, writer, upstream):
        self.sequence += 1
        seq = self.sequence
        fp = hashlib.sha1(batch.body).hexdigest()
        occurrence = self.seen.get(fp, 0)
        self.seen[fp] = occurrence + 1
        prof = self.profile_for(batch.tables)
        rng = random.Random("%s|%s|%d" % (prof.seed, fp, occurrence))
        items = [item_of(raw) for _, raw in batch.requests]
        base = {"req": seq, "conn": conn_id, "tables": batch.tables, "sha1": fp, "occurrence": occurrence,
                "n": len(items), "items": items}

        def log(record):
            self.log.write(dict(base, **record), prof.log)

        # DynamoDB validates the whole request first: one refused item refuses the request, nothing is written.
        for index, item in enumerate(items):
            attribute = poisoned_attribute(item, prof.poison)
            if attribute is not None:
                message = ("One or more parameter values were invalid: the value of attribute %s holds the "
                           "refused marker %s" % (attribute, prof.poison))
                log({"action": "refuse", "item_index": index, "status": 400, "message": message})
                await self.send(writer, dynamodb_response(400, error_body(VALIDATION_TYPE, message)))
                return

        action = prof.choose(rng, len(items), self.faults.get(fp, 0))
        if action in SDK_VISIBLE_FAULTS:
            self.faults[fp] = self.faults.get(fp, 0) + 1
        delay = rng.random() < float(prof.delay) and int(prof.delay_max_ms) > 0
        delay_ms = rng.randint(1, int(prof.delay_max_ms)) if delay else 0
        delay_response = rng.random() < float(prof.delay_response) and int(prof.delay_response_max_ms) > 0
        delay_response_ms = rng.randint(1, int(prof.delay_response_max_ms)) if delay_response else 0
        forwarded = list(range(len(items)))
        if action == "partial":
            keep = rng.randint((len(items) + 1) // 2, len(items) - 1)
            forwarded = sorted(rng.sample(range(len(items)), keep))
        base.update(action=action, delay_ms=delay_ms, delay_response_ms=delay_response_ms)

        if delay_ms:
            await asyncio.sleep(delay_ms / 1000.0)
        if action in ("throttle", "throttling", "error_before", "outage"):
            error_type, message = {"throttle": THROTTLE_ERROR, "throttling": THROTTLING_ERROR,
                                   "error_before": INTERNAL_ERROR, "outage": INTERNAL_ERROR}[action]
            status = 400 if action in ("throttle", "throttling") else 500
            log({"forwarded": 0, "status": status})
            if delay_response_ms:
                await asyncio.sleep(delay_response_ms / 1000.0)
            await self.send(writer, dynamodb_response(status, error_body(error_type, message)))
            return
        if action == "reset":
            log({"forwarded": 0, "status": "reset"})
            self.close(writer, reset=True)

        sub = [batch.requests[i] for i in forwarded]
        body = batch.body if action != "partial" else sub_request_body(batch, sub)
        try:
            response = await self.forward(request, body, upstream)
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as e:
            log({"forwarded": len(forwarded), "status": "upstream_failed", "error": str(e)})
            self.close(writer, reset=False)
        status = int(response.start_line.split(" ", 2)[1])
        written = {"forwarded": len(forwarded), "upstream_status": status}
        if delay_response_ms:
            await asyncio.sleep(delay_response_ms / 1000.0)
        if action in ("error_after", "drop_after", "reset_after"):
            log(dict(written, status={"error_after": 500, "drop_after": "dropped",
                                      "reset_after": "reset"}[action]))
            if action == "error_after":
                error_type, message = INTERNAL_ERROR
                await self.send(writer, dynamodb_response(500, error_body(error_type, message)))
                return
            self.close(writer, reset=action == "reset_after")

        if status != 200:
            log(dict(written, status=status, upstream_body=response.body.decode("utf-8", "replace")[:2000]))
            await self.send(writer, serialize(response.start_line, response.headers, response.body))
            return
        answer = json.loads(response.body)
        upstream_unprocessed = answer.pop("UnprocessedItems", {}) or {}
        consumed = answer.get("ConsumedCapacity")
        if any(upstream_unprocessed.values()):
            # The upstream itself left items unprocessed: relay its answer as it is.
            left = [item_of(json.dumps(r)) for reqs in upstream_unprocessed.values() for r in reqs]
            acked = [items[i] for i in forwarded if items[i] not in left]
            data = serialize(response.start_line, response.headers, response.body)
            unprocessed_count = len(items) - len(acked)
        elif action == "partial":
            withheld = [batch.requests[i] for i in range(len(items)) if i not in set(forwarded)]
            out = b'{"UnprocessedItems":' + request_items_json(withheld)
            for name, value in answer.items():
                out += b"," + json.dumps(name).encode() + b":" + json.dumps(value, separators=(",", ":")).encode()
            out += b"}"
            acked = [items[i] for i in forwarded]
            data = dynamodb_response(200, out, rid=response.header("x-amzn-RequestId"))
            unprocessed_count = len(withheld)
        else:
            acked = [items[i] for i in forwarded]
            data = serialize(response.start_line, response.headers, response.body)
            unprocessed_count = 0
        log(dict(written, status=200, acked=acked, unprocessed=unprocessed_count, consumed=consumed))
        await self.send(writer, data)
        self.log.write({"req": seq, "delivered": True}, prof.log)


# ----------------------------------------------------------------------------------------------------------------
# Capacity mode: a stand-in for a provisioned table (issue 13), no upstream and no persistence.

def attribute_value_size(value):
    """Bytes of one attribute value by DynamoDB's documented sizing (strings UTF-8, numbers 1 byte per two
    significant digits plus 1, binaries raw, lists and maps 3 bytes plus 1 per element, null and booleans 1)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        digits = v.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0") or "0"
        return 1 + (len(digits) + 1) // 2
    if kind == "B":
        return len(v) * 3 // 4 - v[-2:].count("=")
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attribute_value_size(x) for k, x in v.items())
    raise ValueError("unknown attribute type %s" % kind)


def item_size(item):
    """Bytes of one item: attribute names plus values."""
    return sum(len(name.encode("utf-8")) + attribute_value_size(value) for name, value in item.items())


def write_units(item):
    """Write units of one put: one per started KB of the item, at least one."""
    return max(1, -(-item_size(item) // 1024))


def parse_schedule(text):
    """"10000" or "0:10000,5:2000,10:10000" (seconds after the first write: write units per second)."""
    steps = []
    for part in text.split(","):
        if ":" in part:
            at, wcu = part.split(":", 1)
        else:
            at, wcu = "0", part
        steps.append((float(at), float(wcu)))
    steps.sort()
    if not steps or steps[0][0] > 0:
        raise ValueError("the schedule must give the capacity at time 0: %r" % text)
    return steps


class capacity_table:
    """A provisioned table as a token bucket of W write units per second (W on a schedule), holding at most
    `burst_seconds` of unused capacity. A BatchWriteItem gets the items, in request order, that the tokens cover;
    the rest comes back as UnprocessedItems (byte for byte); none at all is a ProvisionedThroughputExceededException.
    ConsumedCapacity is returned when asked for. Accepted items are counted, not stored; every second's accepted
    write units go to the log as one JSON line."""

    def __init__(self, schedule, burst_seconds=1.0, key="ID:S", log=None, clock=time.monotonic):
        self.schedule = schedule
        self.burst_seconds = burst_seconds
        self.key_name, _, self.key_type = key.partition(":")
        self.key_type = self.key_type or "S"
        self.log = log
        self.clock = clock
        self.started = None
        self.tokens = 0.0
        self.refilled_at = None
        self.totals = collections.Counter()
        self.seconds = collections.defaultdict(collections.Counter)  # second -> counters
        self.logged_through = -1

    def capacity_at(self, elapsed):
        wcu = self.schedule[0][1]
        for at, value in self.schedule:
            if at <= elapsed:
                wcu = value
        return wcu

    def _refill(self, now):
        if self.started is None:
            self.started = self.refilled_at = now
            self.tokens = self.capacity_at(0) * self.burst_seconds
            return
        elapsed = now - self.started
        rate = self.capacity_at(elapsed)
        self.tokens = min(rate * self.burst_seconds, self.tokens + rate * (now - self.refilled_at))
        self.refilled_at = now

    def batch_write(self, batch, return_consumed):
        """(HTTP status, body) of one BatchWriteItem."""
        now = self.clock()
        self._refill(now)
        second = int(now - self.started)
        stats = self.seconds[second]
        stats["requests"] += 1
        accepted_units = 0.0
        accepted = 0
        withheld = []
        for table, raw in batch.requests:
            units = write_units(item_of(raw))
            if not withheld and self.tokens >= units:
                self.tokens -= units
                accepted_units += units
                accepted += 1
            else:
                withheld.append((table, raw))
        stats["items"] += accepted
        stats["wcu"] += accepted_units
        self.totals["requests"] += 1
        self.totals["items"] += accepted
        self.totals["wcu"] += accepted_units
        stats["capacity"] = self.capacity_at(now - self.started)
        if accepted == 0:
            stats["throttled_requests"] += 1
            self.totals["throttled_requests"] += 1
            return 400, error_body(*THROTTLE_ERROR)
        if withheld:
            stats["partial_requests"] += 1
            self.totals["partial_requests"] += 1
            stats["unprocessed_items"] += len(withheld)
            self.totals["unprocessed_items"] += len(withheld)
        body = b'{"UnprocessedItems":' + request_items_json(withheld)
        if return_consumed:
            consumed = [{"TableName": t, "CapacityUnits": accepted_units} for t in batch.tables[:1]]
            body += b',"ConsumedCapacity":' + json.dumps(consumed, separators=(",", ":")).encode()
        return 200, body + b"}"

    def describe_table(self, name):
        wcu = self.capacity_at(self.clock() - self.started if self.started is not None else 0)
        table = {"TableName": name, "TableStatus": "ACTIVE", "ItemCount": 0,
                 "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/" + name,
                 "KeySchema": [{"AttributeName": self.key_name, "KeyType": "HASH"}],
                 "AttributeDefinitions": [{"AttributeName": self.key_name, "AttributeType": self.key_type}],
                 "BillingModeSummary": {"BillingMode": "PROVISIONED"},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": int(wcu)}}
        return json.dumps({"Table": table}, separators=(",", ":")).encode()

    def flush_log(self, final=False):
        """One line per finished second (every second when `final`)."""
        if self.started is None or self.log is None:
            return
        current = int(self.clock() - self.started)
        last = max(self.seconds) if final and self.seconds else current - 1
        for second in range(self.logged_through + 1, last + 1):
            stats = self.seconds.get(second, collections.Counter())
            self.log.write(dict({"second": second, "capacity": self.capacity_at(second)}, **stats))
        self.logged_through = max(self.logged_through, last)

    def stats_json(self):
        return json.dumps({"totals": self.totals, "seconds": {str(k): v for k, v in sorted(self.seconds.items())},
                           "schedule": self.schedule}).encode()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", help="the DynamoDB endpoint to forward to (dynalite)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one, printed)")
    parser.add_argument("--log", default="", help="decision log (JSON lines)")
    parser.add_argument("--profile", default="{}", help="default fault profile (JSON)")
    parser.add_argument("--capacity", default="",
                        help="capacity mode, no upstream: write units per second, or a schedule "
                             "'0:10000,5:2000,10:10000' (seconds after the first write)")
    parser.add_argument("--burst-seconds", type=float, default=1.0,
                        help="capacity mode: unused capacity kept, in seconds of capacity (default 1)")
    parser.add_argument("--key", default="ID:S", help="capacity mode: the partition key DescribeTable reports")
    args = parser.parse_args(argv)
    if not args.upstream and not args.capacity:
        parser.error("--upstream or --capacity is required")

    log = decision_log(args.log)
    capacity = capacity_table(parse_schedule(args.capacity), args.burst_seconds, args.key, log) \
        if args.capacity else None
    proxy = fault_proxy(args.upstream, "", json.loads(args.profile), capacity)
    proxy.log = log

    async def flush_every_second():
        while True:
            await asyncio.sleep(1.0)
            capacity.flush_log()

    async def run():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        server = await asyncio.start_server(proxy.serve_client, LOOPBACK, args.port, limit=64 << 20, backlog=512)
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write("%d\n" % port)
        sys.stdout.flush()
        if capacity is not None:
            loop.create_task(flush_every_second())
        await stop.wait()
        # Connections still open are cancelled with the loop: that is the end asked for, not an error to print.
        loop.set_exception_handler(lambda *_: None)
        server.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        if capacity is not None:
            capacity.flush_log(final=True)
        log.close()


if __name__ == "__main__":
    main()
