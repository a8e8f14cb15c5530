#!/usr/bin/env python3
"""Headless Chromium as a client of a wsx echo server (examples/asio_echo_server or
examples/libevent_echo_server: the same command line).

One browser, two rounds, each against a server of its own: without --deflate and with it. The
test serves an echo page on 127.0.0.1 itself (an HTTP server thread: a page from about:blank
would not be let near a loopback address), and a tab on it runs the page's runEcho(url) through
the DevTools Protocol's Runtime.evaluate: the browser's own WebSocket API.
Chromium offers "permessage-deflate; client_max_window_bits" on every connection, so the agreed
extension (WebSocket.extensions) must be empty without --deflate and permessage-deflate with it.
In both rounds: text with multi-byte UTF-8, binary with every byte value, an empty message, 4 MiB
of random bytes, 1 MiB of compressible text, 200 pipelined messages in order — every echo byte
for byte, with its type — and an application close code echoed with a clean close. (A browser
never sends a fragmented message, and the echo servers answer whole ones: fragments are the
python and node tests' part.)

usage: chromium_echo_test.py ECHO_SERVER [CHROMIUM]
"""
import asyncio
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading

import interop_util as u
from chromium_util import cdp, find_chromium, start_chromium

# The page: runEcho(url) resolves with what it saw. The random bytes come in 64 KiB pieces, the
# most crypto.getRandomValues() fills at once.
ECHO_PAGE = """<!doctype html>
<meta charset="utf-8"><title>wsx echo</title>
<script>
window.runEcho = async (url) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const queue = [], waiters = [];
  ws.onmessage = (e) => { if (waiters.length) waiters.shift()(e.data); else queue.push(e.data); };
  const next = () => queue.length ? Promise.resolve(queue.shift())
                                  : new Promise((r) => waiters.push(r));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("the connection failed"));
  });
  const same = (got, want) => got instanceof ArrayBuffer && got.byteLength === want.length &&
                              new Uint8Array(got).every((b, i) => b === want[i]);
  const r = { extensions: ws.extensions };
  const text = "hello wsx \\u00e9\\u2713\\u{1F642}";
  ws.send(text);
  r.text = (await next()) === text;
  const every = new Uint8Array(1024).map((_, i) => i & 255);
  ws.send(every);
  r.binary = same(await next(), every);
  ws.send("");
  r.empty = (await next()) === "";
  const random = new Uint8Array(4 * 1024 * 1024);
  for (let off = 0; off < random.length; off += 65536) {
    crypto.getRandomValues(random.subarray(off, off + 65536));
  }
  ws.send(random);
  r.random = same(await next(), random);
  const prose = '{"from": "carol", "text": "\\u00fcber caf\\u00e9 \\u2713"} '.repeat(25000);
  ws.send(prose);
  r.prose = (await next()) === prose;
  for (let i = 0; i < 200; i++) ws.send("msg " + i);
  r.pipelined = true;
  for (let i = 0; i < 200; i++) if ((await next()) !== "msg " + i) r.pipelined = false;
  const closed = new Promise((resolve) => { ws.onclose = resolve; });
  ws.close(4005, "chromium done");
  const ev = await closed;
  r.close = [ev.code, ev.wasClean];
  return r;
};
</script>
"""


class page_handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ECHO_PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


async def round_in(c, page_url, websockets_url, deflate):
    label = "deflate on" if deflate else "deflate off"
    tab = await c.open_tab(page_url)
    u.check(await c.wait_true(tab, "typeof window.runEcho === 'function'", "the echo page"),
            f"{label}: the echo page is loaded")
    r = await c.evaluate(tab, f"runEcho({json.dumps(websockets_url)})", await_promise=True,
                         timeout=40)
    if deflate:
        u.check(r["extensions"].startswith("permessage-deflate"),
                f"{label}: Chromium's offer agreed: {r['extensions']!r}")
    else:
        u.check(r["extensions"] == "", f"{label}: Chromium's offer declined (extensions '')")
    u.check(r["text"], f"{label}: text echo with 2-, 3- and 4-byte UTF-8")
    u.check(r["binary"], f"{label}: binary echo (1 KiB, every byte value)")
    u.check(r["empty"], f"{label}: empty text message")
    u.check(r["random"], f"{label}: 4 MiB random binary echo")
    u.check(r["prose"], f"{label}: 1 MiB of JSON-like text")
    u.check(r["pipelined"], f"{label}: 200 pipelined messages echoed in order")
    u.check(r["close"] == [4005, True], f"{label}: close 4005 echoed, clean ({r['close']})")


def main():
    u.install_signal_handlers()
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    echo_server = sys.argv[1]
    chromium = find_chromium(sys.argv[2] if len(sys.argv) == 3 else None)
    websockets = u.require_websockets()
    u.require_executable(echo_server, "the echo server")
    u.require_executable(chromium, "chromium (Debian package chromium)")

    profile = tempfile.mkdtemp(prefix="wsx-chromium-")
    browser = None
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), page_handler)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    page_url = f"http://127.0.0.1:{pages.server_address[1]}/"
    try:
        browser, browser_url = start_chromium(chromium, profile)
        for deflate in (False, True):
            argv = [echo_server, "--host", "127.0.0.1", "--port", "0"]
            server, port = u.start_listening_server(argv + (["--deflate"] if deflate else []))
            try:
                async def scenario():
                    async with websockets.connect(browser_url, max_size=64 * 1024 * 1024,
                                                  ping_interval=None) as ws:
                        await round_in(cdp(ws), page_url, f"ws://127.0.0.1:{port}/", deflate)
                asyncio.run(asyncio.wait_for(scenario(), 50))
            except BaseException:
                server.dump()
                raise
            finally:
                rc = server.stop()
            u.check(rc == 0, f"{os.path.basename(echo_server)} exited 0 on SIGTERM (got {rc})")
    except BaseException:
        if browser:
            browser.dump()
        raise
    finally:
        if browser:
            browser.stop()
        pages.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
