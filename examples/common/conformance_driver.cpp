// The client driver loop shared by poll_echo_client and asio_echo_client.
//
// The fuzzing server judges a client by what it does on the connections the driver opens, one
// at a time: it announces the case count on /getCaseCount, runs one case per /runCase
// connection and writes its report when /updateReports is opened. The transport-specific part —
// opening a connection and echoing until it is over — is the caller's connection_runner; this
// file owns the command line (on examples/common/command_line), the sequence of targets and the
// exit status.
#include "conformance_driver.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace examples {

std::optional<int> parse_driver_options(const char* program, int argc, char** argv,
                                        driver_options& out, const value_reader& read_url) {
  command_line cli(program, std::string("usage: ") + program +
                                " --agent NAME [--verbose] [--deflate] ws://HOST:PORT[/PATH]\n"
                                "  --agent NAME   the name the fuzzing server's report uses\n"
                                "  --verbose      every event of every connection on stderr\n"
                                "  --deflate      offer permessage-deflate (RFC 7692)\n"
                                "  URL            the fuzzing server");
  cli.add_option("--agent", read_text(out.agent));
  cli.add_switch("--verbose", out.verbose);
  cli.add_switch("--deflate", out.deflate);
  cli.add_positional("URL", [&](std::string_view url) {
    std::string why = read_url(url);
    if (why.empty()) out.url = std::string(url);
    return why;
  });
  if (const std::optional<int> status = cli.parse(argc, argv)) return status;
  if (out.agent.empty()) return cli.fail("--agent NAME is required");
  if (out.url.empty()) return cli.fail("the fuzzing server's URL is required");
  return std::nullopt;
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
