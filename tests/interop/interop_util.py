"""Shared helpers of the Python interop tests: skipping, child processes, free ports.

Every child is started directly (no shell in between), so its PID is the process to stop; the
tests stop their children by that PID in a `finally`, which also runs on SIGTERM (meson's
timeout) because install_signal_handlers() turns SIGTERM/SIGINT into SystemExit. Nothing here
looks processes up by name.
"""
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

SKIP = 77  # meson's "skipped" exit code


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def require_websockets():
    """Imports python3-websockets (Debian's, version 10 or later) or skips the test."""
    try:
        import websockets  # noqa: F401
    except ImportError:
        skip(f"python3-websockets is not importable by {sys.executable} (run scripts/setup)")
    import websockets.version
    major = int(websockets.version.version.split(".")[0])
    if major < 10:
        skip(f"python3-websockets {websockets.version.version} is older than 10")
    return websockets


def require_executable(path, what):
    if not path or not os.access(path, os.X_OK):
        skip(f"{what} not found at {path!r} (run scripts/setup)")


def check(cond, what):
    """Prints one result line; raises on failure (the test ends with exit code 1)."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        raise AssertionError(what)


def install_signal_handlers():
    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def split_at_dashes(args):
    """Splits a command line at its first "--": (the test's own arguments, the rest, which the
    test passes on to the program under test)."""
    if "--" in args:
        i = args.index("--")
        return args[:i], args[i + 1:]
    return args, []


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (for programs that cannot take 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=10.0):
    """Waits until 127.0.0.1:port accepts TCP connections; False if `proc` exits first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class child:
    """A child process whose output lines are collected by a thread (stdout and stderr merged)."""

    def __init__(self, argv, name=None, cwd=None):
        self.name = name or os.path.basename(argv[0])
        self.lines = queue.Queue()
        self.log = []
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=cwd, text=True, bufsize=1)
        self.pid = self.proc.pid
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.log.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, pattern, timeout=10.0):
        """Returns the re.Match of the first new output line matching `pattern`; raises if the
        process ends or the time runs out first."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no line matching {pattern!r} within "
                                     f"{timeout} s; output so far: {self.log}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"{self.name} exited ({self.proc.wait()}) before printing "
                                     f"{pattern!r}; output: {self.log}")
            m = rx.search(line)
            if m:
                return m

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends `sig` to this child's PID and returns its exit code (SIGKILL after `timeout`)."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"{self.name} (pid {self.pid}) ignored signal {sig}: killing it")
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
                return None
        return self.proc.returncode

    def dump(self):
        for line in self.log:
            print(f"  [{self.name}] {line}")


def start_listening_server(argv, name=None, timeout=10.0):
    """Starts a wsx example with --port 0 already in argv and returns (child, port) once it
    printed 'listening on HOST:PORT'."""
    c = child(argv, name)
    try:
        m = c.wait_for_line(r"^listening on (\S+):(\d+)$", timeout)
    except BaseException:  # SystemExit from SIGTERM too: never leave the child behind
        c.dump()
        c.stop()
        raise
    return c, int(m.group(2))


def raw_upgrade(port, target="/", host=None, extra_headers=(), upgrade_headers=True, timeout=5.0):
    """Sends an upgrade request over a plain socket and reads the answer: the head, then the
    body by Content-Length (to EOF without one; nothing after a 101). Returns (status,
    {lower-case name: value}, body)."""
    import base64
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {target} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    if upgrade_headers:
        lines += ["Upgrade: websocket", "Connection: Upgrade"]
    lines += [f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13", *extra_headers]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        headers = {}
        for h in header_lines:
            name, _, value = h.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 101:
            length = int(headers.get("content-length", "-1"))
            while length < 0 or len(body) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
    return status, headers, body.decode("utf-8", errors="replace")


def http_get(port, path, timeout=5.0):
    """A plain HTTP/1.1 GET; returns (status, {lower-case name: value}, body)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        conn.close()


def jwt_hs256(payload, secret):
    """An HS256 JWT for `payload` (a dict) signed with `secret`, as RFC 7519 describes."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = (b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." +
                     b64(json.dumps(payload).encode()))
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(sig)
