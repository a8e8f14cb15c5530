// npm ws (v8) as a client of a wsx echo server (examples/asio_echo_server or
// examples/libevent_echo_server: the same command line), with perMessageDeflate: true.
//
// Two rounds, each against a server of its own: without --deflate the offer must be declined
// (ws.extensions empty), with it agreed (permessage-deflate). In both: text (multi-byte UTF-8)
// and binary echoes with their opcodes, an empty message, a 4 MiB random message, 1 MiB of
// compressible text, fragmented text and binary messages (send with fin: false), 500 pipelined
// messages in order, ping/pong, an application close code echoed — every echo byte for byte —
// and a plain HTTP GET answered 426 with a body that names the missing header. With --deflate,
// the socket's byte counts show the compressible text crossed compressed in both directions.
//
// usage: node node_client_test.js ECHO_SERVER
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const path = require("path");
const u = require("./interop_util");

const WebSocket = u.requireWs();

function once(ws, event) {
  return new Promise((resolve, reject) => {
    ws.once(event, (...args) => resolve(args));
    if (event !== "error") ws.once("error", reject);
  });
}

// Collects messages as {data, isBinary}; next() waits for the following one.
function inbox(ws) {
  const queue = [], waiters = [];
  ws.on("message", (data, isBinary) => {
    const m = { data, isBinary };
    if (waiters.length) waiters.shift()(m); else queue.push(m);
  });
  return { next: () => queue.length ? Promise.resolve(queue.shift())
                                    : new Promise((r) => waiters.push(r)) };
}

function httpGet(port) {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: "/" }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    }).on("error", reject);
  });
}

// Sends `parts` as one message in as many frames; resolves once ws has written them.
function sendFragments(ws, parts, binary) {
  return new Promise((resolve, reject) => {
    parts.forEach((p, i) => {
      const fin = i === parts.length - 1;
      ws.send(p, { binary, fin }, fin ? (e) => (e ? reject(e) : resolve()) : undefined);
    });
  });
}

async function checks(port, deflate, label) {
  const url = "ws://127.0.0.1:" + port + "/";
  const ws = new WebSocket(url, { perMessageDeflate: true, maxPayload: 8 * 1024 * 1024 });
  const box = inbox(ws);
  await once(ws, "open");
  if (deflate) {
    u.check(ws.extensions.startsWith("permessage-deflate"),
            label + ": permessage-deflate offered and agreed ('" + ws.extensions + "')");
  } else {
    u.check(ws.extensions === "", label + ": permessage-deflate offered and declined " +
            "(extensions '" + ws.extensions + "')");
  }

  const text = "hello wsx \u00e9\u2713\u{1F642}";
  ws.send(text);
  let m = await box.next();
  u.check(!m.isBinary && m.data.toString("utf8") === text,
          label + ": text echo with multi-byte UTF-8");

  const bin = Buffer.alloc(1024);
  for (let i = 0; i < bin.length; i++) bin[i] = i & 0xff;
  ws.send(bin);
  m = await box.next();
  u.check(m.isBinary && Buffer.compare(m.data, bin) === 0,
          label + ": binary echo (1 KiB, every byte value)");

  ws.send("");
  m = await box.next();
  u.check(!m.isBinary && m.data.length === 0, label + ": empty text message");

  const big = crypto.randomBytes(4 * 1024 * 1024);
  ws.send(big);
  m = await box.next();
  u.check(m.isBinary && Buffer.compare(m.data, big) === 0, label + ": 4 MiB random binary echo");

  const prose = '{"from": "bob", "text": "na\u00efve caf\u00e9 \u2713"} '.repeat(25000);
  const [readBefore, writtenBefore] = [ws._socket.bytesRead, ws._socket.bytesWritten];
  ws.send(prose);
  m = await box.next();
  u.check(!m.isBinary && m.data.toString("utf8") === prose,
          label + ": " + Buffer.byteLength(prose) + " bytes of JSON-like text");
  const read = ws._socket.bytesRead - readBefore, written = ws._socket.bytesWritten - writtenBefore;
  if (deflate) {
    u.check(read < Buffer.byteLength(prose) / 10 && written < Buffer.byteLength(prose) / 10,
            label + ": it crossed compressed both ways (" + written + " bytes out, " + read +
            " bytes back)");
  }

  const parts = ["fragments \u00e9 ", "\u2713 of one ", "text message \u{1F642}"];
  await sendFragments(ws, parts, false);
  m = await box.next();
  u.check(!m.isBinary && m.data.toString("utf8") === parts.join(""),
          label + ": text sent in 3 fragments");

  const chunks = [];
  for (let i = 0; i < 40; i++) chunks.push(Buffer.alloc(10000, i));
  await sendFragments(ws, chunks, true);
  m = await box.next();
  u.check(m.isBinary && Buffer.compare(m.data, Buffer.concat(chunks)) === 0,
          label + ": binary sent in 40 fragments");

  for (let i = 0; i < 500; i++) ws.send("msg " + i);
  let inOrder = true;
  for (let i = 0; i < 500; i++) {
    m = await box.next();
    if (m.data.toString() !== "msg " + i) inOrder = false;
  }
  u.check(inOrder, label + ": 500 pipelined messages echoed in order");

  ws.ping(Buffer.from("are you there"));
  const [pong] = await once(ws, "pong");
  u.check(pong.toString() === "are you there",
          label + ": ping answered by a pong with the same payload");

  ws.close(4002, "node done");
  const [code, reason] = await once(ws, "close");
  u.check(code === 4002, label + ": application close code echoed: " + code + " '" + reason + "'");

  const res = await httpGet(port);
  u.check(res.status === 426 && res.body.includes("Upgrade: websocket header missing"),
          label + ": plain GET answered " + res.status + ": " + res.body.trim());
}

async function round(server, deflate) {
  const label = deflate ? "deflate on" : "deflate off";
  const argv = [server, "--host", "127.0.0.1", "--port", "0"].concat(deflate ? ["--deflate"] : []);
  const { child, match } = await u.startChild(argv, /^listening on (\S+):(\d+)$/);
  try {
    await checks(Number(match[2]), deflate, label);
  } catch (e) {
    u.check(false, label + ": unexpected error: " + (e && e.stack || e));
  } finally {
    u.stopChild(child);
    const rc = await child.exited;
    u.check(rc === 0, label + ": " + path.basename(server) + " exited 0 on SIGTERM (got " + rc +
            ")");
    if (u.anyFailed()) for (const line of child.output) console.log("  [server] " + line);
  }
}

async function main() {
  const server = process.argv[2];
  if (!server) { console.log("usage: node node_client_test.js ECHO_SERVER"); process.exit(2); }
  try { fs.accessSync(server, fs.constants.X_OK); } catch (e) { u.skip("no executable " + server); }
  await round(server, false);
  await round(server, true);
  process.exit(u.anyFailed() ? 1 : 0);
}

main();
