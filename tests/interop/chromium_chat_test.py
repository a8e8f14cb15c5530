#!/usr/bin/env python3
"""Headless Chromium on the chat page: two users log in from the demo URLs and talk.

Drives Chromium (Debian `chromium`) through the Chrome DevTools Protocol over its own WebSocket
(python3-websockets as the CDP client). Opens alice's and bob's demo URLs in two tabs, waits
until each page is online and lists the other, has alice send bob a direct message through the
page's form, and polls bob's page until the message shows (bounded wait); then bob answers in
the room and alice's page must show it. The chat is then restarted on the same port: both pages
must reconnect by themselves and a new DM (whose id the restarted server numbers from 1 again)
must show. A third tab with a bad token must land on the login form with the verifier's reason.
Screenshots of both users' pages go to OUTDIR (chat_alice.png, chat_bob.png, chat_login.png).
Options after "--" go to the chat (its transport, once it has a choice).

usage: chromium_chat_test.py CHAT OUTDIR [CHROMIUM] [-- CHAT OPTIONS, e.g. --transport libevent]
"""
import asyncio
import json
import os
import shutil
import sys
import tempfile
import urllib.parse

import interop_util as u
from chromium_util import cdp, find_chromium, start_chromium


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
    args, chat_args = u.split_at_dashes(sys.argv[1:])
    if len(args) not in (2, 3):
        print(__doc__)
        return 2
    chat_bin, outdir = args[0], args[1]
    chromium = find_chromium(args[2] if len(args) == 3 else None)
    websockets = u.require_websockets()
    u.require_executable(chat_bin, "chat")
    u.require_executable(chromium, "chromium (Debian package chromium)")
    os.makedirs(outdir, exist_ok=True)

    profile = tempfile.mkdtemp(prefix="wsx-chromium-")
    server = browser = None
    rc = None
    secret = "chromium-chat-test-secret"
    try:
        server = u.child([chat_bin, "--host", "127.0.0.1", "--port", "0", "--secret", secret,
                          *chat_args], "chat")
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

        browser, browser_url = start_chromium(chromium, profile)

        def restart():
            nonlocal server
            first = server.stop()
            u.check(first == 0, f"chat exited 0 on SIGTERM (got {first})")
            # Same port and secret: the pages' URLs and tokens stay valid.
            server = u.child([chat_bin, "--host", "127.0.0.1", "--port", port, "--secret", secret,
                              *chat_args], "chat (restarted)")
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
