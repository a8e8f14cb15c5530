// npm ws (v8) as a client of examples/asio_echo_server.
//
// Checks: text (multi-byte UTF-8) and binary echoes with their opcodes, an empty message, a
// 4 MiB message, 500 pipelined messages in order, ping/pong, an application close code echoed,
// permessage-deflate offered and declined, and a plain HTTP GET answered 426 with a body that
// names the missing header.
//
// usage: node node_client_test.js ASIO_ECHO_SERVER
"use strict";
const fs = require("fs");
const http = require("http");
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

async function checks(port) {
  const url = "ws://127.0.0.1:" + port + "/";
  const ws = new WebSocket(url, { perMessageDeflate: true, maxPayload: 8 * 1024 * 1024 });
  const box = inbox(ws);
  await once(ws, "open");
  u.check(ws.extensions === "", "permessage-deflate offered and declined (extensions '" +
          ws.extensions + "')");

  const text = "hello wsx \u00e9\u2713\u{1F642}";
  ws.send(text);
  let m = await box.next();
  u.check(!m.isBinary && m.data.toString("utf8") === text, "text echo with multi-byte UTF-8");

  const bin = Buffer.alloc(1024);
  for (let i = 0; i < bin.length; i++) bin[i] = i & 0xff;
  ws.send(bin);
  m = await box.next();
  u.check(m.isBinary && Buffer.compare(m.data, bin) === 0, "binary echo (1 KiB, every byte value)");

  ws.send("");
  m = await box.next();
  u.check(!m.isBinary && m.data.length === 0, "empty text message");

  const big = require("crypto").randomBytes(4 * 1024 * 1024);
  ws.send(big);
  m = await box.next();
  u.check(m.isBinary && Buffer.compare(m.data, big) === 0, "4 MiB binary echo");

  for (let i = 0; i < 500; i++) ws.send("msg " + i);
  let inOrder = true;
  for (let i = 0; i < 500; i++) {
    m = await box.next();
    if (m.data.toString() !== "msg " + i) inOrder = false;
  }
  u.check(inOrder, "500 pipelined messages echoed in order");

  ws.ping(Buffer.from("are you there"));
  const [pong] = await once(ws, "pong");
  u.check(pong.toString() === "are you there", "ping answered by a pong with the same payload");

  ws.close(4002, "node done");
  const [code, reason] = await once(ws, "close");
  u.check(code === 4002, "application close code echoed: " + code + " '" + reason + "'");

  const res = await httpGet(port);
  u.check(res.status === 426 && res.body.includes("Upgrade: websocket header missing"),
          "plain GET answered " + res.status + ": " + res.body.trim());
}

async function main() {
  const server = process.argv[2];
  if (!server) { console.log("usage: node node_client_test.js ASIO_ECHO_SERVER"); process.exit(2); }
  try { fs.accessSync(server, fs.constants.X_OK); } catch (e) { u.skip("no executable " + server); }
  const { child, match } = await u.startChild([server, "--host", "127.0.0.1", "--port", "0"],
                                              /^listening on (\S+):(\d+)$/);
  try {
    await checks(Number(match[2]));
  } catch (e) {
    u.check(false, "unexpected error: " + (e && e.stack || e));
  } finally {
    u.stopChild(child);
    const rc = await child.exited;
    u.check(rc === 0, "asio_echo_server exited 0 on SIGTERM (got " + rc + ")");
    if (u.anyFailed()) for (const line of child.output) console.log("  [server] " + line);
  }
  process.exit(u.anyFailed() ? 1 : 0);
}

main();
