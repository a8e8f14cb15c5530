#!/usr/bin/env python3
"""nginx (Debian nginx-light) as a reverse proxy in front of wsx servers: the configurations
docs/nginx.md shows, run against a real nginx.

1. the standard WebSocket block (proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade;
   proxy_set_header Connection "upgrade") in front of the echo server (examples/asio_echo_server
   or examples/libevent_echo_server: the same command line): echoes of every kind and size work
   through it, and the close code comes back;
2. with --chat: the `map $http_upgrade $connection_upgrade` variant in front of examples/chat,
   for a location that serves both the page and the WebSocket: the page and /healthz arrive as
   plain HTTP, the chat works, and with proxy_read_timeout 2s an idle chat connection survives
   5 s because the chat's heartbeat (--ping-interval 1) is shorter than the proxy's read timeout;
3. the standard block with proxy_read_timeout 2s in front of the echo server, whose heartbeat is
   60 s: nginx cuts the idle connection after about 2 s (the client sees 1006);
4. a block that leaves the two headers out: the client gets 426 from wsx through nginx, and the
   body names the missing header ("Upgrade: websocket header missing");
5. a block with the two headers but without proxy_http_version 1.1 (nginx then speaks HTTP/1.0
   upstream): 400, and the body names proxy_http_version 1.1.

Each nginx runs as the current user from a temporary prefix holding its configuration, pid file,
logs and temp paths, on a free port on 127.0.0.1, and is stopped by its PID.

usage: nginx_test.py ECHO_SERVER [--chat CHAT] [--nginx NGINX] [-- CHAT OPTIONS]
"""
import asyncio
import grp
import json
import os
import pwd
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse

import interop_util as u

SECRET = "nginx-test-secret"

STANDARD = """
        location / {
            proxy_pass http://127.0.0.1:BACKEND;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout READ_TIMEOUT;
        }
"""

MAPPED = """
        location / {
            proxy_pass http://127.0.0.1:BACKEND;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout READ_TIMEOUT;
        }
"""

HTTP_1_0 = """
        location / {
            proxy_pass http://127.0.0.1:BACKEND;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }
"""

MISSING_HEADERS = """
        location / {
            proxy_pass http://127.0.0.1:BACKEND;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
        }
"""


def config(prefix, port, backend, location, read_timeout):
    user = ""
    if os.geteuid() == 0:
        # Only a root master switches its workers to another user: keep them as root here.
        user = (f"user {pwd.getpwuid(os.geteuid()).pw_name} "
                f"{grp.getgrgid(os.getegid()).gr_name};")
    return f"""
{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    server {{
        listen 127.0.0.1:{port};
{location.replace("BACKEND", str(backend)).replace("READ_TIMEOUT", read_timeout)}
    }}
}}
"""


class nginx:
    """One nginx master on a free port; tries another port if the one picked was taken."""

    def __init__(self, binary, backend, location, name, read_timeout="75s"):
        self.binary, self.backend, self.location = binary, backend, location
        self.name, self.read_timeout = name, read_timeout
        self.prefix = tempfile.mkdtemp(prefix=f"wsx-nginx-{name}-")
        self.proc = None

    def start(self):
        for _ in range(5):
            self.port = u.free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(config(self.prefix, self.port, self.backend, self.location,
                               self.read_timeout))
            self.proc = u.child([self.binary, "-p", self.prefix + "/", "-c", conf,
                                 "-e", os.path.join(self.prefix, "error.log")],
                                f"nginx-{self.name}")
            if u.wait_for_port(self.port, self.proc.proc, timeout=10):
                return self
            self.proc.stop()
            if "Address already in use" not in self.error_log():
                break
        raise AssertionError(f"nginx ({self.name}) did not start")

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        # SIGQUIT: graceful shutdown of the master (and its worker), by the master's PID.
        rc = self.proc.stop(signal.SIGQUIT) if self.proc else None
        shutil.rmtree(self.prefix, ignore_errors=True)
        return rc


async def echo_through(websockets, port, label):
    async with websockets.connect(f"ws://127.0.0.1:{port}/chat?room=1", ping_interval=None,
                                  max_size=4 * 1024 * 1024) as ws:
        await ws.send("hello through nginx \u2713")
        u.check(await ws.recv() == "hello through nginx \u2713", f"{label}: text echo")
        data = os.urandom(1024 * 1024)
        await ws.send(data)
        u.check(await ws.recv() == data, f"{label}: 1 MiB binary echo")
        for i in range(200):
            await ws.send(f"m{i}")
        got = [await ws.recv() for _ in range(200)]
        u.check(got == [f"m{i}" for i in range(200)], f"{label}: 200 pipelined messages in order")
        pong = await ws.ping(b"proxy ping")
        await asyncio.wait_for(pong, 5)
        u.check(True, f"{label}: ping/pong through the proxy")
        await ws.close(code=4000, reason="bye")
        u.check(ws.close_code == 4000, f"{label}: close code 4000 comes back ({ws.close_code})")


async def chat_through(websockets, port, token):
    url = f"ws://127.0.0.1:{port}/ws?token={urllib.parse.quote(token)}"
    async with websockets.connect(url, ping_interval=None) as ws:
        hello = json.loads(await ws.recv())
        u.check(hello["type"] == "hello" and hello["user"] == "alice",
                f"map block: the chat's WebSocket works through nginx ({hello})")
        # Idle for 5 s with proxy_read_timeout 2s: only the server's heartbeat pings (every 1 s)
        # cross the proxy, and they keep it from timing out. websockets answers them itself.
        await asyncio.sleep(5)
        u.check(ws.open, "map block: an idle connection outlives proxy_read_timeout 2s because "
                         "the heartbeat (1 s) is shorter")
        await ws.send(json.dumps({"type": "room", "text": "still here"}))
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if m["type"] == "room":
                break
        u.check(m["text"] == "still here", "map block: and it still carries messages")


async def cut_by_read_timeout(websockets, port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/", ping_interval=None) as ws:
        start = time.monotonic()
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed:
            pass
        return time.monotonic() - start, ws.close_code


def parse_args(argv):
    """(echo server, chat or None, nginx, the chat's own options) from the command line."""
    args, chat_args = u.split_at_dashes(argv)
    if not args or args[0].startswith("--"):
        return None
    echo_server, chat, binary = args[0], None, shutil.which("nginx") or "/usr/sbin/nginx"
    rest = args[1:]
    while rest:
        if len(rest) < 2 or rest[0] not in ("--chat", "--nginx"):
            return None
        if rest[0] == "--chat":
            chat = rest[1]
        else:
            binary = rest[1]
        rest = rest[2:]
    return echo_server, chat, binary, chat_args


def main():
    u.install_signal_handlers()
    parsed = parse_args(sys.argv[1:])
    if parsed is None:
        print(__doc__)
        return 2
    echo_server, chat, binary, chat_args = parsed
    websockets = u.require_websockets()
    u.require_executable(echo_server, "the echo server")
    if chat:
        u.require_executable(chat, "chat")
    u.require_executable(binary, "nginx (Debian package nginx-light)")

    backends = []
    proxies = []

    def launch(*args, **kwargs):
        p = nginx(binary, *args, **kwargs)
        proxies.append(p)  # before it starts: whatever happens next, the finally stops it
        return p.start()
    try:
        echo, echo_port = u.start_listening_server([echo_server, "--port", "0"])
        backends.append(echo)
        if chat:
            room, chat_port = u.start_listening_server(
                [chat, "--port", "0", "--secret", SECRET, "--ping-interval", "1", *chat_args],
                "chat")
            backends.append(room)

        good = launch(echo_port, STANDARD, "standard")
        asyncio.run(asyncio.wait_for(echo_through(websockets, good.port, "standard block"), 20))
        status, _, body = u.http_get(good.port, "/")
        u.check(status == 426 and "Upgrade: websocket header missing" in body,
                f"standard block: a plain GET still reaches the server as plain HTTP ({status})")

        if chat:
            mapped = launch(chat_port, MAPPED, "map", read_timeout="2s")
            status, headers, body = u.http_get(mapped.port, "/")
            u.check(status == 200 and 'id="online"' in body,
                    "map block: GET / serves the chat page")
            status, _, body = u.http_get(mapped.port, "/healthz")
            u.check(status == 200 and body.strip() == "ok", "map block: GET /healthz → ok")
            token = u.jwt_hs256({"sub": "alice", "exp": int(time.time()) + 600}, SECRET)
            asyncio.run(asyncio.wait_for(chat_through(websockets, mapped.port, token), 20))

        short = launch(echo_port, STANDARD, "short-timeout", read_timeout="2s")
        took, code = asyncio.run(cut_by_read_timeout(websockets, short.port))
        u.check(code == 1006 and 1.5 < took < 5,
                f"proxy_read_timeout 2s with a 60 s heartbeat: nginx cuts the idle connection "
                f"after {took:.1f} s (close {code})")

        bad = launch(echo_port, MISSING_HEADERS, "missing-headers")
        status, headers, body = u.raw_upgrade(bad.port, "/chat")
        print(f"  missing headers: HTTP {status}, body: {body.strip()}")
        u.check(status == 426, f"without the two headers the client gets 426 (got {status})")
        u.check("Upgrade: websocket header missing" in body,
                "the 426 body names the missing header: 'Upgrade: websocket header missing'")
        u.check("proxy_set_header" in body, "the 426 body says how to fix the proxy")

        old = launch(echo_port, HTTP_1_0, "http-1.0")
        status, headers, body = u.raw_upgrade(old.port, "/chat")
        print(f"  without proxy_http_version 1.1: HTTP {status}, body: {body.strip()}")
        u.check(status == 400 and "proxy_http_version 1.1" in body,
                f"without proxy_http_version 1.1 the client gets 400 naming it (got {status})")

        async def refused():
            try:
                async with websockets.connect(f"ws://127.0.0.1:{bad.port}/", open_timeout=5):
                    return None
            except websockets.InvalidStatusCode as e:
                return e.status_code

        code = asyncio.run(refused())
        u.check(code == 426, f"a websockets client through it is refused with 426 (got {code})")
    except BaseException:
        for b in backends:
            b.dump()
        for p in proxies:
            if p.proc:
                p.proc.dump()
            print(p.error_log())
        raise
    finally:
        for p in proxies:
            rc = p.stop()
            print(f"nginx ({p.name}) stopped: exit {rc}")
        codes = [b.stop() for b in backends]
    names = " and ".join(b.name for b in backends)
    u.check(codes == [0] * len(backends), f"{names} exited 0 on SIGTERM (got {codes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
