// One TCP (or TLS) connection of the libevent transport: the socket, its session handle, and the
// wsx::pump that does everything else. Internal to transports/libevent.
//
// `connection` is what TCP and TLS share: the transport_io calls that need only the loop
// (set_timer, wake, on_loop_thread, close_now), the client's connect (name lookup on a helper
// thread unless the host is an address, then a non-blocking connect over each address in turn),
// the lingering close's deadline, and the socket's readiness. tcp_connection and tls_connection add
// reading, writing and closing their kind of socket.
//
// The socket is watched by the loop's poller (poller.hpp): for reading while the connection reads,
// for writing (one-shot) while a write waits; the connection itself carries no libevent event.
// A client's connect state lives in `setup_` until it is connected. The connection owns itself,
// through its session handle (a member: see session_), from start() until close_now(), and its
// loop's registry points to it from add() until then; the application's session handles share
// that ownership, pending upgrades hold weak references to its pump, and another thread's send
// may lock one for the duration of the call.
//
// Its phase, and the transitions:
//   created ──(server: begin_server)──────────────────────────────► tls_handshake | open
//   created ──(client: begin_client)─► resolving ─► connecting ────► tls_handshake | open
//   tls_handshake ─► open ─(pump: close_gracefully)─► lingering ─(peer's end, deadline)─► closed
//   any ─(close_now: errors, aborts, the end of lingering)─────────────────────────────► closed
// Only `created` is reachable from another thread (the pump is started there); everything after
// runs on the loop.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loop.hpp"
#include "pump.hpp"

namespace wsx::libevent::detail {

// Who wants to know when the last connection of a server is gone (for stop()).
class connection_owner {
 public:
  virtual void last_connection_gone() noexcept = 0;

 protected:
  ~connection_owner() = default;
};

// What every connection of one server (or client) shares: the pump's context and what the
// transport adds to it.
struct connection_context : pump_context {
  connection_context() = default;
  connection_context(const connection_context&) = delete;
  connection_context& operator=(const connection_context&) = delete;
  ~connection_context() { SSL_CTX_free(tls); }

  std::weak_ptr<connection_owner> owner;  // the server; empty on a client
  std::chrono::nanoseconds linger{};      // the lingering close's bound
  // Server: every connection speaks TLS with this context (a reference of ours). Null: TCP.
  SSL_CTX* tls = nullptr;
  // Connections whose socket is not closed yet (any loop, any phase).
  mutable std::atomic<std::size_t> live{0};
};

// Where a client connects, and what its upgrade request says.
struct client_target {
  std::string host;  // for the lookup, SNI and the certificate check
  std::string port;
  wsx::client_options request;  // host and target filled in from the URL
};

// The per-thread read buffer: the pump decodes each read in place and keeps only what it still
// needs before returning, so one buffer serves every connection of the thread. 128 KiB: a 64 KiB
// message and its frame header arrive in one read.
std::span<std::byte> thread_read_buffer();
inline constexpr std::size_t read_buffer_size = 128 * 1024;

// Reads per readiness callback before the connection lets the others of its loop run.
inline constexpr int max_reads_per_turn = 16;

class connection : public loop_node, public transport_io {
 public:
  enum class phase : std::uint8_t {
    created,
    resolving,
    connecting,
    tls_handshake,
    open,
    lingering,
    closed
  };

  // `fd` is an accepted socket (server) or -1 (client, until it connects).
  connection(std::shared_ptr<loop> l, const std::shared_ptr<connection_context>& ctx, int fd,
             std::string remote);
  virtual ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Right after make_shared, on any thread: starts the pump (a client's session handle exists
  // from here on). `self` owns the connection; from here on the connection also owns itself (see
  // session_), until close_now() or, for one that never reaches its loop, abandon().
  static void start(const std::shared_ptr<connection>& self);
  // Started but never added to its loop (the task taking it there was dropped): the connection
  // lets go of itself; its socket closes with it.
  void abandon() noexcept;
  const std::shared_ptr<session>& handle() const noexcept { return pump_.handle(); }
  // A reference to this connection, from start() until close_now().
  std::shared_ptr<connection> self() const noexcept {
    return std::shared_ptr<connection>(pump_.kept_handle(), const_cast<connection*>(this));
  }

  // ---- on the loop, once add()ed ------------------------------------------------------------
  // Server: start reading (TLS: the handshake first).
  virtual void begin_server() = 0;
  // Client: look up, connect, (TLS,) upgrade. `self` owns this connection (the lookup thread
  // keeps a weak reference).
  void begin_client(const std::shared_ptr<connection>& self, client_target target);
  // Client that cannot even begin (malformed URL, TLS context): report it as the connect error.
  void fail_client(std::error_code ec, std::string reason);
  // Server shutdown (pump::shutdown) / drop now (pump::abort, or the end of a lingering close).
  void shutdown_session();
  void drop();
  bool belongs_to(const pump_context* ctx) const noexcept { return &pump_.context() == ctx; }
  bool closed() const noexcept { return phase_ == phase::closed; }

  // From the loop: this connection's timer is due / its pump has mail / its socket is ready
  // (poller::read, poller::write, or both).
  void on_timer_due(time_point now);
  void on_woken(time_point now);
  void on_ready(std::uint8_t ready);

  // transport_io: the parts that need only the loop.
  void set_timer(std::optional<time_point> at) final;
  bool on_loop_thread() const noexcept final { return loop_->on_loop_thread(); }
  void wake() final { loop_->post_wake(*this); }
  void close_now() final;

 protected:
  // The socket is connected (client): TCP tells the pump and reads; TLS shakes hands first.
  virtual void on_connected(client_target& target) = 0;
  virtual void on_readable() = 0;
  // The one-shot write readiness armed with watch_write() arrived.
  virtual void on_writable() = 0;
  // Close the socket (and free what the kind of socket holds); errors are ignored.
  virtual void close_socket() noexcept;

  // Watching for readability: on (until turned off) or off.
  void watch_read(bool on);
  // One callback of on_writable() when the socket can take more.
  void watch_write();
  bool read_watched() const noexcept { return (polled & poller::read) != 0; }
  // Runs on_readable() soon from the loop, whether or not the socket is readable (TLS: records
  // already decrypted inside OpenSSL wait there, not in the socket).
  void poke_read();
  // The closing handshake is over and our side is shut: wait for the peer's end until the
  // linger deadline, then close_now().
  void begin_linger();
  // Enters `open` (after connect / TLS) with the timer the pump asked for armed.
  void become(phase p);
  const connection_context& context() const noexcept {
    return static_cast<const connection_context&>(pump_.context());
  }

  std::shared_ptr<loop> loop_;
  int fd_;
  phase phase_ = phase::created;
  bool read_eof_ = false;  // the peer's FIN (or a reset) has been read
  // The session handle, in this object's own block: handles share the ownership of the whole
  // connection, and the connection owns itself through its pump from start() until close_now()
  // (or abandon()). Made before the pump, destroyed after it.
  pump_session session_;
  pump pump_;

 private:
  // A client's connect state, from begin_client() until the socket is connected.
  struct client_setup;
  void on_resolved(int error, struct addrinfo* found);
  void connect_next();
  void on_connect_done();
  void connect_failed(std::error_code ec);
  void report_finished() noexcept;

  std::unique_ptr<client_setup> setup_;
  maybe_time timer_target_;  // what the pump (or the linger) asked for
};

// A started connection on its way to its loop, in the task that adds it there: if that task is
// dropped unrun (the loop was detached first), the connection is abandon()ed.
class starting_connection {
 public:
  explicit starting_connection(std::shared_ptr<connection> c) noexcept : c_(std::move(c)) {}
  starting_connection(starting_connection&&) noexcept = default;
  starting_connection& operator=(starting_connection&&) = delete;
  ~starting_connection() {
    if (c_) c_->abandon();
  }
  // When the task runs.
  std::shared_ptr<connection> take() noexcept { return std::move(c_); }

 private:
  std::shared_ptr<connection> c_;
};

// Plain TCP: recv() into the thread's buffer on readability until a short read; writes are one
// non-blocking gather send of every pending range, waiting for writability only when the kernel
// takes less.
class tcp_connection final : public connection {
 public:
  using connection::connection;

  void begin_server() override;
  write_result write(const output_view& out) override;
  void resume_reading() override;
  void close_gracefully() override;

 private:
  void on_connected(client_target& target) override;
  void on_readable() override;
  void on_writable() override;
  void read_input();
  void drain_lingering();
};

}  // namespace wsx::libevent::detail
