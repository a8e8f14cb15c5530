// asio_echo_server: a WebSocket echo server on wsx::asio::server.
//
// Theory of operation: one io_context run by --threads threads; the server accepts every upgrade
// and sends each whole message back with its own opcode. An echo that would exceed the output
// limit closes the connection with 1008 (backpressure::close_slow_consumer), as the poll example
// does. SIGINT/SIGTERM start a graceful stop (1001 to every session, 2 s grace); when the last
// connection is gone the io_context runs out of work, the threads return and the process exits 0.
// With --tls-cert/--tls-key it serves wss:// instead.
//
// usage: asio_echo_server [--host 127.0.0.1] [--port 0] [--threads 1]
//                         [--tls-cert FILE --tls-key FILE] [--verbose]
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/ssl/context.hpp>

#include "wsx/asio/server.hpp"

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned threads = 1;
  std::string tls_cert;
  std::string tls_key;
  bool verbose = false;
};

// Limits large enough for the conformance suite's section 9 (16 MiB messages, 4 MiB in 64-byte
// fragments), the same as the poll examples.
wsx::config echo_config() {
  wsx::config cfg = wsx::asio::default_config();
  cfg.max_message_size = 64 * 1024 * 1024;
  cfg.max_frame_payload = 64 * 1024 * 1024;
  cfg.max_fragments_per_message = 128 * 1024;
  cfg.max_buffered_output = 256 * 1024 * 1024;
  cfg.ping_interval = std::chrono::seconds(60);
  cfg.pong_timeout = std::chrono::seconds(30);
  return cfg;
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool parse_options(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--verbose") {
      opt.verbose = true;
    } else if (arg == "--host" && has_value) {
      opt.host = argv[++i];
    } else if (arg == "--port" && has_value) {
      if (!parse_number(argv[++i], opt.port)) return false;
    } else if (arg == "--threads" && has_value) {
      if (!parse_number(argv[++i], opt.threads) || opt.threads == 0) return false;
    } else if (arg == "--tls-cert" && has_value) {
      opt.tls_cert = argv[++i];
    } else if (arg == "--tls-key" && has_value) {
      opt.tls_key = argv[++i];
    } else {
      return false;
    }
  }
  return opt.tls_cert.empty() == opt.tls_key.empty();
}

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
  if (!parse_options(argc, argv, opt)) {
    std::fprintf(stderr,
                 "usage: asio_echo_server [--host HOST] [--port PORT] [--threads N]\n"
                 "                        [--tls-cert FILE --tls-key FILE] [--verbose]\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already

  asio::io_context io(static_cast<int>(opt.threads));
  wsx::asio::server_options so;
  so.host = opt.host;
  so.port = opt.port;
  so.config = echo_config();
  so.backpressure.action = wsx::backpressure::close_slow_consumer;
  if (!opt.tls_cert.empty()) {
    so.tls = load_tls(opt);
    if (!so.tls) return 1;
  }
  so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind kind,
                              wsx::bytes_view payload) { s->send(kind, payload); };
  if (opt.verbose) {
    so.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      std::fprintf(stderr, "[%s] open\n", s->remote_endpoint().c_str());
    };
    so.handlers.on_close = [](const wsx::session_ptr& s, wsx::close_code code,
                              std::string_view reason, std::error_code ec) {
      std::fprintf(stderr, "[%s] closed %u '%.*s'%s%s\n", s->remote_endpoint().c_str(),
                   static_cast<unsigned>(code), static_cast<int>(reason.size()), reason.data(),
                   ec ? " " : "", ec ? ec.message().c_str() : "");
    };
  }

  wsx::asio::server srv(io, std::move(so));
  if (const std::error_code ec = srv.start()) {
    std::fprintf(stderr, "asio_echo_server: cannot listen on %s:%u: %s\n", opt.host.c_str(),
                 static_cast<unsigned>(opt.port), ec.message().c_str());
    return 1;
  }
  const asio::ip::tcp::endpoint ep = srv.local_endpoint();
  const bool v6 = ep.address().is_v6();
  std::printf("listening on %s%s%s:%u\n", v6 ? "[" : "", ep.address().to_string().c_str(),
              v6 ? "]" : "", static_cast<unsigned>(ep.port()));
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) srv.stop(std::chrono::seconds(2));
  });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < opt.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (std::thread& t : threads) t.join();
  return 0;
}
