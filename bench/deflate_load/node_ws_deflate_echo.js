// Echo server on npm `ws` with permessage-deflate, the node peer of deflate_load's runs
// (docs/performance.md, "permessage-deflate"). One JS thread; ws runs zlib in libuv's thread pool.
// usage: node node_ws_deflate_echo.js PORT [WINDOW_BITS MEM_LEVEL]
//   WINDOW_BITS 9-15 (default 15: the answer names no server_max_window_bits; below 15 it says
//   server_max_window_bits=WINDOW_BITS), MEM_LEVEL 1-9 (default 8), zlib level 6, threshold 64 B.
// NODE_PATH must point at a node_modules holding ws.
'use strict';
const { WebSocketServer } = require('ws');

const port = parseInt(process.argv[2], 10);
const windowBits = parseInt(process.argv[3] || '15', 10);
const memLevel = parseInt(process.argv[4] || '8', 10);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: {
    zlibDeflateOptions: { level: 6, memLevel },
    serverMaxWindowBits: windowBits < 15 ? windowBits : undefined,
    threshold: 64,  // as wsx's default; ws's own default (1024) would leave some 1 KiB messages out
  },
  maxPayload: 64 * 1024 * 1024,
  clientTracking: false,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});  // the load generator resets its connections at the end of a run
});
wss.on('listening', () => {
  const version = require('ws/package.json').version;
  console.log(`listening on 127.0.0.1:${port} (node ws ${version}, window ${windowBits}, ` +
              `memLevel ${memLevel})`);
});
process.on('SIGTERM', () => process.exit(0));
