#!/usr/bin/env python3
"""The command line of one example program (examples/common/command_line.cpp).

usage: cli_test.py KIND PROGRAM   (KIND: poll_server, asio_server, chat, client)

Runs PROGRAM with --help and with bad arguments, and checks, for each: the exit status (0 after
--help, 2 after a bad argument), which stream gets the text (the usage on stdout, the error on
stderr, nothing on the other), and the exact error line, which names the flag and the value.
Every case has a 10 s limit: a program that takes bad arguments and starts serving fails it.
Prints one line per case and exits 1 if any failed.
"""
import os
import subprocess
import sys

COMMON = [
    # (arguments, exit status, the first line of stderr, or None for --help and the usage)
    (["--help"], 0, None),
    (["-h"], 0, None),
    (["--bogus"], 2, "unknown option --bogus"),
    (["--bogus", "--help"], 0, None),  # --help wins
]
SERVER = [
    (["--port", "99999"], 2, "--port: 99999 is not a port (0-65535)"),
    (["--port", "http"], 2, "--port: http is not a port (0-65535)"),
    (["--port", "-1"], 2, "--port: -1 is not a port (0-65535)"),
    (["--port"], 2, "--port needs a value"),
    (["--host"], 2, "--host needs a value"),
    (["--host", ""], 2, "--host: '' is empty"),
    (["--port", "99999", "--help"], 0, None),
    (["extra"], 2, "unexpected argument 'extra'"),
]
ASIO_SERVER = [
    (["--threads", "0"], 2, "--threads: 0 is not a whole number of at least 1"),
    (["--threads", "two"], 2, "--threads: two is not a whole number of at least 1"),
]
CASES = {
    "poll_server": COMMON + SERVER,
    "asio_server": COMMON + SERVER + ASIO_SERVER + [
        (["--tls-cert", "cert.pem"], 2, "--tls-cert and --tls-key go together"),
        (["--tls-key", "key.pem"], 2, "--tls-cert and --tls-key go together"),
    ],
    "chat": COMMON + SERVER + ASIO_SERVER + [
        (["--secret", ""], 2, "--secret: '' is empty"),
        (["--ping-interval", "soon"], 2,
         "--ping-interval: soon is not a whole number of at least 0"),
        (["--transport", "uv"], 2, "--transport: uv is not a transport (asio or libevent)"),
        (["--redis", "http://127.0.0.1:6379"], 2,
         "--redis: http://127.0.0.1:6379 is not a redis:// URL (redis://HOST:PORT, HOST an IP address or localhost)"),
        (["--redis", "redis://example.com:6379"], 2,
         "--redis: redis://example.com:6379 is not a redis:// URL (redis://HOST:PORT, HOST an IP address or localhost)"),
        (["--redis", "redis://127.0.0.1:99999"], 2,
         "--redis: redis://127.0.0.1:99999 is not a redis:// URL (redis://HOST:PORT, HOST an IP address or localhost)"),
        (["--node", "a"], 2, "--node and --node-timeout need --redis"),
        (["--redis", "redis://127.0.0.1:1", "--node-timeout", "0"], 2,
         "--node-timeout: 0 is not a whole number of at least 1"),
    ],
    "client": COMMON + [
        (["ws://127.0.0.1:9/"], 2, "--agent NAME is required"),
        (["--agent", "wsx"], 2, "the fuzzing server's URL is required"),
        (["--agent"], 2, "--agent needs a value"),
        (["--agent", "wsx", "ws://127.0.0.1:9", "ws://127.0.0.1:10"], 2,
         "unexpected argument 'ws://127.0.0.1:10'"),
        (["--agent", "wsx", "http://127.0.0.1:9/"], 2, None),  # the reason is the client's own
    ],
}
CLIENT_URL_REASON = {
    "asio_echo_client": "URL: http://127.0.0.1:9/ is not a ws:// URL",
    "libevent_echo_client": "URL: http://127.0.0.1:9/ is not a ws:// URL",
    "poll_echo_client": "URL: http://127.0.0.1:9/ is not a ws://HOST:PORT URL",
}


def run_case(program, name, args, status, error):
    try:
        done = subprocess.run([program] + args, capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "still running after 10 s (it accepted the arguments)"
    problems = []
    if done.returncode != status:
        problems.append(f"exit status {done.returncode}, expected {status}")
    if status == 0:
        if not done.stdout.startswith(f"usage: {name} "):
            problems.append(f"stdout does not start with 'usage: {name} ': {done.stdout[:80]!r}")
        if done.stderr:
            problems.append(f"stderr is not empty: {done.stderr[:200]!r}")
    else:
        first = done.stderr.split("\n", 1)[0]
        if first != f"{name}: {error}":
            problems.append(f"stderr's first line is {first!r}, expected {name + ': ' + error!r}")
        if f"{name} --help" not in done.stderr:
            problems.append("stderr does not point at --help")
        if done.stdout:
            problems.append(f"stdout is not empty: {done.stdout[:200]!r}")
    return "; ".join(problems)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        print(__doc__.strip().split("\n")[2], file=sys.stderr)
        return 2
    kind, program = sys.argv[1], sys.argv[2]
    name = os.path.basename(program)
    failed = 0
    for args, status, error in CASES[kind]:
        if kind == "client" and status == 2 and error is None:
            error = CLIENT_URL_REASON[name]
        why = run_case(program, name, args, status, error)
        print(f"{'ok  ' if not why else 'FAIL'} {name} {' '.join(repr(a) for a in args)}"
              + (f": {why}" if why else ""))
        failed += bool(why)
    print(f"{name}: {len(CASES[kind]) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
