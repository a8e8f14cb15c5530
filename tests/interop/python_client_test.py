#!/usr/bin/env python3
"""python3-websockets (the Debian package, v10) as a client of a wsx echo server
(examples/asio_echo_server or examples/libevent_echo_server: the same command line).

Two rounds, each against a server of its own: without --deflate and with it. websockets offers
permessage-deflate in both (its default). Without --deflate the offer must be declined (no
Sec-WebSocket-Extensions); with it, agreed (the answer's header names permessage-deflate). In both:
text (with multi-byte UTF-8) and binary echoes, an empty message, a 4 MiB random message, 1 MiB
of compressible text, fragmented text and binary messages (websockets sends an iterable as
fragments), 500 pipelined messages in order, ping/pong and the close code echoed back (1000 and
an application code) — every echo byte for byte. Over a raw socket, because a correct client
cannot send them: the close codes the server answers protocol errors with (1002 for a reserved
close code and for an unmasked frame, 1007 for invalid UTF-8); and, with --deflate, that the
server's echo of 1000 'a's really is compressed on the wire (RSV1 set, fewer bytes, inflating to
the message).

usage: python_client_test.py ECHO_SERVER
"""
import asyncio
import base64
import os
import socket
import struct
import sys
import zlib

import interop_util as u


async def echo_checks(websockets, url, deflate, label):
    async with websockets.connect(url, max_size=8 * 1024 * 1024, ping_interval=None,
                                  compression="deflate") as ws:
        agreed = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        if deflate:
            u.check(agreed.startswith("permessage-deflate") and len(ws.extensions) == 1,
                    f"{label}: permessage-deflate offered and agreed ({agreed!r})")
        else:
            u.check(agreed == "" and ws.extensions == [],
                    f"{label}: permessage-deflate offered and declined (no extensions)")
        text = "hello wsx \u00e9\u2713\U0001F642"
        await ws.send(text)
        u.check(await ws.recv() == text, f"{label}: text echo with 2-, 3- and 4-byte UTF-8")
        data = bytes(range(256)) * 4
        await ws.send(data)
        u.check(await ws.recv() == data, f"{label}: binary echo (1 KiB, every byte value)")
        await ws.send("")
        u.check(await ws.recv() == "", f"{label}: empty text message")
        big = os.urandom(4 * 1024 * 1024)
        await ws.send(big)
        u.check(await ws.recv() == big, f"{label}: 4 MiB random binary echo")
        prose = ("{\"from\": \"alice\", \"text\": \"caf\u00e9 \u2713 over the wire\"} " * 20000)
        await ws.send(prose)
        u.check(await ws.recv() == prose, f"{label}: {len(prose)} characters of JSON-like text")
        parts = ["fragments \u00e9 ", "\u2713 of one ", "text message \U0001F642"] * 50
        await ws.send(parts)
        u.check(await ws.recv() == "".join(parts), f"{label}: text sent in 150 fragments")
        chunks = [bytes([i]) * 10000 for i in range(40)]
        await ws.send(chunks)
        u.check(await ws.recv() == b"".join(chunks), f"{label}: binary sent in 40 fragments")
        for i in range(500):
            await ws.send(f"msg {i}")
        got = [await ws.recv() for _ in range(500)]
        u.check(got == [f"msg {i}" for i in range(500)],
                f"{label}: 500 pipelined messages echoed in order")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        u.check(True, f"{label}: ping answered by a pong with the same payload")
        await ws.close(code=4000, reason="done here")
        # RFC 6455 §5.5.1: the answer "typically echos the status code"; the reason is free.
        u.check(ws.close_code == 4000,
                f"{label}: application close code echoed: {ws.close_code} {ws.close_reason!r}")

    async with websockets.connect(url, ping_interval=None, compression=None) as ws:
        await ws.send("x")
        await ws.recv()
        await ws.close()
        u.check(ws.close_code == 1000, f"{label}: normal close echoed: {ws.close_code}")


def raw_handshake(port, extensions=None):
    """Upgrades a plain socket; returns (socket, bytes already read past the head, head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n{offer}\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise AssertionError("connection closed during the handshake")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise AssertionError(f"handshake refused: {head!r}")
    return s, rest, head.decode("latin-1")


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


def read_frame(s, buf):
    """Reads one unmasked server frame; returns (first byte, payload, rest) or None at EOF."""
    while True:
        if len(buf) >= 2:
            n, off = buf[1] & 0x7F, 2
            if n == 126 and len(buf) >= 4:
                n, off = struct.unpack("!H", buf[2:4])[0], 4
            if n != 126 and len(buf) >= off + n:
                return buf[0], buf[off:off + n], buf[off + n:]
        chunk = s.recv(4096)
        if not chunk:
            return None
        buf += chunk


def close_code_after(port, data):
    """Sends `data` after the handshake and returns the close code of the server's close frame."""
    s, buf, _ = raw_handshake(port)
    with s:
        s.sendall(data)
        while True:
            got = read_frame(s, buf)
            if got is None:
                return None
            first, payload, buf = got
            if first & 0x0F == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


def compressed_on_the_wire(port, label):
    """A raw client that offers permessage-deflate sends 1000 'a's uncompressed (allowed); the
    server's echo must come back compressed: RSV1 set, fewer bytes, inflating to the message."""
    s, buf, head = raw_handshake(port, "permessage-deflate; client_max_window_bits")
    with s:
        u.check("sec-websocket-extensions: permessage-deflate" in head.lower(),
                f"{label}: a raw offer is agreed too")
        message = b"a" * 1000
        s.sendall(frame(0x1, message))
        first, payload, buf = read_frame(s, buf)
        inflated = zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")
        u.check(first & 0x40 != 0 and len(payload) < 100 and inflated == message,
                f"{label}: the server's echo of 1000 bytes is compressed: RSV1 "
                f"{'set' if first & 0x40 else 'clear'}, {len(payload)} bytes on the wire")
        s.sendall(frame(0x8, struct.pack("!H", 1000)))


def round_against(websockets, binary, deflate):
    label = "deflate on" if deflate else "deflate off"
    argv = [binary, "--host", "127.0.0.1", "--port", "0"] + (["--deflate"] if deflate else [])
    server, port = u.start_listening_server(argv)
    try:
        asyncio.run(asyncio.wait_for(
            echo_checks(websockets, f"ws://127.0.0.1:{port}/", deflate, label), 40))
        if deflate:
            compressed_on_the_wire(port, label)
        code = close_code_after(port, frame(0x8, struct.pack("!H", 1004)))
        u.check(code == 1002, f"{label}: reserved close code 1004 answered with 1002 (got {code})")
        code = close_code_after(port, frame(0x1, b"bad \xff utf-8"))
        u.check(code == 1007, f"{label}: invalid UTF-8 text answered with 1007 (got {code})")
        code = close_code_after(port, frame(0x1, b"unmasked", masked=False))
        u.check(code == 1002, f"{label}: unmasked client frame answered with 1002 (got {code})")
    except BaseException:
        server.dump()
        raise
    finally:
        rc = server.stop()
    u.check(rc == 0, f"{label}: {os.path.basename(binary)} exited 0 on SIGTERM (got {rc})")


def main():
    u.install_signal_handlers()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    websockets = u.require_websockets()
    u.require_executable(sys.argv[1], "the echo server")
    for deflate in (False, True):
        round_against(websockets, sys.argv[1], deflate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
