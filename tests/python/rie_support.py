"""The real `bootstrap` under AWS's Lambda Runtime Interface Emulator (aws-lambda-rie), an independent Runtime API:
it enforces the function timeout (SIGKILL, "Task timed out after N.00 seconds"), the 6 MiB response limit (413 to
the runtime, Function.ResponseSizeTooLarge to the caller) and the API's state machine (403 on a second post).

    with rie_support.Emulator(env, timeout_s=8) as emu:
        answer = emu.invoke(event)            # one synchronous invocation
        run = emu.run_async(event)            # Lambda's asynchronous invocation, modelled around the emulator

The emulator lacks the Invoke API, asynchronous retries and the dead-letter queue. AWS_ENDPOINT_URL_LAMBDA points
the function at fake_runtime.InvokeApiFake; `run_async` delivers what that fake receives (a continuation's
self-invocation) to the emulator as the next invocation, retries an invocation that ended in an error or a timeout
twice (Lambda's default for asynchronous invocations), then records it as a dead letter.

The emulator runs on 127.0.0.1 at free ports, in a scratch working directory, with LOG_LEVEL=debug so that its
log records the error type it gives each function error ("Sending Error Response: Runtime.Unknown"). The function
inherits the emulator's environment (TARIUS_*, AWS_*, AWS_LAMBDA_FUNCTION_TIMEOUT,
AWS_LAMBDA_FUNCTION_MEMORY_SIZE). stop() ends the emulator by its PID (it SIGKILLs its runtime's process group)
and then every bootstrap PID it was seen running, if one is left.

Environment: TARIUS_LAMBDA_RIE overrides the emulator's path (default ../shared/tools/lambda-rie/aws-lambda-rie
next to the repository), TARIUS_BIN locates bootstrap.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import fake_runtime
import tarius_stack

# Lambda's documented limit for a synchronous response (the emulator allows 100 bytes more).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
FUNCTION_NAME = "tarius-loader"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
_STOP_GRACE_S = 10.0
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_ERROR_TYPE = re.compile(r"Sending (Init )?Error Response: (\S+)")


def emulator_path():
    """aws-lambda-rie: $TARIUS_LAMBDA_RIE, else ../shared/tools/lambda-rie/aws-lambda-rie beside the repository."""
    return os.environ.get("TARIUS_LAMBDA_RIE") or os.path.join(
        os.path.dirname(os.path.abspath(tarius_stack.source_dir())), "shared", "tools", "lambda-rie",
        "aws-lambda-rie")


def bootstrap_path():
    """$TARIUS_BIN/bootstrap."""
    return os.path.join(tarius_stack.bin_dir(), "bootstrap")


def _parent_pid(pid):
    """The parent PID of `pid` from /proc (None if it is gone)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: the fields after the last ')' are fixed.
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def _exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def child_pids(parent):
    """PIDs whose parent is `parent` (a scan of /proc)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and _parent_pid(int(name)) == parent:
            out.append(int(name))
    return sorted(out)


class Answer:
    """What the invoker got for one invocation, plus what the emulator logged while it ran."""

    def __init__(self, status, body, log, runtime_pids):
        self.status = status  # the emulator's HTTP status to the invoker
        self.body = body  # bytes
        self.log = log  # the emulator's log (its own lines and the function's) written during this invocation
        self.runtime_pids = runtime_pids  # bootstrap processes alive right after the answer
        found = _ERROR_TYPE.findall(log)
        # The error type the emulator recorded for a function error ("" when the function answered normally).
        self.recorded_error_type = found[-1][1] if found else ""
        self.init_error = any(init for init, _ in found)

    @property
    def timed_out(self):
        """True when the emulator ended the invocation by its timeout (the runtime was killed)."""
        return self.body.startswith(b"Task timed out after")

    @property
    def too_large(self):
        """True when the emulator refused the function's response as larger than its limit."""
        return b"Function.ResponseSizeTooLarge" in self.body or "Function.ResponseSizeTooLarge" in self.log

    def json(self):
        return json.loads(self.body)

    @property
    def function_error(self):
        """The {"errorType", "errorMessage"} object the function posted as its error, else None."""
        if self.recorded_error_type:
            try:
                parsed = self.json()
            except ValueError:
                return {"errorType": self.recorded_error_type, "errorMessage": self.body.decode("utf-8", "replace")}
            return parsed if isinstance(parsed, dict) else {"errorType": self.recorded_error_type,
                                                            "errorMessage": str(parsed)}
        return None

    @property
    def failed(self):
        """True for an invocation that Lambda counts as failed: a function error, an init error or a timeout."""
        return self.timed_out or bool(self.recorded_error_type) or self.status >= 400

    def __repr__(self):
        return "Answer(status=%d, error=%r, timed_out=%s, body=%r)" % (
            self.status, self.recorded_error_type, self.timed_out, self.body[:300])


class Attempt:
    """One invocation made by run_async."""

    def __init__(self, payload, origin, attempt, answer):
        self.payload = payload
        self.origin = origin  # "event" (the test's) or "self-invoke" (the function's continuation)
        self.attempt = attempt  # 0 for the first delivery, 1 and 2 for Lambda's retries
        self.answer = answer


class AsyncRun:
    """The invocations of one asynchronous event and of its continuations, in order, and the dead letters."""

    def __init__(self):
        self.attempts = []
        self.dead_letters = []  # attempts that failed on their last retry

    @property
    def self_invocations(self):
        return [a for a in self.attempts if a.origin == "self-invoke" and a.attempt == 0]

    def describe(self):
        return [(a.origin, a.attempt, a.answer.status, a.answer.recorded_error_type, a.answer.timed_out,
                 a.answer.body[:200]) for a in self.attempts]


class Emulator:
    """aws-lambda-rie running `bootstrap` with the function environment `env`. Use as a context manager."""

    def __init__(self, env, timeout_s=60, memory_mb=None, bootstrap=None, log_path=None, extra=None):
        self.env = dict(env)
        self.env.pop("AWS_LAMBDA_RUNTIME_API", None)  # the emulator sets it for its runtime
        self.env.update({"AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(timeout_s)), "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
                         "LOG_LEVEL": "debug", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
        if memory_mb is not None:
            self.env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(int(memory_mb))
        self.env.update(extra or {})
        self.timeout_s = int(timeout_s)
        self.bootstrap = bootstrap or bootstrap_path()
        self.own_log = log_path is None
        self.log_path = log_path
        self.process = None
        self.port = None
        self.seen_runtime_pids = []  # every bootstrap PID seen, in order of first sight
        self.invoke_fake = fake_runtime.InvokeApiFake()
        self.workdir = None

    # -- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self, attempts=3):
        """Starts the invoke fake and the emulator (on free ports, retried if another process took one)."""
        for path in (emulator_path(), self.bootstrap):
            if not os.access(path, os.X_OK):
                raise RuntimeError("not executable: %s" % path)
        tarius_stack._keep_loopback_off_proxies()
        self.invoke_fake.__enter__()
        self.env["AWS_ENDPOINT_URL_LAMBDA"] = self.invoke_fake.url
        self.workdir = tempfile.mkdtemp(prefix="tarius-rie-")
        if self.log_path is None:
            self.log_path = os.path.join(self.workdir, "emulator.log")
        last = None
        for _ in range(attempts):
            self.port, runtime_port = tarius_stack.free_port(), tarius_stack.free_port()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [emulator_path(), "--runtime-interface-emulator-address", "127.0.0.1:%d" % self.port,
                     "--runtime-api-address", "127.0.0.1:%d" % runtime_port, self.bootstrap],
                    cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.process.poll() is None:
                if tarius_stack._answers_http("http://127.0.0.1:%d/" % self.port):
                    return self
                time.sleep(0.05)
            last = "the emulator exited with %s or did not answer:\n%s" % (self.process.poll(), self.log_text()[-3000:])
            self._stop_emulator()
        raise RuntimeError(last)

    def _stop_emulator(self):
        if self.process is None:
            return
        self.note_runtime_pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(_STOP_GRACE_S)

    def stop(self):
        """Ends the emulator by its PID, then any bootstrap it ran that is still alive (by PID). Idempotent."""
        try:
            self._stop_emulator()
            for pid in self.seen_runtime_pids:
                if _exe_of(pid) == os.path.realpath(self.bootstrap):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        finally:
            self.invoke_fake.close()
            if self.workdir and not os.environ.get("TARIUS_KEEP_SERVER_LOGS"):
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None

    # -- observing
    def running(self):
        return self.process is not None and self.process.poll() is None

    def runtime_pids(self):
        """The bootstrap processes the emulator runs right now (its children running the bootstrap binary)."""
        if not self.running():
            return []
        real = os.path.realpath(self.bootstrap)
        return [pid for pid in child_pids(self.process.pid) if _exe_of(pid) == real]

    def note_runtime_pids(self):
        pids = self.runtime_pids()
        for pid in pids:
            if pid not in self.seen_runtime_pids:
                self.seen_runtime_pids.append(pid)
        return pids

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, start=0):
        """The emulator's log (its lines and the function's stdout/stderr) from byte `start`."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def init_count(self):
        """How many times the emulator started an init phase (a second one is a cold start)."""
        return self.log_text().count("INIT START")

    # -- invoking
    def invoke(self, payload, wait_s=None):
        """One synchronous invocation (the emulator has no other kind); returns an Answer."""
        data = payload if isinstance(payload, bytes) else (
            payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        start = self.log_size()
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, INVOKE_PATH), data=data,
                                         method="POST", headers={"Content-Type": "application/json"})
        try:
            with _NO_PROXY.open(request, timeout=wait_s or self.timeout_s + 60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        time.sleep(0.05)  # the emulator's END/REPORT lines follow the answer
        pids = self.note_runtime_pids()
        return Answer(status, body, self.log_text(start), pids)

    def run_async(self, event, async_retries=2, max_invocations=60, after_each=None):
        """Lambda's asynchronous invocation of `event` around the emulator: a failed invocation (function error,
        init error, timeout) is retried `async_retries` times and then dead-lettered; every asynchronous
        self-invocation the function makes is delivered as a new invocation. `after_each(attempt)` runs after
        each invocation (e.g. to read the ledger). Returns an AsyncRun."""
        run = AsyncRun()
        pending = [(event, "event", 0)]
        self.invoke_fake.take()
        while pending and len(run.attempts) < max_invocations:
            payload, origin, attempt_no = pending.pop(0)
            answer = self.invoke(payload)
            attempt = Attempt(payload, origin, attempt_no, answer)
            run.attempts.append(attempt)
            if after_each:
                after_each(attempt)
            for _, body in self.invoke_fake.take():
                pending.append((body, "self-invoke", 0))
            if answer.failed:
                if attempt_no < async_retries:
                    pending.append((payload, origin, attempt_no + 1))
                else:
                    run.dead_letters.append(attempt)
        if pending:
            raise AssertionError("still invoking after %d invocations: %r" % (max_invocations, run.describe()))
        return run
