// echo_check: an application of the *installed* wsx, built outside the tree by tests/install/run
// three ways (pkg-config, CMake's find_package, a parent meson project with wsx as a
// subproject). It sees only the installed headers and libraries.
//
// Theory of operation: one single-threaded io_context. Without arguments it starts a
// wsx::asio::server on 127.0.0.1 (any free port) that echoes every message, then connects a
// wsx::asio::client to it; with PORT it only connects, to a server already listening on
// 127.0.0.1:PORT (the README's hello server). The client sends one text message, expects the
// same text back, closes with 1000, and the server (if any) stops; the io_context then runs out
// of work. Exit 0 and "echo_check: ok (wsx VERSION)" when the echo came back; otherwise exit 1
// and a line saying what happened instead.
//
// usage: echo_check [PORT]
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include <wsx/asio/client.hpp>
#include <wsx/asio/server.hpp>
#include <wsx/version.hpp>

int main(int argc, char** argv) {
  constexpr std::string_view payload = "hello from an installed wsx";
  std::uint16_t port = 0;
  if (argc == 2) {
    const std::string_view arg = argv[1];
    const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), port);
    if (ec != std::errc{} || end != arg.data() + arg.size() || port == 0) {
      std::fprintf(stderr, "echo_check: %s is not a port\n", argv[1]);
      return 2;
    }
  } else if (argc > 2) {
    std::fprintf(stderr, "usage: echo_check [PORT]\n");
    return 2;
  }

  asio::io_context io(1);
  std::optional<wsx::asio::server> server;
  if (port == 0) {
    wsx::asio::server_options so;
    so.single_threaded = true;
    so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind kind,
                                wsx::bytes_view data) { s->send(kind, data); };
    server.emplace(io, std::move(so));
    if (const std::error_code ec = server->start()) {
      std::fprintf(stderr, "echo_check: cannot listen: %s\n", ec.message().c_str());
      return 1;
    }
    port = server->local_endpoint().port();
  }

  std::string echoed;
  std::string failure = "the connection ended without an echo";
  wsx::asio::client_options co;
  co.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    if (const std::error_code ec = s->send_text(payload)) failure = "send: " + ec.message();
  };
  co.handlers.on_message = [&](const wsx::session_ptr& s, wsx::message_kind,
                               wsx::bytes_view data) {
    echoed = std::string(wsx::as_string(data));
    s->close(wsx::close_code::normal, "done");
  };
  co.handlers.on_connect_error = [&](const wsx::session_ptr&, const wsx::rejected& r) {
    failure = "connect: " + r.reason;
  };
  co.handlers.on_close = [&](const wsx::session_ptr&, wsx::close_code, std::string_view,
                             std::error_code) {
    if (server) server->stop(std::chrono::seconds(1));
  };
  wsx::asio::client client(io, std::move(co));
  client.connect("ws://127.0.0.1:" + std::to_string(port) + "/");
  io.run();

  if (echoed != payload) {
    std::fprintf(stderr, "echo_check: %s (got \"%s\")\n", failure.c_str(), echoed.c_str());
    return 1;
  }
  std::printf("echo_check: ok (wsx %s)\n", WSX_VERSION_STRING);
  return 0;
}
