// A wsx client (driven by wsx_client_probe; its options pick the transport) against an npm ws
// (v8) echo server.
//
// Two rounds: the server without compression and the probe offering nothing, then the server
// with perMessageDeflate: true and the probe offering it (--deflate) and sending every message in
// frames of at most 16 KiB. In each: text and binary echoes up to 1 MiB (sent from a thread other
// than the loop), in order and byte for byte, with their opcodes (the server echoes messages over
// 64 KiB in four fragments); the agreed extension (none, or permessage-deflate on both sides, and
// the server's socket shows the probe's 20 MiB of compressible messages arrived compressed);
// ping/pong; the probe's close code reaches ws and comes back; an upgrade that ws refuses
// (verifyClient → 403 with a message) reaches the wsx client with its status and body.
//
// usage: node node_server_test.js WSX_CLIENT_PROBE [PROBE OPTIONS, e.g. --transport libevent]
"use strict";
const fs = require("fs");
const u = require("./interop_util");

const WebSocket = u.requireWs();

function echo(ws, data, isBinary) {
  if (data.length <= 64 * 1024) {
    ws.send(data, { binary: isBinary });
    return;
  }
  const quarter = Math.ceil(data.length / 4);
  for (let off = 0; off < data.length; off += quarter) {
    ws.send(data.subarray(off, off + quarter),
            { binary: isBinary, fin: off + quarter >= data.length });
  }
}

async function round(probe, probeOptions, deflate) {
  const label = deflate ? "deflate on" : "deflate off";
  const closes = [];
  const connections = [];
  const wss = new WebSocket.WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    maxPayload: 4 * 1024 * 1024,
    perMessageDeflate: deflate,
    verifyClient: (info, done) => {
      if (info.req.url.startsWith("/private")) done(false, 403, "private area");
      else done(true);
    },
  });
  wss.on("connection", (ws, req) => {
    const seen = { url: req.url, extensions: ws.extensions, socket: req.socket, received: 0 };
    connections.push(seen);
    ws.on("message", (data, isBinary) => {
      seen.received += data.length;
      echo(ws, data, isBinary);
    });
    ws.on("close", (code, reason) => closes.push([req.url, code, reason.toString()]));
  });
  await new Promise((resolve) => wss.on("listening", resolve));
  const base = "ws://127.0.0.1:" + wss.address().port;
  const options = probeOptions.concat(deflate ? ["--deflate", "--fragment", "16384"] : []);

  const show = (r) => r.output.trimEnd().split("\n").forEach((l) => console.log("  [probe] " + l));
  try {
    let r = await u.runChild([probe, base + "/echo", "--count", "40", "--size", String(1 << 20),
                              "--close-code", "4003", "--close-reason", "bye from wsx"]
                                 .concat(options));
    show(r);
    u.check(r.code === 0,
            label + ": wsx client: 40 echoes (to 1 MiB), pong, close 4003 against ws");
    await new Promise((resolve) => setTimeout(resolve, 100));
    u.check(closes.some(([url, code, reason]) => url === "/echo" && code === 4003 &&
                        reason === "bye from wsx"),
            label + ": the ws server saw close 4003 'bye from wsx' (saw " +
                JSON.stringify(closes) + ")");
    const first = connections[0] || { extensions: "?", socket: { bytesRead: 0 }, received: 0 };
    if (deflate) {
      u.check(first.extensions.startsWith("permessage-deflate") &&
                  first.socket.bytesRead < first.received / 10,
              label + ": the server agreed '" + first.extensions + "' and the probe's " +
                  first.received + " bytes of messages arrived as " + first.socket.bytesRead +
                  " bytes");
    } else {
      u.check(first.extensions === "", label + ": no extension agreed ('" + first.extensions +
              "')");
    }

    r = await u.runChild([probe, base + "/private", "--expect-status", "403", "--expect-body",
                          "private area"].concat(options));
    show(r);
    u.check(r.code === 0 && r.output.includes("status 403"),
            label + ": wsx client reports the refused upgrade's status 403 and body");
  } finally {
    wss.close();
    for (const c of wss.clients) c.terminate();
  }
}

async function main() {
  const probe = process.argv[2];
  if (!probe) {
    console.log("usage: node node_server_test.js WSX_CLIENT_PROBE [PROBE OPTIONS]");
    process.exit(2);
  }
  try { fs.accessSync(probe, fs.constants.X_OK); } catch (e) { u.skip("no executable " + probe); }
  const probeOptions = process.argv.slice(3);
  await round(probe, probeOptions, false);
  await round(probe, probeOptions, true);
  process.exit(u.anyFailed() ? 1 : 0);
}

main().catch((e) => {
  console.log("FAIL unexpected error: " + (e && e.stack || e));
  process.exit(1);
});
