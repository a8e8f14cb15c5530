#!/usr/bin/env python3
"""Runs deflate_load against several echo servers, interleaved, and prints the tables.

usage: run_peers.py --load PATH --peer NAME='COMMAND {port}' [--peer ...] [--baseline NAME]
                    [--sizes 1024,65536] [--conns 1,100,1000] [--depths 1,16] [--reps 3]
                    [--duration 2] [--warmup 0.5] [--max-other-cpu 15] [--retries 2]
                    [--memory N] [--memory-sizes 1024,65536] [--out FILE.jsonl]
                    [-- DEFLATE_LOAD_ARGS...]

Each run starts a fresh server (COMMAND with {port} replaced by a free port, pinned to CPU 0 with
taskset, stopped by its PID with SIGTERM), waits for its "listening on" line, and runs
deflate_load pinned to CPU 1 with --server-pid. For every cell the peers take turns (rep 1 of
every peer, then rep 2, the order rotating), so that a noisy moment hits all of them. A run during
which anything else used more than --max-other-cpu percent of a CPU is repeated up to --retries
times, then kept and flagged N. --memory N adds, per peer and size, the server RSS per connection
with N connections idle (deflate agreed, nothing sent) and active (one message echoed on each).
Arguments after `--` go to every deflate_load run (e.g. --client-max-window-bits none).
Every result is one JSON line in --out; the tables (medians, and each peer against --baseline,
the first peer by default) go to stdout; --report FILE.jsonl prints them again from such a file.
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command):
    port = free_port()
    argv = ["taskset", "-c", "0"] + shlex.split(command.replace("{port}", str(port)))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 15
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        if "listening on" in line:
            return p, port
    stop_server(p)
    raise RuntimeError(f"server did not start: {command}")


def stop_server(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def load(args, pid, port, extra):
    argv = ["taskset", "-c", "1", args.load, *extra, "--server-pid", str(pid),
            f"ws://127.0.0.1:{port}/"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not done.stdout.strip():
        return {"error": done.stderr.strip() or f"exit {done.returncode}"}
    return json.loads(done.stdout)


def run_one(args, peer, command, extra):
    for attempt in range(args.retries + 1):
        p, port = start_server(command)
        try:
            r = load(args, p.pid, port, extra)
        finally:
            stop_server(p)
        r["peer"] = peer
        r["noisy"] = r.get("other_cpu_pct", 0) > args.max_other_cpu
        if not r["noisy"] or "error" in r:
            break
    return r


def csv(text, kind=int):
    return [kind(x) for x in text.split(",") if x]


def fmt_rate(v):
    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k" if v >= 1e3 else f"{v:.0f}"


def cpu_us(r):
    """Server CPU time per echoed message, in microseconds."""
    return r["server_cpu_pct"] / 100 / r["msgs_per_s"] * 1e6 if r.get("msgs_per_s") else 0


def print_table(results, names, base, key, title, fmt, higher_is_better):
    """One row per cell: each peer's median (N: a run was noisy, E: a run failed), then each other
    peer against the baseline: peer ÷ baseline for messages/s, baseline ÷ peer for CPU per
    message, so that above 1.0 always means the peer does better than the baseline."""
    others = [n for n in names if n != base]
    print(f"{title}, median of the runs; ratios: each peer against {base}, above 1.0 = better")
    print("| size | conns | depth | " + " | ".join(names) + " | " +
          " | ".join(f"{n} ÷ {base}" for n in others) + " |")
    print("|" + "---:|" * (3 + len(names) + len(others)))
    for (size, conns, depth), byname in results.items():
        med, notes = {}, {}
        for n in names:
            ok = [r for r in byname.get(n, []) if "msgs_per_s" in r]
            vals = [r["msgs_per_s"] if key == "msgs_per_s" else cpu_us(r) for r in ok]
            med[n] = statistics.median(vals) if vals else 0
            notes[n] = ("N" if any(r["noisy"] for r in ok) else "") + \
                ("E" if len(ok) < len(byname.get(n, [])) else "")
        cols = [f"{fmt(med[n])}{notes[n]}" for n in names]
        ratios = []
        for n in others:
            a, b = (med[n], med[base]) if higher_is_better else (med[base], med[n])
            ratios.append(f"{a / b:.2f}×" if a and b else "-")
        print(f"| {size} | {conns} | {depth} | " + " | ".join(cols) + " | " +
              " | ".join(ratios) + " |")

def print_tables(results, names, base):
    print_table(results, names, base, "msgs_per_s", "messages/s", fmt_rate, True)
    print()
    print_table(results, names, base, "cpu_us", "server CPU µs per message",
                lambda v: f"{v:.1f}", False)


def report(path, baseline):
    """The tables and memory lines of the JSON lines in `path`."""
    results, names, memory = {}, [], []
    for line in open(path):
        r = json.loads(line)
        if r["peer"] not in names:
            names.append(r["peer"])
        if "memory_size" in r:
            memory.append(r)
        elif "cell" in r:
            results.setdefault(tuple(r["cell"]), {}).setdefault(r["peer"], []).append(r)
    if results:
        print_tables(results, [n for n in names if any(n in b for b in results.values())],
                     baseline or names[0])
    for r in memory:
        print(f"memory {r['peer']} {r['memory_size']} B: idle {r.get('idle_bytes_per_conn')} "
              f"active {r.get('active_bytes_per_conn')} B/conn "
              f"({r.get('extensions', r.get('error'))})")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--load")
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--report", help="print the tables of an earlier run's JSON lines and stop")
    ap.add_argument("--baseline")
    ap.add_argument("--sizes", default="1024,65536")
    ap.add_argument("--conns", default="1,100,1000")
    ap.add_argument("--depths", default="1,16")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=2)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--max-other-cpu", type=float, default=15)
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--memory", type=int, default=0)
    ap.add_argument("--memory-sizes", default="1024,65536")
    ap.add_argument("--no-matrix", action="store_true")
    ap.add_argument("--out", default="deflate_peers.jsonl")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    if args.report:
        return report(args.report, args.baseline)
    if not args.load or not args.peer:
        ap.error("--load and at least one --peer are needed")
    peers = [tuple(p.split("=", 1)) for p in args.peer]
    names = [n for n, _ in peers]
    base = args.baseline or names[0]
    out = open(args.out, "a")
    results = {}
    cells = [] if args.no_matrix else [(s, c, d) for s in csv(args.sizes)
                                       for c in csv(args.conns) for d in csv(args.depths)]
    for i, (size, conns, depth) in enumerate(cells):
        for rep in range(args.reps):
            order = peers[(i + rep) % len(peers):] + peers[:(i + rep) % len(peers)]
            for name, command in order:
                extra = [*args.extra, "-c", str(conns), "-p", str(depth), "-s", str(size),
                         "-d", str(args.duration), "-w", str(args.warmup)]
                r = run_one(args, name, command, extra)
                r.update({"cell": [size, conns, depth], "rep": rep})
                out.write(json.dumps(r) + "\n")
                out.flush()
                results.setdefault((size, conns, depth), {}).setdefault(name, []).append(r)
                print(f"# {size} x {conns} x {depth} rep {rep} {name}: "
                      f"{r.get('msgs_per_s', r.get('error'))}", file=sys.stderr)
    if cells:
        print_tables(results, names, base)
    for size in (csv(args.memory_sizes) if args.memory else []):
        for name, command in peers:
            p, port = start_server(command)
            try:
                r = load(args, p.pid, port, [*args.extra, "--memory", str(args.memory),
                                              "-s", str(size)])
            finally:
                stop_server(p)
            r.update({"peer": name, "memory_size": size})
            out.write(json.dumps(r) + "\n")
            out.flush()
            print(f"memory {name} {size} B: idle {r.get('idle_bytes_per_conn')} "
                  f"active {r.get('active_bytes_per_conn')} B/conn "
                  f"({r.get('extensions', r.get('error'))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
