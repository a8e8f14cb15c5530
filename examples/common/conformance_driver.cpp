// The client driver loop shared by poll_echo_client and asio_echo_client.
//
// The fuzzing server judges a client by what it does on the connections the driver opens, one
// at a time: it announces the case count on /getCaseCount, runs one case per /runCase
// connection and writes its report when /updateReports is opened. The transport-specific part —
// opening a connection and echoing until it is over — is the caller's connection_runner; this
// file owns the command line, the sequence of targets and the exit status.
#include "conformance_driver.hpp"

#include <charconv>
#include <cstdio>
#include <string_view>

namespace examples {

bool parse_driver_options(int argc, char** argv, driver_options& out) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--agent" && i + 1 < argc) {
      out.agent = argv[++i];
    } else if (arg == "--verbose") {
      out.verbose = true;
    } else if (out.url.empty() && !arg.starts_with("-")) {
      out.url = arg;
    } else {
      return false;
    }
  }
  return !out.url.empty() && !out.agent.empty();
}

void print_driver_usage(const char* program) {
  std::fprintf(stderr, "usage: %s --agent NAME [--verbose] ws://HOST:PORT\n", program);
}

int run_conformance_cases(const char* program, const std::string& agent,
                          const connection_runner& run) {
  std::string count_text;
  if (!run("/getCaseCount", &count_text)) {
    std::fprintf(stderr, "%s: /getCaseCount failed\n", program);
    return 1;
  }
  int count = 0;
  const char* const end_of_text = count_text.data() + count_text.size();
  const auto [end, ec] = std::from_chars(count_text.data(), end_of_text, count);
  if (ec != std::errc{} || end != end_of_text || count < 0) {
    std::fprintf(stderr, "%s: bad case count '%s'\n", program, count_text.c_str());
    return 1;
  }
  std::printf("%s: %d cases\n", program, count);
  std::fflush(stdout);

  for (int i = 1; i <= count; ++i) {
    // A case may expect us to fail the connection: its outcome is the server's to judge.
    run("/runCase?case=" + std::to_string(i) + "&agent=" + agent, nullptr);
  }
  if (!run("/updateReports?agent=" + agent, nullptr)) {
    std::fprintf(stderr, "%s: /updateReports failed\n", program);
    return 1;
  }
  return 0;
}

}  // namespace examples
