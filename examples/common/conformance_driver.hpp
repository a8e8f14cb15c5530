// What the conformance harness (wsconf's fuzzingclient.py / fuzzingserver.py) needs from every
// example, whatever its transport: message limits large enough for its cases, and the
// Autobahn-style client driver loop (command line, /getCaseCount, /runCase, /updateReports).
// Core only: poll_echo_client uses it without Asio.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "wsx/config.hpp"

#include "command_line.hpp"

namespace examples {

// Raises `cfg`'s limits to what the conformance suite's section 9 needs (16 MiB messages, 4 MiB
// in 64-byte fragments) with room to spare, and slows the heartbeat so it never interferes with
// a case. Other fields (delivery, deadlines) are left as they are.
inline void apply_conformance_limits(wsx::config& cfg) {
  cfg.max_message_size = 64 * 1024 * 1024;
  cfg.max_frame_payload = 64 * 1024 * 1024;
  cfg.max_fragments_per_message = 128 * 1024;
  cfg.max_buffered_output = 256 * 1024 * 1024;
  cfg.ping_interval = std::chrono::seconds(60);
  cfg.pong_timeout = std::chrono::seconds(30);
}

// A client driver's command line: `--agent NAME [--verbose] [--deflate] URL`, in any order.
struct driver_options {
  std::string agent;
  bool verbose = false;
  bool deflate = false;  // --deflate: offer permessage-deflate
  std::string url;  // as given; each client checks the form it supports
};

// Reads argv into `out` (examples/common/command_line.hpp): --help prints the usage on stdout;
// an unknown option, a second URL, a URL that `read_url` refuses (it returns why: "is not a
// ws:// URL"), a missing --agent or URL prints what is wrong on stderr. Returns
// std::nullopt to go on, else the exit status to return (0 after --help, 2 otherwise).
std::optional<int> parse_driver_options(const char* program, int argc, char** argv,
                                        driver_options& out, const value_reader& read_url);

// Runs one WebSocket connection to `target` (a path with query, appended to the server's URL)
// until it is over, echoing every message with its own opcode; when `last_text` is set, stores
// the last text message received there. Returns false when the connection never opened.
using connection_runner = std::function<bool(const std::string& target, std::string* last_text)>;

// The fuzzing server's protocol, one connection at a time: /getCaseCount (a text message with
// the number of cases N), /runCase?case=i&agent=AGENT for i = 1..N (their outcome is the
// server's to judge: some cases expect the connection to fail), /updateReports?agent=AGENT.
// Prints "PROGRAM: N cases" to stdout and failures to stderr. Returns the process exit status:
// 0, or 1 when the case count or the report update failed.
int run_conformance_cases(const char* program, const std::string& agent,
                          const connection_runner& run);

}  // namespace examples
