// Shared helpers of the node interop tests: finding npm's ws, child processes, results.
//
// Children are spawned directly (no shell), so child.pid is the process to stop; every test
// stops its children by that PID on the way out, including on SIGTERM (meson's timeout).
"use strict";
const { spawn } = require("child_process");
const path = require("path");
const os = require("os");

const SKIP = 77;

function skip(why) {
  console.log("SKIP: " + why);
  process.exit(SKIP);
}

// npm's ws: NODE_PATH (set by meson), else the directory scripts/setup installs it into.
function requireWs() {
  try {
    return require("ws");
  } catch (e) {
    const dir = process.env.WSX_NODE_DIR ||
                path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"),
                          "wsx-node");
    try {
      return require(path.join(dir, "node_modules", "ws"));
    } catch (e2) {
      skip("npm ws is not installed (NODE_PATH or " + dir + "/node_modules; run scripts/setup)");
    }
  }
  return null;
}

let failed = false;
function check(cond, what) {
  console.log((cond ? "ok   " : "FAIL ") + what);
  if (!cond) failed = true;
  return cond;
}
function anyFailed() { return failed; }

const children = new Set();

function stopChild(child, signal = "SIGTERM") {
  if (child.exitCode === null && child.signalCode === null) {
    try { process.kill(child.pid, signal); } catch (e) { /* already gone */ }
  }
}

// Stops every child still running (by PID) when the test ends or is told to stop.
function stopAll() { for (const c of children) stopChild(c, "SIGKILL"); }
process.on("exit", stopAll);
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => { stopAll(); process.exit(128 + (sig === "SIGTERM" ? 15 : 2)); });
}

// Spawns argv; resolves with the child once a stdout line matches `pattern` (and the match).
function startChild(argv, pattern, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    child.output = [];
    child.exited = new Promise((res) => child.on("exit", (code, sig) => {
      children.delete(child);
      res(code === null ? "signal " + sig : code);
    }));
    let buffer = "", done = false;
    const timer = setTimeout(() => {
      if (!done) { done = true; reject(new Error(argv[0] + ": no line matching " + pattern)); }
    }, timeoutMs);
    const onData = (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        child.output.push(line);
        const m = !done && line.match(pattern);
        if (m) { done = true; clearTimeout(timer); resolve({ child, match: m }); }
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    child.on("error", (e) => { if (!done) { done = true; clearTimeout(timer); reject(e); } });
    child.exited.then((code) => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error(argv[0] + " exited " + code)); }
    });
  });
}

// Runs argv to completion; resolves with {code, output}.
function runChild(argv, timeoutMs = 30000) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d) => { output += d; });
    child.stderr.setEncoding("utf8").on("data", (d) => { output += d; });
    const timer = setTimeout(() => stopChild(child, "SIGKILL"), timeoutMs);
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: code === null ? "signal " + sig : code, output });
    });
  });
}

module.exports = { SKIP, skip, requireWs, check, anyFailed, startChild, runChild, stopChild };
