#!/usr/bin/env python3
"""examples/chat as three nodes of a cluster through one redis-server (wsx::cluster).

The test starts redis-server on a free port of 127.0.0.1 (stopped by its PID) and three chat
nodes with the same --secret and --redis, a 3 s --node-timeout, all on the transport given; then,
with python3-websockets clients on different nodes: the presence list names the users of every
node; a DM reaches every device of its target on the other nodes (and the sender's other device)
exactly once; a room message reaches everyone on every node exactly once; a DM to a user nobody
has is refused; a node killed with SIGKILL has its users leave the others' presence (within the
node timeout; the test's deadline is only generous); a node stopped with SIGTERM leaves at once
and exits 0. Exits 77 (skipped) when redis-server or websockets is missing.

usage: chat_cluster_test.py CHAT asio|libevent
"""
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import interop_util as u  # noqa: E402
from chat_protocol_test import client  # noqa: E402

SECRET = "chat-cluster-test-secret"


def start_redis():
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(path, os.X_OK):
        u.skip("redis-server is not installed (scripts/setup)")
    port = u.free_port()
    proc = subprocess.Popen([path, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    u.wait_for_port(port, proc)
    return proc, port


def redis_command(port, line):
    """One inline command on a fresh connection; the first line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(line.encode() + b"\r\n")
        return s.makefile("rb").readline().decode().strip()


def start_node(chat, transport, redis_port, name):
    node = u.child([chat, "--host", "127.0.0.1", "--port", "0", "--threads", "1",
                    "--transport", transport, "--secret", SECRET, "--ping-interval", "0",
                    "--redis", f"redis://127.0.0.1:{redis_port}", "--node", name,
                    "--node-timeout", "3"], name)
    port = int(node.wait_for_line(r"^listening on 127\.0\.0\.1:(\d+)$").group(1))
    tokens = {}
    for _ in range(3):
        m = node.wait_for_line(r"^\s+(alice|bob|carol)\s+(http://\S+)$")
        tokens[m.group(1)] = urllib.parse.parse_qs(urllib.parse.urlsplit(m.group(2)).query)["token"][0]
    return node, port, tokens


def count(c, kind, text):
    return sum(1 for m in c.inbox if m["type"] == kind and m.get("text") == text)


async def scenario(websockets, chat, transport, redis_port):
    nodes = [start_node(chat, transport, redis_port, n) for n in ("n1", "n2", "n3")]
    try:
        (n1, p1, tokens), (n2, p2, _), (n3, p3, _) = nodes
        alice1 = await client(websockets, p1, tokens["alice"], "alice@n1").open()
        alice3 = await client(websockets, p3, tokens["alice"], "alice@n3").open()
        bob = await client(websockets, p2, tokens["bob"], "bob@n2").open()
        carol = await client(websockets, p3, tokens["carol"], "carol@n3").open()
        everyone = [alice1, alice3, bob, carol]
        for c in everyone:
            await c.wait_presence(["alice", "bob", "carol"])
        u.check(True, "every node's clients see alice, bob and carol online")

        await bob.send({"type": "dm", "to": "alice", "text": "across"})
        for c in (alice1, alice3):
            await c.wait_for(lambda m: m["type"] == "dm" and m["text"] == "across", "dm from bob")
        await alice1.send({"type": "dm", "to": "bob", "text": "back"})
        await bob.wait_for(lambda m: m["type"] == "dm" and m["text"] == "back", "dm from alice")
        await alice3.wait_for(lambda m: m["type"] == "dm" and m["text"] == "back", "dm copy")
        await carol.send({"type": "room", "text": "hello room"})
        for c in everyone:
            await c.wait_for(lambda m: m["type"] == "room" and m["text"] == "hello room", "room")
        await asyncio.sleep(0.5)  # room for a duplicate to show up, if there were one
        u.check(count(alice1, "dm", "across") == 1 and count(alice3, "dm", "across") == 1,
                "a dm from n2 reaches alice's devices on n1 and n3 exactly once")
        u.check(count(bob, "dm", "back") == 1 and count(alice3, "dm", "back") == 1 and
                count(alice1, "dm", "back") == 0,
                "a dm from alice@n1 reaches bob@n2 and alice@n3 once, not the sending device")
        u.check(all(count(c, "room", "hello room") == 1 for c in everyone),
                "a room message from n3 reaches every client on every node exactly once")

        before = len(bob.inbox)
        await bob.send({"type": "dm", "to": "dave", "text": "x"})
        m = await bob.wait_for(lambda m, n=before: m["type"] == "error" and bob.inbox.index(m) >= n,
                               "an error")
        u.check("dave is not online" in m["reason"], f"dm to nobody → {m['reason']!r}")

        n2.stop(sig=9)  # kill -9: no goodbye, bob's node just vanishes
        for c in (alice1, alice3, carol):
            end = time.monotonic() + 30
            while time.monotonic() < end and c.presence() != ["alice", "carol"]:
                await asyncio.sleep(0.05)
            u.check(c.presence() == ["alice", "carol"],
                    f"{c.name}: bob left with his killed node (sees {c.presence()})")

        u.check(redis_command(redis_port, "EXISTS wsx:node:n3") == ":1",
                "n3's presence key is in Redis while it runs")
        rc = n3.stop()
        u.check(rc == 0, f"n3 exited 0 on SIGTERM (got {rc})")
        # Not left to expire (its TTL is 2 s): deleted by n3 before it exited.
        u.check(redis_command(redis_port, "EXISTS wsx:node:n3") == ":0" and
                redis_command(redis_port, "EXISTS wsx:users:n3") == ":0",
                "a clean stop deleted n3's presence keys before the process exited")
        end = time.monotonic() + 30
        while time.monotonic() < end and alice1.presence() != ["alice"]:
            await asyncio.sleep(0.05)
        u.check(alice1.presence() == ["alice"],
                f"n3's users left the others' presence (alice@n1 sees {alice1.presence()})")
    finally:
        for node, _, _ in nodes:
            node.stop()


def main():
    u.install_signal_handlers()
    if len(sys.argv) != 3 or sys.argv[2] not in ("asio", "libevent"):
        print(__doc__)
        return 2
    websockets = u.require_websockets()
    u.require_executable(sys.argv[1], "chat")
    redis, port = start_redis()
    try:
        asyncio.run(scenario(websockets, sys.argv[1], sys.argv[2], port))
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    print("chat cluster: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
