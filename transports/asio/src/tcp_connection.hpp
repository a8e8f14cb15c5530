// A plain TCP connection of the Asio transport (see connection.hpp for what it shares with TLS
// and tcp_connection.cpp for how it reads and writes). Internal to transports/asio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "connection.hpp"
#include "read_lease.hpp"

namespace wsx::asio::detail {

// Plain TCP. Reads: an idle connection waits for readability, then read_some() into the
// thread's buffer; a busy one keeps an asynchronous read posted into a leased buffer
// (read_lease.hpp). Writes are a non-blocking gather write of every pending range, and only
// when the socket is full do they wait for writability. No buffer of the core is ever lent to
// Asio across a handler, so the core may drop its output (a write deadline) at any moment.
template <class Executor>
class tcp_connection final : public connection<Executor> {
  using base = connection<Executor>;
  using base::begin_linger, base::close_now, base::closed_, base::connect_socket, base::executor_,
      base::lingering_, base::pump_, base::self;

 public:
  using typename base::socket_type;

  tcp_connection(socket_type socket, const connection_params<Executor>& p);

  write_result write(const output_view& out) override;
  void resume_reading() override;
  void close_gracefully() override;
  void release_idle_buffers() override;

 private:
  void begin_server() override;
  void begin_client(client_target target) override;
  void close_socket() noexcept override;
  // Common to both roles once the socket is connected: options, then the read loop.
  bool prepare_socket();
  void wait_readable();
  void on_readable(const std::error_code& ec);
  void on_leased_read(const std::error_code& ec, std::size_t n);
  void take_rest_of_batch();
  // Hands the pump the last bytes of a read batch, then waits for more (unless the pump says
  // stop). `in_lease`: they came from a leased read that did not fill the lease.
  void end_of_batch(std::span<std::byte> in, bool in_lease);
  // Continues reading (or draining, when lingering) from a post, after the handlers queued on
  // this thread.
  void read_later();
  // Runs one completion's reading work in read_state::reading; if that work started nothing
  // (the pump said stop), the state is idle afterwards, for resume_reading().
  template <class F>
  void read_turn(F&& work);
  // The wait or read failed (the peer's FIN, a reset): the end of the peer's stream.
  void on_read_failed();
  void read_input();
  void drain_lingering();
  // One non-blocking write of `out`'s ranges; bytes taken, or 0 with `ec` set.
  std::size_t write_ranges(const output_view& out, std::error_code& ec);

  // What the read side is doing; the transitions are listed at the top of tcp_connection.cpp.
  enum class read_state : std::uint8_t {
    idle,       // nothing outstanding: not started yet, or stopped by the pump (backpressure)
    waiting,    // async_wait(wait_read) is out, no buffer held
    leased,     // async_read_some into lease_ is out
    returning,  // that read was cancelled to give the lease back; its completion returns it
    posted,     // read_later()'s continuation is queued
    reading,    // a completion's reading work is running (read_turn)
    eof,        // the peer's stream ended (FIN or a failure): nothing more is read
  };

  socket_type socket_;
  read_lease lease_;  // while the connection is busy
  read_state read_ = read_state::idle;
  bool small_reads_ = false;    // the last batch of messages fitted in a lease: wait with one
  bool write_waiting_ = false;  // an async_wait(write) is pending
};

}  // namespace wsx::asio::detail
