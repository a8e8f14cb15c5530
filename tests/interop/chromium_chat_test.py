#!/usr/bin/env python3
"""Headless Chromium on the chat page: two users log in from the demo URLs and talk.

Drives Chromium (Debian `chromium`) through the Chrome DevTools Protocol over its own WebSocket
(python3-websockets as the CDP client). Opens alice's and bob's demo URLs in two tabs, waits
until each page is online and lists the other, has alice send bob a direct message through the
page's form, and polls bob's page until the message shows (bounded wait); then bob answers in
the room and alice's page must show it. The chat is then restarted on the same port: both pages
must reconnect by themselves and a new DM (whose id the restarted server numbers from 1 again)
must show. A third tab with a bad token must land on the login form with the verifier's reason. Screenshots of both users' pages go to OUTDIR
(chat_alice.png, chat_bob.png, chat_login.png).

usage: chromium_chat_test.py CHAT OUTDIR [CHROMIUM]
"""
import asyncio
import base64
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse

import interop_util as u


class cdp:
    """A minimal CDP client: numbered commands, answers matched by id, flat sessions."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            fut = self.pending.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)

    async def call(self, method, params=None, session=None, timeout=15.0):
        i = next(self.ids)
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[i] = fut
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, timeout)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    async def open_tab(self, url):
        target = (await self.call("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await self.call("Target.attachToTarget",
                                   {"targetId": target, "flatten": True}))["sessionId"]
        await self.call("Emulation.setDeviceMetricsOverride",
                        {"width": 1000, "height": 640, "deviceScaleFactor": 1, "mobile": False},
                        session)
        await self.call("Page.enable", session=session)
        await self.call("Page.navigate", {"url": url}, session)
        return session

    async def evaluate(self, session, expression):
        r = await self.call("Runtime.evaluate",
                            {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in r:
            raise AssertionError(f"page exception: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_true(self, session, expression, what, timeout=10.0):
        """Polls `expression` until it is truthy; a page still loading (the expression throws)
        counts as not yet. False after `timeout`."""
        end = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < end:
            try:
                if await self.evaluate(session, expression):
                    return True
            except AssertionError as e:
                last_error = e
            await asyncio.sleep(0.1)
        print(f"  waited {timeout} s for {what}; last page exception: {last_error}")
        return False

    async def screenshot(self, session, path):
        # Only the tab in front produces frames: a background tab's capture never finishes.
        await self.call("Page.bringToFront", session=session)
        r = await self.call("Page.captureScreenshot", {"format": "png"}, session)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))


def js(value):
    return json.dumps(value)


def page_state(user):
    return (f"document.body.dataset.state === 'online' && "
            f"!!document.querySelector('#online li[data-user={js(user)}]')")


def shows_message(kind, sender, text):
    return (f"[...document.querySelectorAll('#log .msg.{kind}')].some(e => "
            f"e.dataset.from === {js(sender)} && "
            f"e.querySelector('.text').textContent === {js(text)})")


def send_via_form(to, text):
    return (f"(() => {{ const to = document.getElementById('to'); to.value = {js(to)};"
            f" if (to.value !== {js(to)}) return false;"
            f" document.getElementById('text').value = {js(text)};"
            f" document.getElementById('composer').requestSubmit(); return true; }})()")


async def scenario(websockets, browser_url, urls, outdir, restart):
    async with websockets.connect(browser_url, max_size=64 * 1024 * 1024,
                                  ping_interval=None) as ws:
        c = cdp(ws)
        alice = await c.open_tab(urls["alice"])
        bob = await c.open_tab(urls["bob"])
        u.check(await c.wait_true(alice, page_state("bob"), "alice online"),
                "alice's page is online and lists bob")
        u.check(await c.wait_true(bob, page_state("alice"), "bob online"),
                "bob's page is online and lists alice")
        me = await c.evaluate(bob, "document.getElementById('me').textContent")
        u.check(me == "signed in as bob", f"bob's page header: {me!r}")

        dm = "hi bob, this is alice \u2014 via Chromium \U0001F44B"
        u.check(await c.evaluate(alice, send_via_form("bob", dm)),
                "alice picks bob in the recipient list and sends a DM through the form")
        u.check(await c.wait_true(bob, shows_message("dm", "alice", dm), "dm shown"),
                "bob's page shows alice's direct message")
        u.check(await c.wait_true(alice, shows_message("dm", "alice", dm), "own dm"),
                "alice's page shows the DM she sent")

        room = "hello room, bob here"
        u.check(await c.evaluate(bob, send_via_form("", room)), "bob sends a room message")
        u.check(await c.wait_true(alice, shows_message("room", "bob", room), "room shown"),
                "alice's page shows bob's room message")
        u.check(await c.wait_true(bob, shows_message("room", "bob", room), "room echo"),
                "bob's page shows his room message (the broadcast comes back)")

        await asyncio.get_running_loop().run_in_executor(None, restart)
        for name, tab in (("alice", alice), ("bob", bob)):
            u.check(await c.wait_true(tab, "document.body.dataset.state !== 'online'", "offline",
                                      timeout=5),
                    f"{name}'s page notices the server going away")
        u.check(await c.wait_true(alice, page_state("bob"), "alice back", timeout=15) and
                await c.wait_true(bob, page_state("alice"), "bob back", timeout=15),
                "both pages reconnect to the restarted chat by themselves")
        again = "still there, bob?"
        u.check(await c.evaluate(alice, send_via_form("bob", again)), "alice sends another DM")
        u.check(await c.wait_true(bob, shows_message("dm", "alice", again), "dm after restart"),
                "bob's page shows it (message ids restarted with the server)")

        await c.evaluate(alice, "document.getElementById('text').value = 'typing…'")
        await c.screenshot(alice, os.path.join(outdir, "chat_alice.png"))
        await c.screenshot(bob, os.path.join(outdir, "chat_bob.png"))
        u.check(True, f"screenshots written to {outdir}/chat_alice.png and chat_bob.png")

        bad = await c.open_tab(urls["bad"])
        u.check(await c.wait_true(bad, "!document.getElementById('login').hidden && "
                                       "document.getElementById('login-error').textContent"
                                       ".includes('signature')", "login"),
                "a forged token lands on the login form with the verifier's reason")
        await c.screenshot(bad, os.path.join(outdir, "chat_login.png"))

        await c.call("Browser.close")


def main():
    u.install_signal_handlers()
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    chat_bin, outdir = sys.argv[1], sys.argv[2]
    chromium = sys.argv[3] if len(sys.argv) == 4 else (shutil.which("chromium") or
                                                       "/usr/bin/chromium")
    websockets = u.require_websockets()
    u.require_executable(chat_bin, "chat")
    u.require_executable(chromium, "chromium (Debian package chromium)")
    os.makedirs(outdir, exist_ok=True)

    profile = tempfile.mkdtemp(prefix="wsx-chromium-")
    server = browser = None
    rc = None
    secret = "chromium-chat-test-secret"
    try:
        server = u.child([chat_bin, "--host", "127.0.0.1", "--port", "0", "--secret", secret],
                         "chat")
        port = server.wait_for_line(r"^listening on 127\.0\.0\.1:(\d+)$").group(1)
        urls = {}
        for _ in range(3):
            m = server.wait_for_line(r"^\s+(alice|bob|carol)\s+(http://\S+)$")
            urls[m.group(1)] = m.group(2)
        parts = urllib.parse.urlsplit(urls["alice"])
        token = urllib.parse.parse_qs(parts.query)["token"][0]
        head, payload, sig = token.split(".")
        forged = ".".join([head, payload, sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]])
        urls["bad"] = f"{parts.scheme}://{parts.netloc}/?token={forged}"

        browser = u.child([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                           "--disable-extensions", "--remote-debugging-port=0",
                           f"--user-data-dir={profile}", "about:blank"], "chromium")
        port_file = os.path.join(profile, "DevToolsActivePort")
        end = time.monotonic() + 20
        while time.monotonic() < end and browser.proc.poll() is None:
            if os.path.exists(port_file):
                lines = open(port_file).read().split("\n")
                if len(lines) >= 2 and lines[1].startswith("/devtools/browser/"):
                    break
            time.sleep(0.1)
        else:
            browser.dump()
            raise AssertionError("chromium did not write DevToolsActivePort within 20 s")
        browser_url = f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
        print(f"chromium DevTools at {browser_url}")

        def restart():
            nonlocal server
            first = server.stop()
            u.check(first == 0, f"chat exited 0 on SIGTERM (got {first})")
            # Same port and secret: the pages' URLs and tokens stay valid.
            server = u.child([chat_bin, "--host", "127.0.0.1", "--port", port, "--secret", secret],
                             "chat (restarted)")
            server.wait_for_line(r"^listening on ")

        asyncio.run(asyncio.wait_for(scenario(websockets, browser_url, urls, outdir, restart), 45))
    except BaseException:
        if server:
            server.dump()
        raise
    finally:
        if browser:
            browser.stop()
        if server:
            rc = server.stop()
        shutil.rmtree(profile, ignore_errors=True)
    u.check(rc == 0, f"chat exited 0 on SIGTERM (got {rc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
