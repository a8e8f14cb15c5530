// One TCP (or TLS) connection of the Asio transport: the socket, the executor, the one timer,
// and the wsx::pump that does everything else. Internal to transports/asio.
//
// `connection` is the part TCP and TLS share: it implements the transport_io calls that only
// need the executor and the timer (set_timer, wake, on_loop_thread, close_now) and the lingering
// close's deadline. tcp_connection (tcp_connection.hpp) and tls_connection (tls_connection.hpp)
// add reading, writing and closing their kind of socket. Every handler holds a shared_ptr to the
// connection, so it lives exactly as long as some operation is outstanding (or a session handle has
// it locked for a moment). The connection's timer is an entry of the io_context's deadline_queue,
// which holds no reference: an expiry locks the connection's weak reference for as long as it runs.
//
// The three are templates over the executor everything of one connection runs on:
// - strand_type, a strand of its own (the default; any number of threads may run the
//   io_context);
// - io_executor, the io_context's executor itself, when the application promises to run the
//   io_context on one thread (server_options::single_threaded). Every completion then runs
//   straight from the scheduler instead of taking a second trip through the strand's queue, and
//   the connection holds no strand state.
// Both are instantiated in the .cpp files; connection_entry is what the server and the client
// hold without knowing which.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <asio/basic_stream_socket.hpp>
#include <asio/basic_waitable_timer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/basic_resolver.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/strand.hpp>

#include "deadline_queue.hpp"
#include "pump.hpp"

namespace wsx::asio::detail {

using tcp = ::asio::ip::tcp;
using io_executor = ::asio::io_context::executor_type;
using strand_type = ::asio::strand<io_executor>;

// I/O objects bound to a connection's executor: their handlers run there without wrapping.
template <class Executor>
struct io_types {
  using socket = ::asio::basic_stream_socket<tcp, Executor>;
  using timer =
      ::asio::basic_waitable_timer<std::chrono::steady_clock,
                                   ::asio::wait_traits<std::chrono::steady_clock>, Executor>;
  using resolver = ::asio::ip::basic_resolver<tcp, Executor>;
  using tls_stream = ::asio::ssl::stream<socket>;
};
// The server's own objects (acceptor, timers) are always on a strand.
using timer_type = io_types<strand_type>::timer;

// "ip:port", with an IPv6 address in brackets.
std::string endpoint_string(const tcp::endpoint& ep);

// The per-thread read buffer of TCP connections: the pump decodes each read in it and keeps only
// what it still needs before returning, so one buffer serves every connection the thread runs,
// and an idle connection owns none.
std::span<std::byte> thread_read_buffer();
// 128 KiB: a 64 KiB message with its frame header still arrives in one read.
inline constexpr std::size_t read_buffer_size = 128 * 1024;

class connection_entry;

// Who wants to know when a connection's socket is closed (the server, for stop()).
class connection_owner {
 public:
  virtual void connection_finished(connection_entry& c) noexcept = 0;

 protected:
  ~connection_owner() = default;
};

// Where a client connects, and what its upgrade request says.
struct client_target {
  std::string host;  // for resolution, SNI and the certificate check
  std::string port;
  wsx::client_options request;  // host and target filled in from the URL
};

// What every connection of one server (or client) shares: the pump's context, and what the
// transport adds to it. Kept once there rather than in each connection.
struct connection_context : pump_context {
  // The server, for stop(); set before its first connection. Weak: the server owns this
  // context. Empty on a client.
  std::weak_ptr<connection_owner> owner;
  std::chrono::nanoseconds linger{};  // the lingering close's bound
};

template <class Executor>
struct connection_params {
  Executor executor;
  std::shared_ptr<connection_context> ctx;
  std::string remote;  // "ip:port" (server) or the URL's authority (client)
};

// A connection of either executor, as the server's registry and the client hold it. Every
// member may be called from any thread. It is also the connection's one timer, an entry of its
// io_context's deadline_queue.
class connection_entry : public deadline_queue::timer {
 public:
  virtual ~connection_entry() = default;

  // Server: start (TLS handshake, then) reading. Call once, right after make_shared: the pump
  // is started here and the rest is posted to the connection's executor.
  virtual void start_server() = 0;
  // Client: resolve, connect, (TLS handshake,) send the upgrade request. Same rules. Returns the
  // session handle, which exists from this moment.
  virtual std::shared_ptr<session> start_client(client_target target) = 0;
  // Client that cannot even begin (malformed URL, TLS context): the session reports `reason`
  // through on_connect_error and on_close on its executor. Returns the session handle.
  virtual std::shared_ptr<session> start_client_failed(std::error_code ec, std::string reason) = 0;
  // Server shutdown (pump::shutdown) / drop at once (pump::abort).
  virtual void post_shutdown() = 0;
  virtual void post_abort() = 0;
  // A strong reference, or null once the connection is being destroyed.
  virtual std::shared_ptr<connection_entry> lock_entry() noexcept = 0;

  // The entry's place in its server's registry (guarded by the server's mutex). It fills the
  // timer's padding.
  std::uint32_t registry_slot = 0;
};

template <class Executor>
class connection : public connection_entry,
                   public transport_io,
                   public std::enable_shared_from_this<connection<Executor>> {
 public:
  using socket_type = typename io_types<Executor>::socket;

  explicit connection(const connection_params<Executor>& p);
  ~connection() override;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void start_server() final;
  std::shared_ptr<session> start_client(client_target target) final;
  std::shared_ptr<session> start_client_failed(std::error_code ec, std::string reason) final;
  void post_shutdown() final;
  void post_abort() final;
  std::shared_ptr<connection_entry> lock_entry() noexcept final {
    return this->weak_from_this().lock();
  }

  // transport_io: the parts that need only the executor and the timer.
  void set_timer(std::optional<time_point> at) final;
  bool on_loop_thread() const noexcept final { return executor_.running_in_this_thread(); }
  void wake() final;
  void close_now() final;

 protected:
  virtual void begin_server() = 0;
  virtual void begin_client(client_target target) = 0;
  // Close the socket; errors are ignored. Outstanding operations complete with an error.
  virtual void close_socket() noexcept = 0;

  // The closing handshake is over and our side is shut: wait for the peer's end until the
  // linger deadline, then close_now().
  void begin_linger();
  // Client: resolve target.host, connect `socket` to the first address that answers (TCP_NODELAY
  // on), then call `connected` on the executor. Failures end in pump_.on_connect_failed().
  void connect_socket(socket_type& socket, client_target target,
                      std::function<void(client_target)> connected);
  std::shared_ptr<connection> self() { return this->shared_from_this(); }

  Executor executor_;

 private:
  // deadline_queue::timer
  std::shared_ptr<void> keep_alive() noexcept final { return this->weak_from_this().lock(); }
  void expire() final;
  void arm_timer(time_point at);
  void on_timer();

  const connection_context& context() const noexcept {
    return static_cast<const connection_context&>(pump_.context());
  }
  // Tells the server (if any, and if it still exists) that this connection's socket is closed.
  void report_finished() const noexcept;

  deadline_queue& deadlines_;  // of the executor's io_context
  maybe_time timer_target_;    // what the pump asked for
  maybe_time timer_armed_;     // the timer expires no later than this (its expiry is yet to run)

 protected:
  bool closed_ = false;     // close_now() ran: the socket is closed, every handler returns
  bool lingering_ = false;  // begin_linger() ran
  // Holds only a reference to *this until start_server()/start_client() starts it.
  pump pump_;
};

}  // namespace wsx::asio::detail
