// wsx_client_probe: drives wsx::asio::client against another implementation's echo server and
// says what happened, for the interop tests (python3-websockets, npm ws).
//
// Theory of operation: connect to the URL; once open, a separate thread sends --count messages
// (text and binary in turn, sizes from 0 bytes up to --size, the text ones with multi-byte UTF-8)
// through the session handle — the "send from any thread" path — while the loop checks that every
// echo comes back whole and in order. Then a ping must be answered by a pong with the same
// payload, and a close with --close-code/--close-reason must be answered by the server's close
// with the same code. With --expect-status the upgrade must instead be refused with that HTTP
// status (and --expect-body text in the body). Everything runs under one --timeout-ms deadline.
// Prints one "probe: …" line per step; exit 0 when every check passed, 1 otherwise, 2 on usage.
//
// usage: wsx_client_probe URL [--count N] [--size BYTES] [--close-code C] [--close-reason R]
//                             [--expect-status S [--expect-body TEXT]] [--timeout-ms MS]
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "wsx/asio/client.hpp"

namespace {

struct options {
  std::string url;
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
    } else if (!has_value) {
      return false;
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

}  // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse_options(argc, argv, opt)) {
    std::fprintf(stderr,
                 "usage: wsx_client_probe URL [--count N] [--size BYTES] [--close-code C]\n"
                 "         [--close-reason R] [--expect-status S [--expect-body TEXT]]"
                 " [--timeout-ms MS]\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);

  const std::vector<expected_message> messages = make_messages(opt.count, opt.size);
  const std::string ping_payload = "probe-ping";
  std::size_t received = 0;
  bool opened = false;
  bool echoes_ok = true;
  bool pong_ok = false;
  bool closed = false;
  bool close_ok = false;
  bool rejected_ok = false;
  std::thread sender;

  asio::io_context io(1);
  asio::steady_timer deadline(io);

  wsx::asio::client_options co;
  co.config.max_message_size = opt.size + 1024;
  co.config.max_frame_payload = opt.size + 1024;
  co.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    opened = true;
    std::printf("probe: connected to %s\n", opt.url.c_str());
    if (opt.expect_status != 0) {
      std::printf("probe: FAIL the upgrade succeeded, expected HTTP %d\n", opt.expect_status);
      s->close(wsx::close_code::normal, "");
      return;
    }
    // Another thread sends everything: the session handle posts each message to the loop.
    sender = std::thread([s, &messages] {
      for (const expected_message& m : messages) {
        if (const std::error_code ec = s->send(m.kind, wsx::as_bytes(m.payload))) {
          std::printf("probe: FAIL send: %s\n", ec.message().c_str());
          return;
        }
      }
    });
  };
  co.handlers.on_message = [&](const wsx::session_ptr& s, wsx::message_kind kind,
                               wsx::bytes_view payload) {
    if (received >= messages.size()) {
      std::printf("probe: FAIL unexpected extra message (%zu bytes)\n", payload.size());
      echoes_ok = false;
      return;
    }
    const expected_message& want = messages[received];
    if (kind != want.kind || wsx::as_string(payload) != want.payload) {
      std::printf("probe: FAIL echo %zu: got %s of %zu bytes, want %s of %zu bytes\n", received,
                  kind_name(kind), payload.size(), kind_name(want.kind), want.payload.size());
      echoes_ok = false;
    }
    if (++received == messages.size()) {
      std::printf("probe: %s %zu/%zu echoes (text and binary, largest %zu bytes)\n",
                  echoes_ok ? "ok" : "FAIL", received, messages.size(), opt.size);
      s->ping(wsx::as_bytes(ping_payload));
    }
  };
  co.handlers.on_pong = [&](const wsx::session_ptr& s, wsx::bytes_view payload) {
    pong_ok = wsx::as_string(payload) == ping_payload;
    std::printf("probe: %s pong '%.*s'\n", pong_ok ? "ok" : "FAIL",
                static_cast<int>(payload.size()), reinterpret_cast<const char*>(payload.data()));
    s->close(static_cast<wsx::close_code>(opt.close_code), opt.close_reason);
  };
  co.handlers.on_connect_error = [&](const wsx::session_ptr&, const wsx::rejected& r) {
    std::printf("probe: upgrade refused: status %d, reason '%s', body '%s'\n", r.status,
                r.reason.c_str(), r.body.c_str());
    rejected_ok = opt.expect_status != 0 && r.status == opt.expect_status &&
                  r.body.find(opt.expect_body) != std::string::npos;
    if (opt.expect_status != 0) {
      std::printf("probe: %s refusal with HTTP %d%s%s\n", rejected_ok ? "ok" : "FAIL",
                  opt.expect_status, opt.expect_body.empty() ? "" : " naming ",
                  opt.expect_body.c_str());
    }
  };
  co.handlers.on_close = [&](const wsx::session_ptr&, wsx::close_code code, std::string_view reason,
                             std::error_code ec) {
    closed = true;
    close_ok = static_cast<unsigned>(code) == opt.close_code && !ec;
    if (opened && opt.expect_status == 0) {
      std::printf("probe: %s closed with %u '%.*s'%s%s\n", close_ok ? "ok" : "FAIL",
                  static_cast<unsigned>(code), static_cast<int>(reason.size()), reason.data(),
                  ec ? " error: " : "", ec ? ec.message().c_str() : "");
    }
    deadline.cancel();
  };

  wsx::asio::client client(io, std::move(co));
  const wsx::session_ptr session = client.connect(opt.url);
  deadline.expires_after(std::chrono::milliseconds(opt.timeout_ms));
  deadline.async_wait([&](const std::error_code& ec) {
    if (ec) return;
    std::printf("probe: FAIL timeout after %u ms (%zu/%zu echoes, pong %s)\n", opt.timeout_ms,
                received, messages.size(), pong_ok ? "yes" : "no");
    io.stop();
  });
  io.run();
  if (sender.joinable()) sender.join();

  const bool ok = opt.expect_status != 0 ? rejected_ok
                                         : opened && echoes_ok && received == messages.size() &&
                                               pong_ok && closed && close_ok;
  std::printf("probe: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
