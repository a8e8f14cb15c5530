// The wsx client (wsx::asio::client, driven by wsx_client_probe) against an npm ws (v8) echo
// server.
//
// Checks: text and binary echoes up to 1 MiB (sent from a thread other than the loop), in
// order, with their opcodes; ping/pong; the probe's close code reaches ws and comes back; an
// upgrade that ws refuses (verifyClient → 403 with a message) reaches the wsx client with its
// status and body.
//
// usage: node node_server_test.js WSX_CLIENT_PROBE
"use strict";
const fs = require("fs");
const u = require("./interop_util");

const WebSocket = u.requireWs();

async function main() {
  const probe = process.argv[2];
  if (!probe) { console.log("usage: node node_server_test.js WSX_CLIENT_PROBE"); process.exit(2); }
  try { fs.accessSync(probe, fs.constants.X_OK); } catch (e) { u.skip("no executable " + probe); }

  const closes = [];
  const wss = new WebSocket.WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    maxPayload: 4 * 1024 * 1024,
    verifyClient: (info, done) => {
      if (info.req.url.startsWith("/private")) done(false, 403, "private area");
      else done(true);
    },
  });
  wss.on("connection", (ws, req) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on("close", (code, reason) => closes.push([req.url, code, reason.toString()]));
  });
  await new Promise((resolve) => wss.on("listening", resolve));
  const port = wss.address().port;
  const base = "ws://127.0.0.1:" + port;

  const show = (r) => r.output.trimEnd().split("\n").forEach((l) => console.log("  [probe] " + l));
  try {
    let r = await u.runChild([probe, base + "/echo", "--count", "40", "--size", String(1 << 20),
                              "--close-code", "4003", "--close-reason", "bye from wsx"]);
    show(r);
    u.check(r.code === 0, "wsx client: 40 echoes (to 1 MiB), pong, close 4003 against ws");
    await new Promise((resolve) => setTimeout(resolve, 100));
    u.check(closes.some(([url, code, reason]) => url === "/echo" && code === 4003 &&
                        reason === "bye from wsx"),
            "the ws server saw close 4003 'bye from wsx' (saw " + JSON.stringify(closes) + ")");

    r = await u.runChild([probe, base + "/private", "--expect-status", "403", "--expect-body",
                          "private area"]);
    show(r);
    u.check(r.code === 0 && r.output.includes("status 403"),
            "wsx client reports the refused upgrade's status 403 and body");
  } finally {
    wss.close();
    for (const c of wss.clients) c.terminate();
  }
  process.exit(u.anyFailed() ? 1 : 0);
}

main().catch((e) => { console.log("FAIL unexpected error: " + (e && e.stack || e)); process.exit(1); });
