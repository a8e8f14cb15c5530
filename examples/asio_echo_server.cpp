// asio_echo_server: a WebSocket echo server on wsx::asio::server.
//
// Theory of operation: one io_context run by --threads threads (with one, the connections use the
// io_context's executor instead of a strand each: server_options::single_threaded); the server
// accepts every upgrade and sends each whole message back with its own opcode. An echo that would
// exceed the output limit closes the connection with 1008 (backpressure::close_slow_consumer), as
// the poll example does. SIGINT/SIGTERM start a graceful stop (1001 to every session, 2 s grace);
// when the last connection is gone the io_context runs out of work, the threads return and the
// process exits 0 (examples/common/cli.cpp). The message limits are the conformance suite's, as
// in the poll example (examples/common/conformance_driver.hpp). With --tls-cert/--tls-key it
// serves wss://. --verbose logs through the server's observer (examples/common/observer_log).
//
// usage: asio_echo_server [--host 127.0.0.1] [--port 0] [--threads 1]
//                         [--tls-cert FILE --tls-key FILE] [--deflate] [--deflate-budget BYTES]
//                         [--verbose]
#include <signal.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>

#include "wsx/asio/server.hpp"

#include "common/cli.hpp"
#include "common/command_line.hpp"
#include "common/conformance_driver.hpp"
#include "common/observer_log.hpp"

namespace {

struct options {
  examples::server_options server;
  std::string tls_cert;
  std::string tls_key;
  bool verbose = false;
  bool deflate = false;
  unsigned deflate_budget = 0;  // 0: the default budget
};

constexpr const char* usage =
    "usage: asio_echo_server [--host HOST] [--port PORT] [--threads N]\n"
    "                        [--tls-cert FILE --tls-key FILE] [--deflate]\n"
    "                        [--deflate-budget BYTES] [--verbose]\n"
    "  --host HOST       address to listen on (default 127.0.0.1)\n"
    "  --port PORT       0-65535; 0 picks a free one, printed as \"listening on HOST:PORT\"\n"
    "  --threads N       threads running the io_context (default 1)\n"
    "  --tls-cert FILE   PEM certificate chain: serve wss:// (needs --tls-key)\n"
    "  --tls-key FILE    PEM private key\n"
    "  --deflate         accept permessage-deflate (RFC 7692)\n"
    "  --deflate-budget BYTES  the same, with BYTES of zlib state per connection\n"
    "                    (config::deflate.memory_budget, default 131072; 308024 or more\n"
    "                    gives windows 15 and memLevel 8, see docs/deflate.md)\n"
    "  --verbose         one line on stderr per session opened, per session ended\n"
    "                    (code, reason, duration, error) and per refused handshake\n"
    "                    (status, reason, peer)";

std::shared_ptr<asio::ssl::context> load_tls(const options& opt) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  std::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(opt.tls_cert, ec);
  if (!ec) ctx->use_private_key_file(opt.tls_key, asio::ssl::context::pem, ec);
  if (ec) {
    std::fprintf(stderr, "asio_echo_server: TLS certificate/key: %s\n", ec.message().c_str());
    return nullptr;
  }
  return ctx;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  examples::command_line cli("asio_echo_server", usage);
  examples::add_server_options(cli, opt.server);
  cli.add_option("--tls-cert", examples::read_text(opt.tls_cert));
  cli.add_option("--tls-key", examples::read_text(opt.tls_key));
  cli.add_switch("--verbose", opt.verbose);
  cli.add_switch("--deflate", opt.deflate);
  cli.add_option("--deflate-budget", examples::read_count(opt.deflate_budget, 1));
  if (const std::optional<int> status = cli.parse(argc, argv)) return *status;
  if (opt.tls_cert.empty() != opt.tls_key.empty()) {
    return cli.fail("--tls-cert and --tls-key go together");
  }
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already

  asio::io_context io(static_cast<int>(opt.server.threads));
  wsx::asio::server_options so;
  so.host = opt.server.host;
  so.port = opt.server.port;
  so.single_threaded = opt.server.threads == 1;  // no strand per connection
  so.config = wsx::asio::default_config();
  examples::apply_conformance_limits(so.config);
  so.config.deflate.enabled = opt.deflate || opt.deflate_budget != 0;
  if (opt.deflate_budget != 0) so.config.deflate.memory_budget = opt.deflate_budget;
  so.backpressure.action = wsx::backpressure::close_slow_consumer;
  if (!opt.tls_cert.empty()) {
    so.tls = load_tls(opt);
    if (!so.tls) return 1;
  }
  so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind kind,
                              wsx::bytes_view payload) { s->send(kind, payload); };
  if (opt.verbose) {
    so.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      std::fprintf(stderr, "asio_echo_server: %s opened\n", s->remote_endpoint().c_str());
    };
    // Refused handshakes and session ends: the server's observer (examples/common/observer_log).
    examples::log_to_stderr(so.observer, "asio_echo_server");
  }

  wsx::asio::server srv(io, std::move(so));
  if (!examples::start_listening(srv, opt.server, "asio_echo_server")) return 1;
  examples::run_until_stopped(io, srv, opt.server);
  return 0;
}
