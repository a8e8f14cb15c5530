#!/usr/bin/env python3
"""examples/chat over the wire, with python3-websockets as the clients.

Checks: the startup output (listening line, demo URLs with tokens); GET / (the embedded page),
/healthz and /api/whoami; upgrades refused with the verifier's reason (no token, bad signature,
expired, alg none, a user id the chat does not allow, wrong path), and /metrics (Prometheus
text) counting those refusals; presence on join and leave; room messages to everyone; direct
messages to every device of the target and to the sender's other devices but not back to the
sending one; errors for an offline target, bad JSON, binary and unknown types; the room history
for a late joiner; and a graceful stop on SIGTERM (close 1001 to every client, exit 0).

usage: chat_protocol_test.py CHAT
"""
import asyncio
import json
import re
import sys
import time
import urllib.parse

import interop_util as u

SECRET = "chat-protocol-test-secret"


class client:
    """One chat connection; every JSON message it receives is appended to `inbox`."""

    def __init__(self, websockets, port, token, name):
        self.websockets, self.port, self.token, self.name = websockets, port, token, name
        self.inbox = []
        self.close_code = None

    async def open(self):
        url = f"ws://127.0.0.1:{self.port}/ws?token={urllib.parse.quote(self.token)}"
        self.ws = await self.websockets.connect(url, ping_interval=None)
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        try:
            async for raw in self.ws:
                self.inbox.append(json.loads(raw))
        except self.websockets.ConnectionClosed:
            pass
        self.close_code = self.ws.close_code

    async def send(self, obj):
        await self.ws.send(json.dumps(obj) if isinstance(obj, dict) else obj)

    async def wait_for(self, pred, what, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.inbox:
                if pred(m):
                    return m
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.name}: no message where {what} within {timeout} s; "
                             f"inbox: {self.inbox}")

    def presence(self):
        ps = [m for m in self.inbox if m["type"] == "presence"]
        return max(ps, key=lambda m: m["seq"])["users"] if ps else None

    async def wait_presence(self, users):
        end = time.monotonic() + 5
        while time.monotonic() < end and self.presence() != users:
            await asyncio.sleep(0.02)
        u.check(self.presence() == users, f"{self.name} sees online {users} (sees {self.presence()})")


def refused(port, token, target="/ws"):
    q = "" if token is None else "?token=" + urllib.parse.quote(token)
    status, _, body = u.raw_upgrade(port, target + q)
    return status, body.strip()


async def conversation(websockets, port, tokens):
    alice1 = await client(websockets, port, tokens["alice"], "alice#1").open()
    await alice1.wait_for(lambda m: m["type"] == "hello" and m["user"] == "alice", "hello alice")
    u.check(True, "alice#1: hello names the token's user")
    await alice1.wait_for(lambda m: m["type"] == "history", "history")
    u.check(True, "alice#1: history arrives (sent from a worker thread)")
    alice2 = await client(websockets, port, tokens["alice"], "alice#2").open()
    bob = await client(websockets, port, tokens["bob"], "bob").open()
    for c in (alice1, alice2, bob):
        await c.wait_presence(["alice", "bob"])

    await bob.send({"type": "room", "text": "hi all \u2713 \U0001F642"})
    for c in (alice1, alice2, bob):
        await c.wait_for(lambda m: m["type"] == "room" and m["from"] == "bob" and
                         m["text"] == "hi all \u2713 \U0001F642", "room message from bob")
    u.check(True, "room message reaches everyone, the sender included")

    await bob.send({"type": "dm", "to": "alice", "text": "psst \"alice\"\n"})
    for c in (alice1, alice2):
        await c.wait_for(lambda m: m["type"] == "dm" and m["from"] == "bob" and
                         m["to"] == "alice" and m["text"] == "psst \"alice\"\n", "dm from bob")
    u.check(True, "dm from bob reaches both of alice's devices (escapes intact)")

    await alice1.send({"type": "dm", "to": "bob", "text": "hello bob"})
    await bob.wait_for(lambda m: m["type"] == "dm" and m["text"] == "hello bob", "dm from alice")
    await alice2.wait_for(lambda m: m["type"] == "dm" and m["text"] == "hello bob", "dm copy")
    u.check(True, "dm from alice#1 reaches bob and alice's other device (alice#2)")
    await asyncio.sleep(0.2)
    u.check(not any(m["type"] == "dm" and m["text"] == "hello bob" for m in alice1.inbox),
            "the sending device gets no copy of its own dm")
    u.check(not any(m["type"] == "dm" and m["text"] == "psst \"alice\"\n" for m in bob.inbox),
            "bob's only device gets no copy of his own dm")

    ids = [m["id"] for c in (alice1,) for m in c.inbox if m["type"] in ("room", "dm")]
    u.check(ids == sorted(ids) and len(set(ids)) == len(ids), f"message ids increase: {ids}")

    for payload, want, what in [
        ({"type": "dm", "to": "carol", "text": "x"}, "carol is not online", "dm to an offline user"),
        ("{not json", "bad JSON", "bad JSON"),
        ({"type": "shout", "text": "x"}, "unknown type", "unknown type"),
        ({"type": "room", "text": "   "}, "empty message", "blank text"),
        ({"type": "room", "text": "x" * 2001}, "too long", "text over 2000 bytes"),
        ({"type": "dm", "text": "x"}, "needs \"to\"", "dm without to"),
        ({"type": "room", "text": 5}, "must be a string", "non-string value"),
        (b"\x01\x02", "binary", "binary message"),
        ('{"type":"room","text":"\\ud800"}', "lone high surrogate", "a lone surrogate escape"),
        ('{"type":"room","text":"a","text":"b"}', "duplicate member", "a duplicate member"),
    ]:
        before = len(alice1.inbox)
        await alice1.send(payload)
        m = await alice1.wait_for(lambda m, n=before: m["type"] == "error" and
                                  alice1.inbox.index(m) >= n, "an error")
        u.check(want in m["reason"], f"{what} → error {m['reason']!r}")
    u.check(alice1.ws.open, "bad input leaves the connection open")

    carol = await client(websockets, port, tokens["carol"], "carol").open()
    h = await carol.wait_for(lambda m: m["type"] == "history", "history")
    u.check(any(m["text"] == "hi all \u2713 \U0001F642" for m in h["messages"]) and
            all(m["type"] == "room" for m in h["messages"]),
            "a late joiner's history holds the room messages (and no dms)")
    for c in (alice1, alice2, bob, carol):
        await c.wait_presence(["alice", "bob", "carol"])

    await bob.ws.close()
    for c in (alice1, alice2, carol):
        await c.wait_presence(["alice", "carol"])
    await alice2.ws.close()
    await asyncio.sleep(0.2)
    u.check(alice1.presence() == ["alice", "carol"],
            "alice stays online while one of her devices is connected")
    return [alice1, carol]


async def stop_and_watch(server, clients):
    loop = asyncio.get_running_loop()
    rc = await loop.run_in_executor(None, server.stop)
    for c in clients:
        await asyncio.wait_for(c.reader, 5)
    codes = [c.close_code for c in clients]
    u.check(codes == [1001] * len(clients), f"SIGTERM: every client got close 1001 ({codes})")
    u.check(rc == 0, f"chat exited 0 on SIGTERM (got {rc})")


def main():
    u.install_signal_handlers()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    websockets = u.require_websockets()
    u.require_executable(sys.argv[1], "chat")
    server = u.child([sys.argv[1], "--host", "127.0.0.1", "--port", "0", "--threads", "2",
                      "--secret", SECRET], "chat")
    try:
        port = int(server.wait_for_line(r"^listening on 127\.0\.0\.1:(\d+)$").group(1))
        tokens = {}
        for _ in range(3):
            m = server.wait_for_line(r"^\s+(alice|bob|carol)\s+(http://\S+)$")
            url = urllib.parse.urlsplit(m.group(2))
            u.check(url.netloc == f"127.0.0.1:{port}" and url.path == "/",
                    f"demo URL for {m.group(1)}: {m.group(2)[:60]}…")
            tokens[m.group(1)] = urllib.parse.parse_qs(url.query)["token"][0]

        status, headers, body = u.http_get(port, "/")
        u.check(status == 200 and headers["content-type"].startswith("text/html") and
                'id="online"' in body, "GET / serves the embedded page")
        status, _, body = u.http_get(port, "/healthz")
        u.check(status == 200 and body.strip() == "ok", f"GET /healthz: {status} {body.strip()!r}")
        status, _, body = u.http_get(port, "/api/whoami?token=" + tokens["bob"])
        u.check(status == 200 and json.loads(body)["user"] == "bob", f"whoami(bob): {body}")
        status, _, body = u.http_get(port, "/nowhere")
        u.check(status == 404, f"GET /nowhere: {status}")

        now = int(time.time())
        head, payload, sig = tokens["alice"].split(".")
        # One character in the middle of the signature (a full 6-bit group: still canonical).
        forged = ".".join([head, payload, sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]])
        cases = [
            (None, "/ws", 401, "no token", "no token"),
            (forged, "/ws", 401, "signature", "a forged signature"),
            (u.jwt_hs256({"sub": "alice", "exp": now - 60}, SECRET), "/ws", 401, "expired",
             "an expired token"),
            (u.jwt_hs256({"sub": "alice"}, "another secret"), "/ws", 401, "signature",
             "a token signed with another secret"),
            ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", "/ws", 401, "none", "alg none"),
            (u.jwt_hs256({"sub": "<script>"}, SECRET), "/ws", 403, "user ids", "a bad user id"),
            (tokens["alice"], "/elsewhere", 404, "/ws", "another path"),
        ]
        for token, target, want_status, want_text, what in cases:
            status, body = refused(port, token, target)
            u.check(status == want_status and want_text in body,
                    f"{what} → {status} {body!r}")
        status, _, body = u.http_get(port, "/api/whoami?token=" + forged)
        u.check(status == 401 and "signature" in json.loads(body)["error"],
                f"whoami(forged) → {status} {body}")

        # Every refusal above came from the chat's hook: five 401, a 403 and a 404, all 4xx.
        status, headers, body = u.http_get(port, "/metrics")
        u.check(status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4"),
                f"GET /metrics: {status} {headers.get('content-type')}")
        sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+$')
        bad = [l for l in body.splitlines()
               if not (l.startswith("# HELP wsx_") or l.startswith("# TYPE wsx_") or sample.match(l))]
        u.check(not bad, f"/metrics lines outside the format: {bad[:3]}")
        want = ('wsx_handshakes_rejected_total{source="application",reason="upgrade_rejected",'
                'status="4xx"} 7')
        counted = [l for l in body.splitlines() if l.startswith("wsx_handshakes_rejected") and
                   not l.endswith(" 0")]
        u.check(counted == [want], f"/metrics counts the 7 refusals: {counted}")
        u.check("wsx_handshakes_accepted_total 0" in body.splitlines(), "/metrics: none accepted")

        async def run():
            left = await conversation(websockets, port, tokens)
            await stop_and_watch(server, left)

        asyncio.run(asyncio.wait_for(run(), 40))
    except BaseException:
        server.dump()
        raise
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
