// libevent_echo_server: a WebSocket echo server on wsx::libevent::server.
//
// Theory of operation: with --threads 1 (the default) the server is attached to an event_base
// this program owns and dispatches on its main thread, as an application embedding wsx in its
// own libevent loop would; with --threads N it runs on a wsx::libevent::loop_pool of N loops and
// the main thread only waits for a signal. The server accepts every upgrade and sends each whole
// message back with its own opcode. An echo that would exceed the output limit closes the
// connection with 1008 (backpressure::close_slow_consumer), as the poll example does. SIGINT or
// SIGTERM starts a graceful stop (1001 to every session, 2 s grace); when the last connection is
// gone the process exits 0 — attached, because event_base_dispatch() runs out of events (the
// signal events are removed once one has fired). The message limits are the conformance suite's
// (examples/common/conformance_driver.hpp). With --tls-cert/--tls-key it serves wss://.
// --verbose logs through the server's observer (examples/common/observer_log).
//
// usage: libevent_echo_server [--host 127.0.0.1] [--port 0] [--threads 1]
//                             [--tls-cert FILE --tls-key FILE] [--deflate]
//                             [--deflate-budget BYTES] [--verbose]
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <string_view>

#include "wsx/libevent/server.hpp"

#include "common/command_line.hpp"
#include "common/conformance_driver.hpp"
#include "common/observer_log.hpp"

namespace {

constexpr const char* program = "libevent_echo_server";
constexpr const char* usage =
    "usage: libevent_echo_server [--host HOST] [--port PORT] [--threads N]\n"
    "                            [--tls-cert FILE --tls-key FILE] [--deflate]\n"
    "                            [--deflate-budget BYTES] [--verbose]\n"
    "  --host HOST       address to listen on (default 127.0.0.1)\n"
    "  --port PORT       0-65535; 0 picks a free one, printed as \"listening on HOST:PORT\"\n"
    "  --threads N       1: the server is attached to this program's event_base (default);\n"
    "                    more: a wsx::libevent::loop_pool of N event loops on N threads\n"
    "  --tls-cert FILE   PEM certificate chain: serve wss:// (needs --tls-key)\n"
    "  --tls-key FILE    PEM private key\n"
    "  --deflate         accept permessage-deflate (RFC 7692)\n"
    "  --deflate-budget BYTES  the same, with BYTES of zlib state per connection\n"
    "                    (config::deflate.memory_budget, default 131072; 308024 or more\n"
    "                    gives windows 15 and memLevel 8, see docs/deflate.md)\n"
    "  --verbose         one line on stderr per session opened, per session ended\n"
    "                    (code, reason, duration, error) and per refused handshake\n"
    "                    (status, reason, peer)";

// How long a stopping server gives its sessions to finish their closing handshakes.
constexpr std::chrono::seconds stop_grace{2};

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned threads = 1;
  std::string tls_cert;
  std::string tls_key;
  bool deflate = false;
  unsigned deflate_budget = 0;  // 0: the default budget
  bool verbose = false;
};

// The server's TLS context from the PEM files (the server takes its own reference), or null
// with the reason printed.
SSL_CTX* load_tls(const options& opt) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx != nullptr && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
      SSL_CTX_use_certificate_chain_file(ctx, opt.tls_cert.c_str()) == 1 &&
      SSL_CTX_use_PrivateKey_file(ctx, opt.tls_key.c_str(), SSL_FILETYPE_PEM) == 1) {
    return ctx;
  }
  const char* why = ERR_reason_error_string(ERR_get_error());
  std::fprintf(stderr, "%s: TLS certificate/key: %s\n", program, why != nullptr ? why : "error");
  SSL_CTX_free(ctx);
  return nullptr;
}

wsx::libevent::server_options echo_options(const options& opt, SSL_CTX* tls) {
  wsx::libevent::server_options so;
  so.host = opt.host;
  so.port = opt.port;
  so.config = wsx::libevent::default_config();
  examples::apply_conformance_limits(so.config);
  so.config.deflate.enabled = opt.deflate || opt.deflate_budget != 0;
  if (opt.deflate_budget != 0) so.config.deflate.memory_budget = opt.deflate_budget;
  so.backpressure.action = wsx::backpressure::close_slow_consumer;
  so.tls = tls;  // the server takes a reference of its own
  so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind kind,
                              wsx::bytes_view payload) { s->send(kind, payload); };
  if (opt.verbose) {
    so.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      std::fprintf(stderr, "%s: %s opened\n", program, s->remote_endpoint().c_str());
    };
    // Refused handshakes and session ends: the server's observer (examples/common/observer_log).
    examples::log_to_stderr(so.observer, program);
  }
  return so;
}

// Starts `srv` and prints "listening on HOST:PORT" (flushed), or why it cannot listen.
bool start_listening(wsx::libevent::server& srv, const options& opt) {
  if (const std::error_code ec = srv.start()) {
    std::fprintf(stderr, "%s: cannot listen on %s:%u: %s\n", program, opt.host.c_str(),
                 static_cast<unsigned>(opt.port), ec.message().c_str());
    return false;
  }
  std::printf("listening on %s\n", srv.local_endpoint().to_string().c_str());
  std::fflush(stdout);
  return true;
}

// --threads 1: everything on this thread's event_base, signals included.
int run_attached(const options& opt, SSL_CTX* tls) {
  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "%s: cannot make an event_base\n", program);
    return 1;
  }
  int status = 0;
  {
    wsx::libevent::server srv(base, echo_options(opt, tls));
    struct signals {
      wsx::libevent::server* srv;
      event* on_int;
      event* on_term;
    } sig{&srv, nullptr, nullptr};
    const auto on_signal = [](evutil_socket_t, short, void* arg) {
      auto& s = *static_cast<signals*>(arg);
      event_del(s.on_int);  // gone, so that dispatch returns once the server has stopped
      event_del(s.on_term);
      s.srv->stop(stop_grace);
    };
    sig.on_int = evsignal_new(base, SIGINT, on_signal, &sig);
    sig.on_term = evsignal_new(base, SIGTERM, on_signal, &sig);
    event_add(sig.on_int, nullptr);
    event_add(sig.on_term, nullptr);
    if (start_listening(srv, opt)) {
      event_base_dispatch(base);  // returns once stopped: nothing of wsx is left on the base
    } else {
      status = 1;
    }
    event_free(sig.on_int);
    event_free(sig.on_term);
  }
  event_base_free(base);
  return status;
}

// --threads N: a loop pool; this thread waits for the signal, then for the stop.
int run_pooled(const options& opt, SSL_CTX* tls) {
  // Blocked before the pool's threads exist, so they inherit the mask and sigwait() gets them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  wsx::libevent::loop_pool pool(opt.threads);
  wsx::libevent::server srv(pool, echo_options(opt, tls));
  if (!start_listening(srv, opt)) return 1;
  int sig = 0;
  sigwait(&set, &sig);
  std::promise<void> stopped;
  srv.stop(stop_grace, [&stopped] { stopped.set_value(); });
  stopped.get_future().wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  examples::command_line cli(program, usage);
  cli.add_option("--host", examples::read_text(opt.host));
  cli.add_option("--port", examples::read_port(opt.port));
  cli.add_option("--threads", examples::read_count(opt.threads, 1));
  cli.add_option("--tls-cert", examples::read_text(opt.tls_cert));
  cli.add_option("--tls-key", examples::read_text(opt.tls_key));
  cli.add_switch("--deflate", opt.deflate);
  cli.add_option("--deflate-budget", examples::read_count(opt.deflate_budget, 1));
  cli.add_switch("--verbose", opt.verbose);
  if (const std::optional<int> status = cli.parse(argc, argv)) return *status;
  if (opt.tls_cert.empty() != opt.tls_key.empty()) {
    return cli.fail("--tls-cert and --tls-key go together");
  }
  SSL_CTX* tls = nullptr;
  if (!opt.tls_cert.empty()) {
    tls = load_tls(opt);
    if (tls == nullptr) return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);  // belt and braces: wsx sends with MSG_NOSIGNAL already
  const int status = opt.threads == 1 ? run_attached(opt, tls) : run_pooled(opt, tls);
  SSL_CTX_free(tls);
  return status;
}
