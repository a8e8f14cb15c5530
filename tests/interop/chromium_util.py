"""Headless Chromium for the interop tests: started as a child on a fresh profile with its
DevTools port on 127.0.0.1, and driven through the Chrome DevTools Protocol over its own
WebSocket (python3-websockets as the CDP client). Stopped by its PID like every child.
"""
import asyncio
import base64
import itertools
import json
import os
import shutil
import time

import interop_util as u


def find_chromium(given=None):
    return given or shutil.which("chromium") or "/usr/bin/chromium"


def start_chromium(chromium, profile):
    """Starts headless Chromium with `profile` as its user data directory; returns (child,
    the browser's DevTools WebSocket URL) once it wrote DevToolsActivePort."""
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
                url = f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
                print(f"chromium DevTools at {url}")
                return browser, url
        time.sleep(0.1)
    browser.dump()
    browser.stop()
    raise AssertionError("chromium did not write DevToolsActivePort within 20 s")


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

    async def evaluate(self, session, expression, await_promise=False, timeout=15.0):
        r = await self.call("Runtime.evaluate",
                            {"expression": expression, "returnByValue": True,
                             "awaitPromise": await_promise}, session, timeout)
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
