// wsx_client_probe: drives a wsx client (--transport asio: wsx::asio::client; libevent:
// wsx::libevent::client on an event_base of its own) against another implementation's echo
// server and says what happened, for the interop tests (python3-websockets, npm ws).
//
// Theory of operation: connect to the URL, offering permessage-deflate with --deflate; once
// open, the agreed Sec-WebSocket-Extensions must be permessage-deflate with --deflate and empty
// without. A separate thread then sends --count messages (text and binary in turn, sizes from 0
// bytes up to --size, the text ones with multi-byte UTF-8, in frames of at most --fragment bytes
// when given) through the session handle — the "send from any thread" path — while the loop
// checks that every echo comes back whole, byte for byte and in order. Then a ping must be
// answered by a pong with the same payload, and a close with --close-code/--close-reason must be
// answered by the server's close with the same code. With --expect-status the upgrade must
// instead be refused with that HTTP status (and --expect-body text in the body). Everything runs
// under one --timeout-ms deadline (a timer on the loop). Prints one "probe: …" line per step;
// exit 0 when every check passed, 1 otherwise, 2 on usage.
//
// usage: wsx_client_probe URL [--transport asio|libevent] [--deflate] [--fragment BYTES]
//                             [--count N] [--size BYTES] [--close-code C] [--close-reason R]
//                             [--expect-status S [--expect-body TEXT]] [--timeout-ms MS]
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "wsx/common/handlers.hpp"
#include "wsx/config.hpp"

#if WSX_PROBE_ASIO
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "wsx/asio/client.hpp"
#endif
#if WSX_PROBE_LIBEVENT
#include <event2/event.h>

#include "wsx/libevent/client.hpp"
#endif

namespace {

struct options {
  std::string url;
  std::string transport = "asio";
  bool deflate = false;
  std::size_t fragment = 0;
  std::size_t count = 20;
  std::size_t size = 256 * 1024;
  unsigned close_code = 4000;
  std::string close_reason = "probe done";
  int expect_status = 0;
  std::string expect_body;
  unsigned timeout_ms = 20000;
};

template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool parse_options(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (!arg.starts_with("--")) {
      if (!opt.url.empty()) return false;
      opt.url = arg;
    } else if (arg == "--deflate") {
      opt.deflate = true;
    } else if (!has_value) {
      return false;
    } else if (arg == "--transport") {
      opt.transport = argv[++i];
      if (opt.transport != "asio" && opt.transport != "libevent") return false;
    } else if (arg == "--fragment") {
      if (!parse_number(argv[++i], opt.fragment)) return false;
    } else if (arg == "--count") {
      if (!parse_number(argv[++i], opt.count) || opt.count == 0) return false;
    } else if (arg == "--size") {
      if (!parse_number(argv[++i], opt.size)) return false;
    } else if (arg == "--close-code") {
      if (!parse_number(argv[++i], opt.close_code) || opt.close_code > 65535) return false;
    } else if (arg == "--close-reason") {
      opt.close_reason = argv[++i];
    } else if (arg == "--expect-status") {
      if (!parse_number(argv[++i], opt.expect_status)) return false;
    } else if (arg == "--expect-body") {
      opt.expect_body = argv[++i];
    } else if (arg == "--timeout-ms") {
      if (!parse_number(argv[++i], opt.timeout_ms)) return false;
    } else {
      return false;
    }
  }
  return !opt.url.empty();
}

struct expected_message {
  wsx::message_kind kind;
  std::string payload;
};

// Message i: text when i is even, binary when odd; sizes 0, 1, then growing geometrically to
// `largest` for the last one. Text repeats ASCII and 2-, 3- and 4-byte UTF-8 sequences, cut only
// at sequence boundaries; binary runs through every byte value.
std::vector<expected_message> make_messages(std::size_t count, std::size_t largest) {
  static constexpr std::string_view text_unit = "wsx \xC3\xA9\xE2\x9C\x93\xF0\x9F\x99\x82 ";
  std::vector<expected_message> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t size = 0;
    if (i + 1 == count) {
      size = largest;
    } else if (i > 0) {
      size = std::min(largest, std::size_t{1} << std::min<std::size_t>(i, 20));
    }
    expected_message m{i % 2 == 0 ? wsx::message_kind::text : wsx::message_kind::binary, {}};
    if (m.kind == wsx::message_kind::text) {
      while (m.payload.size() + text_unit.size() <= size) m.payload += text_unit;
      while (m.payload.size() < size) m.payload += 'x';
    } else {
      m.payload.resize(size);
      for (std::size_t b = 0; b < size; ++b) m.payload[b] = static_cast<char>((b + i) & 0xFF);
    }
    out.push_back(std::move(m));
  }
  return out;
}

const char* kind_name(wsx::message_kind k) {
  return k == wsx::message_kind::text ? "text" : "binary";
}

// What one run saw, filled by the client's handlers on its loop.
class probe {
 public:
  explicit probe(const options& opt) : opt_(opt), messages_(make_messages(opt.count, opt.size)) {}
  ~probe() {
    if (sender_.joinable()) sender_.join();
  }

  // The client's config and handlers for this run.
  void fill(wsx::config& cfg, wsx::session_handlers& h) {
    cfg.max_message_size = opt_.size + 1024;
    cfg.max_frame_payload = opt_.size + 1024;
    cfg.deflate.enabled = opt_.deflate;
    cfg.auto_fragment_size = opt_.fragment;
    h.on_open = [this](const wsx::session_ptr& s, const wsx::opened& o) { on_open(s, o); };
    h.on_message = [this](const wsx::session_ptr& s, wsx::message_kind kind,
                          wsx::bytes_view payload) { on_message(s, kind, payload); };
    h.on_pong = [this](const wsx::session_ptr& s, wsx::bytes_view payload) {
      pong_ok_ = wsx::as_string(payload) == ping_payload;
      std::printf("probe: %s pong '%.*s'\n", pong_ok_ ? "ok" : "FAIL",
                  static_cast<int>(payload.size()), reinterpret_cast<const char*>(payload.data()));
      s->close(static_cast<wsx::close_code>(opt_.close_code), opt_.close_reason);
    };
    h.on_connect_error = [this](const wsx::session_ptr&, const wsx::rejected& r) {
      std::printf("probe: upgrade refused: status %d, reason '%s', body '%s'\n", r.status,
                  r.reason.c_str(), r.body.c_str());
      rejected_ok_ = opt_.expect_status != 0 && r.status == opt_.expect_status &&
                     r.body.find(opt_.expect_body) != std::string::npos;
      if (opt_.expect_status != 0) {
        std::printf("probe: %s refusal with HTTP %d%s%s\n", rejected_ok_ ? "ok" : "FAIL",
                    opt_.expect_status, opt_.expect_body.empty() ? "" : " naming ",
                    opt_.expect_body.c_str());
      }
    };
    h.on_close = [this](const wsx::session_ptr&, wsx::close_code code, std::string_view reason,
                        std::error_code ec) {
      closed_ = true;
      close_ok_ = static_cast<unsigned>(code) == opt_.close_code && !ec;
      if (opened_ && opt_.expect_status == 0) {
        std::printf("probe: %s closed with %u '%.*s'%s%s\n", close_ok_ ? "ok" : "FAIL",
                    static_cast<unsigned>(code), static_cast<int>(reason.size()), reason.data(),
                    ec ? " error: " : "", ec ? ec.message().c_str() : "");
      }
      if (on_finished) on_finished();
    };
  }

  // Called by the runner when the deadline passes first.
  void timed_out() const {
    std::printf("probe: FAIL timeout after %u ms (%zu/%zu echoes, pong %s)\n", opt_.timeout_ms,
                received_, messages_.size(), pong_ok_ ? "yes" : "no");
  }

  bool passed() const {
    if (opt_.expect_status != 0) return rejected_ok_;
    return opened_ && extensions_ok_ && echoes_ok_ && received_ == messages_.size() && pong_ok_ &&
           closed_ && close_ok_;
  }

  std::function<void()> on_finished;  // the runner's: cancel the deadline

 private:
  static constexpr std::string_view ping_payload = "probe-ping";

  void on_open(const wsx::session_ptr& s, const wsx::opened& o) {
    opened_ = true;
    std::printf("probe: connected to %s with %s\n", opt_.url.c_str(), opt_.transport.c_str());
    if (opt_.expect_status != 0) {
      std::printf("probe: FAIL the upgrade succeeded, expected HTTP %d\n", opt_.expect_status);
      s->close(wsx::close_code::normal, "");
      return;
    }
    std::string agreed;
    for (const std::string& e : o.extensions) agreed += (agreed.empty() ? "" : ", ") + e;
    extensions_ok_ = opt_.deflate ? agreed.starts_with("permessage-deflate") : agreed.empty();
    std::printf("probe: %s extensions '%s' (%s)\n", extensions_ok_ ? "ok" : "FAIL", agreed.c_str(),
                opt_.deflate ? "deflate offered" : "nothing offered");
    // Another thread sends everything: the session handle posts each message to the loop.
    sender_ = std::thread([s, this] {
      for (const expected_message& m : messages_) {
        if (const std::error_code ec = s->send(m.kind, wsx::as_bytes(m.payload))) {
          std::printf("probe: FAIL send: %s\n", ec.message().c_str());
          return;
        }
      }
    });
  }

  void on_message(const wsx::session_ptr& s, wsx::message_kind kind, wsx::bytes_view payload) {
    if (received_ >= messages_.size()) {
      std::printf("probe: FAIL unexpected extra message (%zu bytes)\n", payload.size());
      echoes_ok_ = false;
      return;
    }
    const expected_message& want = messages_[received_];
    if (kind != want.kind || wsx::as_string(payload) != want.payload) {
      std::printf("probe: FAIL echo %zu: got %s of %zu bytes, want %s of %zu bytes\n", received_,
                  kind_name(kind), payload.size(), kind_name(want.kind), want.payload.size());
      echoes_ok_ = false;
    }
    if (++received_ == messages_.size()) {
      std::printf("probe: %s %zu/%zu echoes (text and binary, largest %zu bytes%s)\n",
                  echoes_ok_ ? "ok" : "FAIL", received_, messages_.size(), opt_.size,
                  opt_.fragment != 0 ? ", sent fragmented" : "");
      s->ping(wsx::as_bytes(ping_payload));
    }
  }

  const options& opt_;
  const std::vector<expected_message> messages_;
  std::size_t received_ = 0;
  bool opened_ = false;
  bool extensions_ok_ = false;
  bool echoes_ok_ = true;
  bool pong_ok_ = false;
  bool closed_ = false;
  bool close_ok_ = false;
  bool rejected_ok_ = false;
  std::thread sender_;
};

// One connection on the transport's loop until it is over or the deadline passes. False when
// the build has no such transport (meson defines WSX_PROBE_ASIO and WSX_PROBE_LIBEVENT).
bool run_asio([[maybe_unused]] probe& p, [[maybe_unused]] const options& opt) {
#if WSX_PROBE_ASIO
  asio::io_context io(1);
  asio::steady_timer deadline(io);
  wsx::asio::client_options co;
  p.fill(co.config, co.handlers);
  p.on_finished = [&] { deadline.cancel(); };
  wsx::asio::client client(io, std::move(co));
  client.connect(opt.url);
  deadline.expires_after(std::chrono::milliseconds(opt.timeout_ms));
  deadline.async_wait([&](const std::error_code& ec) {
    if (ec) return;
    p.timed_out();
    io.stop();
  });
  io.run();
  return true;
#else
  return false;
#endif
}

bool run_libevent([[maybe_unused]] probe& p, [[maybe_unused]] const options& opt) {
#if WSX_PROBE_LIBEVENT
  struct loop {
    event_base* base = event_base_new();
    ~loop() { event_base_free(base); }
  } l;
  struct expiry {
    probe* p;
    event_base* base;
  } on_expiry{&p, l.base};
  event* deadline = evtimer_new(
      l.base,
      [](evutil_socket_t, short, void* arg) {
        auto* e = static_cast<expiry*>(arg);
        e->p->timed_out();
        event_base_loopbreak(e->base);
      },
      &on_expiry);
  p.on_finished = [deadline] { event_del(deadline); };
  {
    wsx::libevent::client_options co;
    p.fill(co.config, co.handlers);
    wsx::libevent::client client(l.base, std::move(co));  // attached: made on this thread
    client.connect(opt.url);
    const timeval tv{static_cast<time_t>(opt.timeout_ms / 1000),
                     static_cast<suseconds_t>(opt.timeout_ms % 1000 * 1000)};
    evtimer_add(deadline, &tv);
    event_base_dispatch(l.base);  // returns when the connection is over (or at the deadline)
  }
  p.on_finished = nullptr;
  event_free(deadline);
  return true;
#else
  return false;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse_options(argc, argv, opt)) {
    std::fprintf(stderr,
                 "usage: wsx_client_probe URL [--transport asio|libevent] [--deflate]\n"
                 "         [--fragment BYTES] [--count N] [--size BYTES] [--close-code C]\n"
                 "         [--close-reason R] [--expect-status S [--expect-body TEXT]]"
                 " [--timeout-ms MS]\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  probe p(opt);
  const bool ran = opt.transport == "asio" ? run_asio(p, opt) : run_libevent(p, opt);
  if (!ran) {
    std::printf("probe: FAIL this build has no %s transport\n", opt.transport.c_str());
    return 1;
  }
  const bool ok = p.passed();
  std::printf("probe: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
