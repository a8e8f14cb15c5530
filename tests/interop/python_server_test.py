#!/usr/bin/env python3
"""The wsx client (wsx::asio::client, driven by wsx_client_probe) against a python3-websockets
(Debian, v10) echo server.

Checks: text and binary echoes up to 1 MiB sent from a thread other than the loop, in order;
ping/pong; the close code the probe sends reaches the server and comes back; a refused upgrade
(HTTP 403 with a body) reaches the wsx client with its status and body; and the probe against
the same server while it offers nothing but what the client asked for (no subprotocol).

usage: python_server_test.py WSX_CLIENT_PROBE
"""
import asyncio
import http
import subprocess
import sys

import interop_util as u


async def run(websockets, probe):
    closes = []

    async def echo(ws):
        try:
            async for message in ws:
                await ws.send(message)
        finally:
            closes.append((ws.path, ws.close_code, ws.close_reason))

    async def gatekeeper(path, _headers):
        if path.startswith("/private"):
            return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"private area\n"
        return None

    async with websockets.serve(echo, "127.0.0.1", 0, max_size=4 * 1024 * 1024,
                                ping_interval=None, process_request=gatekeeper) as server:
        port = server.sockets[0].getsockname()[1]

        async def probe_run(*args):
            proc = await asyncio.create_subprocess_exec(probe, *args, stdout=subprocess.PIPE,
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
        u.check(rc == 0, "wsx client: 40 echoes (to 1 MiB), pong, close 4001 against websockets")
        await asyncio.sleep(0.1)
        u.check(("/echo", 4001, "bye from wsx") in closes,
                f"the websockets server saw close 4001 'bye from wsx' (saw {closes})")

        rc, _ = await probe_run(f"ws://127.0.0.1:{port}/echo?x=1", "--count", "1", "--size", "0",
                                "--close-code", "1000", "--close-reason", "")
        u.check(rc == 0, "wsx client: one empty message and a normal close (1000)")

        rc, text = await probe_run(f"ws://127.0.0.1:{port}/private", "--expect-status", "403",
                                   "--expect-body", "private area")
        u.check(rc == 0 and "status 403" in text,
                "wsx client reports the refused upgrade's status 403 and body")


def main():
    u.install_signal_handlers()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    websockets = u.require_websockets()
    u.require_executable(sys.argv[1], "wsx_client_probe")
    asyncio.run(asyncio.wait_for(run(websockets, sys.argv[1]), 50))
    return 0


if __name__ == "__main__":
    sys.exit(main())
