"""Local stand-ins for AWS, for Python tests: moto's server (S3, SQS, ...), dynalite (DynamoDB), Tarius's own
fault_server (a DynamoDB stub with scripted faults), ddb_fault_proxy (seeded faults in front of dynalite) and
capacity_table (a provisioned table's capacity), each on 127.0.0.1 at a free port.

Every server is started as one child process and stopped by its PID (SIGTERM, then SIGKILL after a grace period),
also when the test fails: use the servers as context managers, or `stack(...)` for several at once.

    with tarius_stack.stack(moto=True, dynalite=True) as st:
        s3 = tarius_stack.s3_client(st.moto.url)
        ddb = tarius_stack.dynamodb_client(st.dynalite.url)

Environment: TARIUS_BIN (the build's bin/ directory, for fault_server) and TARIUS_SOURCE_DIR (the repository, for
node_modules/dynalite); ctest sets both. Without them the paths are derived from this file's location.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Dummy credentials and region for every client: the stand-ins accept anything, and real credentials from the
# machine must never be picked up by a test.
ACCESS_KEY_ID = "AKIDTARIUSTEST000000"
SECRET_ACCESS_KEY = "tarius-test-secret"
REGION = "us-east-1"

LOOPBACK = "127.0.0.1"
_START_TIMEOUT_S = 60.0
_STOP_GRACE_S = 10.0


def source_dir():
    """The repository root: $TARIUS_SOURCE_DIR, else two levels above this file."""
    env = os.environ.get("TARIUS_SOURCE_DIR")
    if env:
        return env
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bin_dir():
    """The directory holding fault_server and the other test tools: $TARIUS_BIN, else build/dev/bin."""
    return os.environ.get("TARIUS_BIN") or os.path.join(source_dir(), "build", "dev", "bin")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the server may still lose a race for it; callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _keep_loopback_off_proxies():
    """A proxy configured on the machine must not see requests to the local stand-ins (Python honours
    HTTP_PROXY/http_proxy and NO_PROXY/no_proxy for loopback addresses too)."""
    for name in ("NO_PROXY", "no_proxy"):
        current = [p for p in os.environ.get(name, "").split(",") if p]
        for host in (LOOPBACK, "localhost"):
            if host not in current:
                current.append(host)
        os.environ[name] = ",".join(current)


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers_http(url, timeout=1.0):
    """True when something answers HTTP at `url` (any status counts: the server is up)."""
    try:
        with _NO_PROXY_OPENER.open(url, timeout=timeout) as response:
            response.read()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class ServerProcess:
    """One started server: its process, port and URL. stop() ends exactly this PID."""

    def __init__(self, name, process, port, log_path):
        self.name = name
        self.process = process
        self.port = port
        self.log_path = log_path

    @property
    def pid(self):
        """The PID of the server process."""
        return self.process.pid

    @property
    def url(self):
        """http://127.0.0.1:PORT"""
        return "http://%s:%d" % (LOOPBACK, self.port)

    def running(self):
        """True while the process has not exited."""
        return self.process.poll() is None

    def log_tail(self, limit=4000):
        """The end of the server's combined stdout/stderr, for error messages."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_until_answering(self, timeout=_START_TIMEOUT_S, probe_path="/"):
        """Waits until the server answers HTTP; raises RuntimeError if it exits or the timeout passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError("%s exited with %s before answering:\n%s" %
                                   (self.name, self.process.returncode, self.log_tail()))
            if _answers_http(self.url + probe_path):
                return self
            time.sleep(0.1)
        raise RuntimeError("%s did not answer on %s within %.0f s:\n%s" %
                           (self.name, self.url, timeout, self.log_tail()))

    def stop(self):
        """SIGTERM to this PID, SIGKILL after a grace period; reaps it. Idempotent."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=_STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=_STOP_GRACE_S)
        finally:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            if not os.environ.get("TARIUS_KEEP_SERVER_LOGS"):
                with contextlib.suppress(OSError):
                    os.unlink(self.log_path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def _log_file(name):
    handle, path = tempfile.mkstemp(prefix="tarius-%s-" % name, suffix=".log")
    os.close(handle)
    return path


def _spawn(argv, log_path, stdout_to_log=True, **popen_kwargs):
    """Starts `argv` with stderr (and stdout unless piped) appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=log if stdout_to_log else subprocess.PIPE,
                                stderr=subprocess.STDOUT if stdout_to_log else log, **popen_kwargs)


def _start_on_free_port(name, make_argv, probe_path="/", attempts=3, popen_kwargs=None):
    """Starts `make_argv(port)` on a free port, retrying when another process took the port first."""
    last_error = None
    for _ in range(attempts):
        port = free_port()
        log_path = _log_file(name)
        server = ServerProcess(name, _spawn(make_argv(port), log_path, **(popen_kwargs or {})), port, log_path)
        try:
            return server.wait_until_answering(probe_path=probe_path)
        except BaseException as e:  # also KeyboardInterrupt: never leave the child behind
            server.stop()
            last_error = e
            if not isinstance(e, RuntimeError):
                raise
    raise last_error


def start_moto():
    """moto 5.x's standalone server (`python -m moto.server -H 127.0.0.1 -p PORT`, all services on one port)."""
    _keep_loopback_off_proxies()
    env = dict(os.environ)
    # moto must not find real credentials or talk to real AWS; these only label the fake account.
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "AWS_DEFAULT_REGION": REGION})
    return _start_on_free_port(
        "moto", lambda port: [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
        probe_path="/moto-api/", popen_kwargs={"env": env})


def dynalite_cli():
    """Path of dynalite's cli.js in the repository's node_modules."""
    return os.path.join(source_dir(), "node_modules", "dynalite", "cli.js")


def start_dynalite(create_table_ms=0):
    """dynalite (`node cli.js --host 127.0.0.1 --port PORT`), in memory. Tables become ACTIVE after
    `create_table_ms` (dynalite's own default is 500 ms; 0 keeps tests fast)."""
    _keep_loopback_off_proxies()
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise RuntimeError("node is not installed (scripts/setup installs it)")
    cli = dynalite_cli()
    if not os.path.exists(cli):
        raise RuntimeError("dynalite is not installed at %s (run scripts/setup)" % cli)
    ms = str(int(create_table_ms))
    return _start_on_free_port(
        "dynalite", lambda port: [node, cli, "--host", LOOPBACK, "--port", str(port), "--createTableMs", ms,
                                  "--deleteTableMs", ms, "--updateTableMs", ms])


def start_fault_server(*args):
    """Tarius's fault_server with the given flags (e.g. "--faults", "throttle:3"). It binds port 0 itself and
    prints the port, so there is no port race."""
    _keep_loopback_off_proxies()
    exe = os.path.join(bin_dir(), "fault_server")
    if not os.path.exists(exe):
        raise RuntimeError("fault_server not built: %s" % exe)
    log_path = _log_file("fault_server")
    process = _spawn([exe, *args], log_path, stdout_to_log=False)
    server = ServerProcess("fault_server", process, 0, log_path)
    try:
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError("fault_server printed %r instead of its port:\n%s" % (line, server.log_tail()))
        server.port = int(line)
        return server.wait_until_answering()
    except BaseException:
        server.stop()
        raise


def start_capacity_table(*args):
    """tests/tools/capacity_table (a stand-in for a provisioned table: token bucket, partial batches) with the given
    flags (e.g. "--wcu", "0:10000,5:2000"). It binds port 0 itself and prints the port, so there is no port race."""
    _keep_loopback_off_proxies()
    exe = os.path.join(bin_dir(), "capacity_table")
    if not os.path.exists(exe):
        raise RuntimeError("capacity_table not built: %s" % exe)
    log_path = _log_file("capacity_table")
    process = _spawn([exe, *args], log_path, stdout_to_log=False)
    server = ServerProcess("capacity_table", process, 0, log_path)
    try:
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError("capacity_table printed %r instead of its port:\n%s" % (line, server.log_tail()))
        server.port = int(line)
        return server.wait_until_answering(probe_path="/stats")
    except BaseException:
        server.stop()
        raise


def start_ddb_fault_proxy(upstream_url, *args):
    """tests/python/ddb_fault_proxy.py in front of `upstream_url` (dynalite), with the given flags (e.g. "--log",
    PATH, "--profile", JSON). It binds port 0 itself and prints the port, so there is no port race."""
    _keep_loopback_off_proxies()
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ddb_fault_proxy.py")
    log_path = _log_file("ddb_fault_proxy")
    process = _spawn([sys.executable, script, "--upstream", upstream_url, *args], log_path, stdout_to_log=False)
    server = ServerProcess("ddb_fault_proxy", process, 0, log_path)
    try:
        line = process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError("ddb_fault_proxy printed %r instead of its port:\n%s" % (line, server.log_tail()))
        server.port = int(line)
        return server.wait_until_answering(probe_path="/__proxy/health")
    except BaseException:
        server.stop()
        raise


class Stack:
    """The servers started by `stack()`; unused ones are None."""

    def __init__(self):
        self.moto = None
        self.dynalite = None
        self.fault_server = None
        self.ddb_proxy = None

    def servers(self):
        """The started servers."""
        return [s for s in (self.moto, self.dynalite, self.fault_server, self.ddb_proxy) if s is not None]


@contextlib.contextmanager
def stack(moto=False, dynalite=False, fault_server_args=None, ddb_proxy_args=None):
    """Starts the chosen servers and stops every one of them on exit, even on exceptions.
    `fault_server_args`: None for no fault_server, else its argument list (possibly empty).
    `ddb_proxy_args`: None for no fault proxy, else its argument list; the proxy stands in front of dynalite
    (started too)."""
    st = Stack()
    with contextlib.ExitStack() as cleanup:
        if moto:
            st.moto = cleanup.enter_context(start_moto())
        if dynalite or ddb_proxy_args is not None:
            st.dynalite = cleanup.enter_context(start_dynalite())
        if fault_server_args is not None:
            st.fault_server = cleanup.enter_context(start_fault_server(*fault_server_args))
        if ddb_proxy_args is not None:
            st.ddb_proxy = cleanup.enter_context(start_ddb_fault_proxy(st.dynalite.url, *ddb_proxy_args))
        yield st


def _session():
    import boto3

    return boto3.session.Session(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
                                 region_name=REGION)


def client(service, endpoint_url, max_attempts=1, **config):
    """A boto3 client for `service` at `endpoint_url` with the dummy credentials. `max_attempts` counts all
    attempts in botocore's standard retry mode; the default 1 turns retries off so a test sees every fault."""
    import botocore.config

    _keep_loopback_off_proxies()
    # botocore's "max_attempts" counts retries; "total_max_attempts" counts attempts, which is what we mean.
    cfg = botocore.config.Config(retries={"total_max_attempts": max_attempts, "mode": "standard"}, **config)
    return _session().client(service, endpoint_url=endpoint_url, config=cfg)


def s3_client(endpoint_url, **kwargs):
    """An S3 client with path-style addressing (bucket in the path, as moto's server on one port needs)."""
    return client("s3", endpoint_url, s3={"addressing_style": "path"}, **kwargs)


def dynamodb_client(endpoint_url, **kwargs):
    """A DynamoDB client (dynalite or fault_server)."""
    return client("dynamodb", endpoint_url, **kwargs)


def sqs_client(endpoint_url, **kwargs):
    """An SQS client (moto)."""
    return client("sqs", endpoint_url, **kwargs)


def pid_exists(pid):
    """True if a process with this PID exists (zombies included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
