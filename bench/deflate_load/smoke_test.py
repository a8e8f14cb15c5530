#!/usr/bin/env python3
"""Smoke test of deflate_load against an echo example (no timing is checked).

usage: smoke_test.py DEFLATE_LOAD ECHO_SERVER

Starts ECHO_SERVER --port 0 --deflate on 127.0.0.1, runs short loads (1 KiB and 64 KiB JSON
text, pipelined, with and without context takeover) and checks that each exits 0, echoed
messages, every echo compressed, no connection lost. Then starts the server without --deflate
and checks that deflate_load refuses to measure it (exit 1, "declined"). Servers are stopped by
PID.
"""
import json
import subprocess
import sys


def start(server, *flags):
    p = subprocess.Popen([server, "--host", "127.0.0.1", "--port", "0", *flags],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        p.kill()
        sys.exit(f"server did not start: {line!r}")
    return p, line.rsplit(":", 1)[1]


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def main():
    load, server = sys.argv[1], sys.argv[2]
    problems = []
    runs = [
        ["-c", "4", "-p", "4", "-s", "1024"],
        ["-c", "2", "-p", "2", "-s", "65536"],
        ["-c", "3", "-p", "8", "-s", "1024", "--client-max-window-bits", "10",
         "--server-no-context-takeover", "--client-no-context-takeover"],
    ]
    p, port = start(server, "--deflate")
    try:
        for args in runs:
            cmd = [load, *args, "-d", "0.3", "-w", "0.1", "--server-pid", str(p.pid),
                   f"ws://127.0.0.1:{port}/"]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            what = " ".join(args)
            if done.returncode != 0:
                problems.append(f"{what}: exit {done.returncode}: {done.stderr.strip()}")
                continue
            r = json.loads(done.stdout)
            if r["msgs_per_s"] <= 0:
                problems.append(f"{what}: no echo")
            if r["compressed_echoes_pct"] != 100.0:
                problems.append(f"{what}: {r['compressed_echoes_pct']} % of echoes compressed")
            if r["errors"] != 0 or r["stalled_conns"] != 0:
                problems.append(f"{what}: {r['errors']} errors, {r['stalled_conns']} stalled")
            if not r["extensions"].startswith("permessage-deflate"):
                problems.append(f"{what}: extensions {r['extensions']!r}")
            if "no_context_takeover" in what and "server_no_context_takeover" not in r["extensions"]:
                problems.append(f"{what}: server_no_context_takeover not agreed")
    finally:
        stop(p)
    p, port = start(server)
    try:
        done = subprocess.run([load, "-d", "0.2", "-w", "0", f"ws://127.0.0.1:{port}/"],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 1 or "declined" not in done.stderr:
            problems.append(f"plain server: exit {done.returncode}, {done.stderr.strip()!r}")
    finally:
        stop(p)
    for line in problems:
        print(line)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
