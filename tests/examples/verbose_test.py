#!/usr/bin/env python3
"""An echo server's --verbose (asio_echo_server, libevent_echo_server): one stderr line per
refused handshake and per session end, written through the server's observer
(examples/common/observer_log.cpp).

usage: verbose_test.py ECHO_SERVER

Starts the server on a free port (--port 0, the port read from its "listening on" line), sends
a request without Upgrade (426), one with a bad key (400), half a request then FIN (peer gone),
and a real session closed with 1000 "bye"; then SIGTERM (stopped by PID) and checks that the
process exited 0 and that stderr holds exactly the expected lines, in order.
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

UPGRADE = ("GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Version: 13\r\n")


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(4096):
            out += chunk
        return out


def session(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((UPGRADE + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert head.startswith(b"HTTP/1.1 101"), head
        time.sleep(0.01)  # a session that lasts
        payload = struct.pack("!H", 1000) + b"bye"
        mask = b"\x01\x02\x03\x04"
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        s.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + masked)
        while s.recv(4096):
            pass


def main() -> int:
    proc = subprocess.Popen([sys.argv[1], "--port", "0", "--verbose"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        no_upgrade = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        bad_key = exchange(port, (UPGRADE + "Sec-WebSocket-Key: short\r\n\r\n").encode())
        exchange(port, b"GET / HTTP/1.1\r\n")
        session(port)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = err.splitlines()
    name = re.escape(os.path.basename(sys.argv[1]))
    ep = r"127\.0\.0\.1:\d+"
    expected = [
        rf"{name}: {ep} handshake refused: 426 Upgrade: websocket header missing.* "
        r"\[request, after \d+\.\d ms\]$",
        rf"{name}: {ep} handshake refused: 400 Sec-WebSocket-Key .*\[request, after .*\]$",
        rf"{name}: {ep} handshake failed: connection closed during the opening "
        r"handshake \[peer, after .*\]$",
        rf"{name}: {ep} opened$",
        rf"{name}: {ep} ended: 1000 'bye' after \d+\.\d m?s$",
    ]
    ok = proc.returncode == 0 and len(lines) == len(expected) and all(
        re.match(e, line) for e, line in zip(expected, lines))
    assert no_upgrade.startswith(b"HTTP/1.1 426") and bad_key.startswith(b"HTTP/1.1 400")
    print("verbose: " + ("ok" if ok else f"FAILED (exit {proc.returncode})"))
    if not ok:
        print("stderr was:\n" + err)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
