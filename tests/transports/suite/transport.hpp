// The transport test suite's fixture: one transport in one run mode behind one small interface,
// so that every test in tests/transports/suite/ is written once and runs on every transport.
//
// A test takes a `transport` for its mode (make_transport) and asks it for servers — started,
// with the options of server_setup: the fields every transport's server_options has, under the
// same names — and clients, and uses them through test_server and test_client. The transports
// implement these in asio_transport.cpp and libevent_transport.cpp; adding a transport is one
// more such file and its modes here.
//
// The modes are the ways each transport runs a server: Asio with a strand per connection on an
// io_context of several threads, or single_threaded on one; libevent attached to an
// application's event_base run by a thread of its own, or on a loop_pool of one or two loops.
// Clients run on the transport's own loop (Asio: the same io_context; libevent: a pool of one).
//
// An `app_loop` is a loop run the way an application runs its main loop: by one thread, without
// anything keeping it alive, until nothing is left on it (Asio: io_context::run() without a work
// guard; libevent: event_base_dispatch() of an application's base). The loop-exit tests make
// their servers, clients and an application timer on one and watch it return.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/self_signed.hpp"
#include "support/socket_peer.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/common/handlers.hpp"
#include "wsx/common/observer.hpp"
#include "wsx/common/policy.hpp"
#include "wsx/common/session.hpp"
#include "wsx/common/stats.hpp"
#include "wsx/config.hpp"

namespace wsx::test {

using namespace std::chrono_literals;

enum class mode {
  asio_strands,          // a strand per connection, io_context on several threads
  asio_single_threaded,  // server_options::single_threaded, io_context on one thread
  libevent_attached,     // the application's event_base, dispatched by a thread of its own
  libevent_one_loop,     // a loop_pool of one loop
  libevent_two_loops,    // a loop_pool of two loops
};

const char* mode_name(mode m);
// Every mode of every transport.
std::vector<mode> all_modes();
// One mode per transport: for tests of the client, which has no modes of its own.
std::vector<mode> client_modes();
// The modes whose server can run on an app_loop.
std::vector<mode> app_loop_modes();

// Names a value-parameterised test by its mode (INSTANTIATE_TEST_SUITE_P's last argument).
struct mode_names {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return mode_name(info.param);
  }
};

// What each transport's default_config() is: whole messages delivered.
inline wsx::config whole_messages_config() {
  wsx::config cfg;
  cfg.delivery = wsx::delivery::whole_messages;
  return cfg;
}

// A server's options, named as in every transport's server_options.
struct server_setup {
  std::uint16_t port = 0;  // 0: any free port on 127.0.0.1
  wsx::config config = whole_messages_config();
  upgrade_hook on_upgrade;
  http_handler on_http;
  session_handlers handlers;
  wsx::server_observer observer;
  backpressure_policy backpressure;
  std::chrono::milliseconds linger{2000};
  std::optional<pem_pair> tls;  // set: wss:// with this certificate and key
};

// A client's options, named as in every transport's client_options.
struct client_setup {
  wsx::config config = whole_messages_config();
  session_handlers handlers;
  std::vector<std::string> subprotocols;
  std::string ca_file;
  std::optional<std::string> trust;  // set: a TLS context that trusts this PEM certificate
};

// A server made and started by a transport (start_error() says whether it listens). Destroying
// it stops it first (1 s grace) if the test did not.
class test_server {
 public:
  virtual ~test_server() = default;
  virtual std::error_code start_error() const = 0;
  // start() once more, on the server's loop thread where the transport demands it.
  virtual std::error_code start_again() = 0;
  virtual std::uint16_t port() const = 0;
  virtual connection_table& table() const = 0;
  virtual stats& counters() const = 0;
  virtual std::uint64_t messages_dropped() const = 0;
  virtual std::size_t connection_count() const = 0;
  // server::stop(); from any thread.
  virtual void stop(std::chrono::steady_clock::duration grace,
                    std::function<void()> on_stopped = {}) = 0;
  // stop(grace), then waits (bounded) for on_stopped. In mode libevent_attached it also demands
  // that the base's dispatch returns by itself: nothing of the transport may be left on it.
  virtual bool stop_and_wait(std::chrono::steady_clock::duration grace) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> stopped = done->get_future();
    stop(grace, [done] { done->set_value(); });
    return stopped.wait_for(20s) == std::future_status::ready;
  }

  std::string url(std::string_view path = "/", std::string_view scheme = "ws",
                  std::string_view host = "127.0.0.1") const {
    return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(port()) +
           std::string(path);
  }
};

class test_client {
 public:
  virtual ~test_client() = default;
  // client::connect(): the session at once; on_open or on_connect_error follows, then on_close.
  virtual session_ptr connect(std::string_view url) = 0;
};

// One transport in one mode. Destroy its servers and clients before it.
class transport {
 public:
  virtual ~transport() = default;
  virtual std::unique_ptr<test_server> server(server_setup s) = 0;
  virtual std::unique_ptr<test_client> client(client_setup c) = 0;
};

// `threads`: how many threads run the io_context in mode asio_strands (other modes: fixed).
std::unique_ptr<transport> make_transport(mode m, unsigned threads = 2);

// A loop run by a thread of its own until nothing is left on it (see the top of this file).
// What the test puts on it, it puts there in `setup`, which runs on the loop's thread before the
// loop does; it is destroyed on that thread after the loop has returned (at join()).
class app_loop {
 public:
  virtual ~app_loop() = default;

  // ---- in setup only ------------------------------------------------------------------------
  virtual test_server& add_server(server_setup s) = 0;
  virtual test_client& add_client(client_setup c) = 0;
  // The application's own work: a timer that sets `fired` after `after`.
  virtual void add_app_timer(std::chrono::milliseconds after, std::atomic<bool>& fired) = 0;

  // ---- from the test's thread ---------------------------------------------------------------
  // Starts the thread: setup(*this), then the loop.
  virtual void start(std::function<void(app_loop&)> setup) = 0;
  // Runs `f` on the loop's thread while the loop runs, and waits for it. False if it could not.
  virtual bool call(std::function<void()> f) = 0;
  // True when the loop returned by itself within `limit`; otherwise it is broken off.
  virtual bool wait_returned(std::chrono::milliseconds limit = 20s) = 0;
  // When the loop returned (valid once it has).
  virtual std::chrono::steady_clock::time_point returned_at() const = 0;
  // The transport's work still on the loop, which would keep it running: Asio, the entries of
  // the io_context's deadline queue plus its wait if one is out; libevent, the events counted by
  // the base (wsx's wake-up event is internal and not among them). Any thread.
  virtual std::size_t transport_work() const = 0;
  // Lets the loop's thread destroy what setup made (after the loop returned), and joins it.
  virtual void join() = 0;
};

// For the modes of app_loop_modes(): that transport's loop, with servers in that mode.
std::unique_ptr<app_loop> make_app_loop(mode m);

// A port on 127.0.0.1 that refuses connections while `holder` lives: a bound socket that does
// not listen (no other program can take the port meanwhile). 0 on failure.
inline std::uint16_t refusing_port(poll_example::unique_fd& holder) {
  holder = poll_example::unique_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!holder || ::bind(holder.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return 0;
  }
  return ntohs(addr.sin_port);
}

// Every session object of the process is gone (a bounded wait).
inline bool all_sessions_gone(std::chrono::milliseconds limit = 20s) {
  return wait_until([] { return wsx::live_session_count() == 0; }, limit);
}

}  // namespace wsx::test
