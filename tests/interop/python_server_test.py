#!/usr/bin/env python3
"""A wsx client (driven by wsx_client_probe; its options pick the transport) against a
python3-websockets (Debian, v10) echo server.

Two rounds: the server without compression and the probe offering nothing, then the server with
permessage-deflate (websockets' default) and the probe offering it (--deflate) and sending every
message in frames of at most 16 KiB. In each: text and binary echoes up to 1 MiB sent from a
thread other than the loop, in order and byte for byte (the server echoes messages over 64 KiB in
four fragments); the agreed extension (none, or permessage-deflate on both sides); ping/pong;
the close code the probe sends reaches the server and comes back; a refused upgrade (HTTP 403
with a body) reaches the wsx client with its status and body.

usage: python_server_test.py WSX_CLIENT_PROBE [PROBE OPTIONS, e.g. --transport libevent]
"""
import asyncio
import http
import subprocess
import sys

import interop_util as u


async def run(websockets, probe, probe_options, deflate):
    label = "deflate on" if deflate else "deflate off"
    closes = []
    agreed = []

    async def echo(ws):
        agreed.append([type(e).__name__ for e in ws.extensions])
        try:
            async for message in ws:
                if len(message) > 64 * 1024:
                    quarter = len(message) // 4 + 1
                    await ws.send([message[i:i + quarter] for i in range(0, len(message), quarter)])
                else:
                    await ws.send(message)
        except websockets.ConnectionClosed:
            pass  # a close code other than 1000/1001 ends the loop with this; closes has it
        finally:
            closes.append((ws.path, ws.close_code, ws.close_reason))

    async def gatekeeper(path, _headers):
        if path.startswith("/private"):
            return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"private area\n"
        return None

    async with websockets.serve(echo, "127.0.0.1", 0, max_size=4 * 1024 * 1024,
                                ping_interval=None, process_request=gatekeeper,
                                compression="deflate" if deflate else None) as server:
        port = server.sockets[0].getsockname()[1]
        options = probe_options + (["--deflate", "--fragment", "16384"] if deflate else [])

        async def probe_run(*args):
            proc = await asyncio.create_subprocess_exec(probe, *args, *options,
                                                        stdout=subprocess.PIPE,
                                                        stderr=subprocess.STDOUT)
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), 30)
            except BaseException:
                proc.kill()  # by its PID, through the Process object
                await proc.wait()
                raise
            text = out.decode(errors="replace")
            for line in text.splitlines():
                print(f"  [probe] {line}")
            return proc.returncode, text

        rc, _ = await probe_run(f"ws://127.0.0.1:{port}/echo", "--count", "40", "--size",
                                str(1024 * 1024), "--close-code", "4001", "--close-reason",
                                "bye from wsx")
        u.check(rc == 0, f"{label}: wsx client: 40 echoes (to 1 MiB), pong, close 4001 "
                         f"against websockets")
        await asyncio.sleep(0.1)
        u.check(("/echo", 4001, "bye from wsx") in closes,
                f"{label}: the websockets server saw close 4001 'bye from wsx' (saw {closes})")
        want = [["PerMessageDeflate"]] if deflate else [[]]
        u.check(agreed[:1] == want, f"{label}: the server's agreed extensions: {agreed[:1]}")

        rc, _ = await probe_run(f"ws://127.0.0.1:{port}/echo?x=1", "--count", "1", "--size", "0",
                                "--close-code", "1000", "--close-reason", "")
        u.check(rc == 0, f"{label}: wsx client: one empty message and a normal close (1000)")

        rc, text = await probe_run(f"ws://127.0.0.1:{port}/private", "--expect-status", "403",
                                   "--expect-body", "private area")
        u.check(rc == 0 and "status 403" in text,
                f"{label}: wsx client reports the refused upgrade's status 403 and body")


def main():
    u.install_signal_handlers()
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    websockets = u.require_websockets()
    u.require_executable(sys.argv[1], "wsx_client_probe")
    for deflate in (False, True):
        asyncio.run(asyncio.wait_for(run(websockets, sys.argv[1], sys.argv[2:], deflate), 50))
    return 0


if __name__ == "__main__":
    sys.exit(main())
