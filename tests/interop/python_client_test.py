#!/usr/bin/env python3
"""python3-websockets (the Debian package, v10) as a client of examples/asio_echo_server.

Checks: text (with multi-byte UTF-8) and binary echoes, an empty message, a 4 MiB message,
500 pipelined messages in order, ping/pong, the close code echoed back (1000 and an
application code), an offered permessage-deflate declined cleanly, and — over a raw socket,
because a correct client cannot send them — the close codes the server answers protocol errors
with (1002 for a reserved close code and for an unmasked frame, 1007 for invalid UTF-8).

usage: python_client_test.py ASIO_ECHO_SERVER
"""
import asyncio
import base64
import os
import socket
import struct
import sys

import interop_util as u


async def echo_checks(websockets, url):
    async with websockets.connect(url, max_size=8 * 1024 * 1024, ping_interval=None,
                                  compression="deflate") as ws:
        u.check(ws.extensions == [], "permessage-deflate offered and declined (no extensions)")
        text = "hello wsx \u00e9\u2713\U0001F642"
        await ws.send(text)
        u.check(await ws.recv() == text, "text echo with 2-, 3- and 4-byte UTF-8")
        data = bytes(range(256)) * 4
        await ws.send(data)
        u.check(await ws.recv() == data, "binary echo (1 KiB, every byte value)")
        await ws.send("")
        u.check(await ws.recv() == "", "empty text message")
        big = os.urandom(4 * 1024 * 1024)
        await ws.send(big)
        u.check(await ws.recv() == big, "4 MiB binary echo")
        for i in range(500):
            await ws.send(f"msg {i}")
        got = [await ws.recv() for _ in range(500)]
        u.check(got == [f"msg {i}" for i in range(500)], "500 pipelined messages echoed in order")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        u.check(True, "ping answered by a pong with the same payload")
        await ws.close(code=4000, reason="done here")
        # RFC 6455 §5.5.1: the answer "typically echos the status code"; the reason is free.
        u.check(ws.close_code == 4000,
                f"application close code echoed: {ws.close_code} {ws.close_reason!r}")

    async with websockets.connect(url, ping_interval=None, compression=None) as ws:
        await ws.send("x")
        await ws.recv()
        await ws.close()
        u.check(ws.close_code == 1000, f"normal close echoed: {ws.close_code}")


def raw_handshake(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError("connection closed during the handshake")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise AssertionError(f"handshake refused: {head!r}")
    return s, rest


def frame(opcode, payload, masked=True):
    header = bytes([0x80 | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        header += bytes([mask_bit | n])
    else:
        header += bytes([mask_bit | 126]) + struct.pack("!H", n)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_code_after(port, data):
    """Sends `data` after the handshake and returns the close code of the server's close frame."""
    s, buf = raw_handshake(port)
    with s:
        s.sendall(data)
        while True:
            while len(buf) >= 2:
                op, n = buf[0] & 0x0F, buf[1] & 0x7F
                off = 2
                if n == 126:
                    if len(buf) < 4:
                        break
                    n, off = struct.unpack("!H", buf[2:4])[0], 4
                if len(buf) < off + n:
                    break
                payload, buf = buf[off:off + n], buf[off + n:]
                if op == 0x8:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            chunk = s.recv(4096)
            if not chunk:
                return None
            buf += chunk


def main():
    u.install_signal_handlers()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    websockets = u.require_websockets()
    u.require_executable(sys.argv[1], "asio_echo_server")
    server, port = u.start_listening_server([sys.argv[1], "--host", "127.0.0.1", "--port", "0"])
    try:
        asyncio.run(asyncio.wait_for(echo_checks(websockets, f"ws://127.0.0.1:{port}/"), 40))
        code = close_code_after(port, frame(0x8, struct.pack("!H", 1004)))
        u.check(code == 1002, f"reserved close code 1004 answered with 1002 (got {code})")
        code = close_code_after(port, frame(0x1, b"bad \xff utf-8"))
        u.check(code == 1007, f"invalid UTF-8 text answered with 1007 (got {code})")
        code = close_code_after(port, frame(0x1, b"unmasked", masked=False))
        u.check(code == 1002, f"unmasked client frame answered with 1002 (got {code})")
    except BaseException:
        server.dump()
        raise
    finally:
        rc = server.stop()
    u.check(rc == 0, f"asio_echo_server exited 0 on SIGTERM (got {rc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
