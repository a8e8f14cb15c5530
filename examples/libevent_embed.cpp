// libevent_embed: wsx inside an application that already runs its own libevent loop — the
// complete example of docs/libevent.md ("Attaching to your event_base").
//
// Theory of operation: the application owns `base` and has an event of its own on it (a timer
// that ticks three times). A wsx server and a wsx client are attached to the same base; the
// client sends "hello", the server echoes it, the client closes, and its close handler stops the
// server. Nothing else is done to end the program: once the server has stopped, wsx has nothing
// left on the base, and event_base_dispatch() returns as soon as the application's own timer is
// done too. Prints "libevent_embed: ok (wsx VERSION)" and exits 0 when the echo came back.
// tests/install/run builds this file against the installed library and runs it.
//
// usage: libevent_embed
#include <event2/event.h>

#include <cstdio>
#include <string>

#include "wsx/libevent/client.hpp"
#include "wsx/libevent/server.hpp"
#include "wsx/version.hpp"

namespace {

struct app {  // the application's own state and event
  event* tick = nullptr;
  int ticks = 0;
};

void on_tick(evutil_socket_t, short, void* arg) {
  auto& a = *static_cast<app*>(arg);
  if (++a.ticks == 3) event_del(a.tick);  // the application's work is done
}

}  // namespace

int main() {
  event_base* base = event_base_new();
  if (base == nullptr) return 1;
  app a;
  a.tick = event_new(base, -1, EV_PERSIST, on_tick, &a);
  const timeval every{0, 100'000};
  event_add(a.tick, &every);

  std::string echoed;
  {
    wsx::libevent::server_options so;  // 127.0.0.1, any free port
    so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind kind,
                                wsx::bytes_view data) { s->send(kind, data); };
    wsx::libevent::server srv(base, std::move(so));
    if (const std::error_code ec = srv.start()) {
      std::fprintf(stderr, "libevent_embed: cannot listen: %s\n", ec.message().c_str());
      return 1;
    }

    wsx::libevent::client_options co;
    co.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      s->send_text("hello");
    };
    co.handlers.on_message = [&echoed](const wsx::session_ptr& s, wsx::message_kind,
                                       wsx::bytes_view data) {
      echoed = std::string(wsx::as_string(data));
      s->close(wsx::close_code::normal, "done");
    };
    co.handlers.on_close = [&srv](const wsx::session_ptr&, wsx::close_code, std::string_view,
                                  std::error_code) { srv.stop(std::chrono::seconds(1)); };
    wsx::libevent::client cli(base, std::move(co));
    cli.connect("ws://" + srv.local_endpoint().to_string() + "/");

    event_base_dispatch(base);  // the app's loop: returns when its work and wsx's are both done
  }
  event_free(a.tick);
  event_base_free(base);
  if (echoed != "hello" || a.ticks != 3) {
    std::fprintf(stderr, "libevent_embed: echoed '%s' after %d ticks\n", echoed.c_str(), a.ticks);
    return 1;
  }
  std::printf("libevent_embed: ok (wsx %s)\n", WSX_VERSION_STRING);
  return 0;
}
