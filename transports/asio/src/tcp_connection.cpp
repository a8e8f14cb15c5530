// Plain TCP connections: readiness-based reads and writes on a non-blocking socket.
//
// Reading: async_wait(wait_read), then read_some() into the thread's 128 KiB buffer and hand the
// bytes to the pump, until the socket is drained (a short read), 16 buffers were read (then the
// loop continues through a post, so one fast peer cannot starve the others on its thread), or the
// pump says stop (backpressure, or the end). An idle connection therefore owns no read buffer,
// only its pending wait. A short read tells the pump the connection may be going quiet.
//
// Each async_wait costs an epoll_ctl (Asio re-arms the socket for every readiness wait). So once
// messages flow (pump::past_handshake) and a batch fits in a read_lease, the connection borrows
// one and waits with async_read_some into it instead, which Asio first attempts at once. Every
// next read is posted behind the handlers already queued on the thread (read_later): with many
// connections the peer has usually answered by then, and that first attempt takes its bytes
// without epoll. A full lease is followed by a read into the thread's buffer, so the pump still
// gets one batch; bigger batches go back to readiness waits. When the pump finds the connection
// quiet it calls release_idle_buffers(): the posted read is cancelled, and its completion
// returns the lease and goes back to async_wait. The lease is never returned while Asio may
// still write into it.
//
// The read side is one state (read_state in connection.hpp), each outstanding operation its
// own state, so that at most one is ever out:
//   idle      -> waiting | leased    wait_readable(): a lease when small_reads_ (and one is free)
//   waiting   -> reading             the socket is readable (on_readable)
//   leased    -> reading             the leased read completed (on_leased_read)
//   leased    -> returning           release_idle_buffers() cancelled it to give the lease back
//   returning -> reading             its completion: the lease goes back, then a plain wait
//   posted    -> reading             read_later()'s continuation runs
//   reading   -> waiting | leased    drained (would_block), or the lease's first attempt is next
//   reading   -> posted              a short batch, or 16 full buffers (read_later)
//   reading   -> idle                the pump said stop (should_read); resume_reading() restarts
//   reading   -> eof                 the peer's FIN or a failure; eof is never left
// `reading` is a completion's work (read_turn): resume_reading() called from inside it by the
// pump does nothing, as the turn asks should_read() again before it reads on. Lingering (the
// base's lingering_) only changes what a turn does: discard instead of handing to the pump.
//
// Writing: write() is one non-blocking gather write (sendmsg with up to 64 ranges; send for a
// single range) straight from the core's output queue; when the kernel takes less than
// everything, async_wait(wait_write) is the one operation in flight, and its completion makes
// the pump write again. The ranges are copied into a thread-local vector for the call only:
// nothing of the core's is held by Asio between handlers.
//
// Closing: after the closing handshake, shutdown(SHUT_WR) and read-and-discard until the peer's
// FIN or the linger deadline, then close — closing with unread input would send a reset that can
// destroy the close frame before the peer reads it.
#include <cstring>
#include <utility>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include "tcp_connection.hpp"

namespace wsx::asio::detail {
namespace {

bool would_block(const std::error_code& ec) noexcept {
  return ec == ::asio::error::would_block || ec == ::asio::error::try_again;
}

// Reads per wake-up before the loop yields to other work on this thread.
constexpr int max_reads_per_turn = 16;

}  // namespace

template <class Executor>
tcp_connection<Executor>::tcp_connection(socket_type socket, const connection_params<Executor>& p)
    : base(p), socket_(std::move(socket)) {}

template <class Executor>
bool tcp_connection<Executor>::prepare_socket() {
  std::error_code ec;
  socket_.non_blocking(true, ec);  // read_some/write_some return would_block instead of waiting
  if (!ec) socket_.set_option(tcp::no_delay(true), ec);
  return !ec;
}

template <class Executor>
void tcp_connection<Executor>::begin_server() {
  if (closed_) return;
  if (!prepare_socket()) {
    pump_.abort(clock::now());
    return;
  }
  wait_readable();
}

template <class Executor>
void tcp_connection<Executor>::begin_client(client_target target) {
  if (closed_) return;
  connect_socket(socket_, std::move(target), [this, keep = self()](client_target t) {
    if (!prepare_socket()) {
      pump_.on_connect_failed(std::make_error_code(std::errc::io_error),
                              "cannot configure the socket", clock::now());
      return;
    }
    pump_.on_connected(t.request, clock::now());
    wait_readable();
  });
}

template <class Executor>
void tcp_connection<Executor>::close_socket() noexcept {
  std::error_code ignored;
  socket_.close(ignored);
}

// ---- reading ------------------------------------------------------------------------------------

template <class Executor>
template <class F>
void tcp_connection<Executor>::read_turn(F&& work) {
  if (read_ != read_state::eof) read_ = read_state::reading;  // eof stays: nothing is read again
  const struct idle_unless_moved_on {
    read_state& state;
    ~idle_unless_moved_on() {
      if (state == read_state::reading) state = read_state::idle;
    }
  } end{read_};
  work();
}

template <class Executor>
void tcp_connection<Executor>::wait_readable() {
  // Outstanding already (waiting, leased, returning, posted), or the stream is over.
  if (closed_ || (read_ != read_state::idle && read_ != read_state::reading)) return;
  auto keep = std::static_pointer_cast<tcp_connection>(self());
  if (small_reads_ && !lingering_) {
    if (!lease_) lease_ = read_lease::acquire();
    if (lease_) {
      read_ = read_state::leased;
      socket_.async_read_some(
          ::asio::buffer(lease_.data(), read_lease::size),
          [keep](const std::error_code& ec, std::size_t n) { keep->on_leased_read(ec, n); });
      return;
    }
  }
  read_ = read_state::waiting;
  socket_.async_wait(socket_type::wait_read,
                     [keep](const std::error_code& ec) { keep->on_readable(ec); });
}

template <class Executor>
void tcp_connection<Executor>::resume_reading() {
  // Anything but idle: an operation is out, a running turn carries on by itself, or it is over.
  if (read_ == read_state::idle) wait_readable();
}

template <class Executor>
void tcp_connection<Executor>::release_idle_buffers() {
  small_reads_ = false;  // the next wait is a plain one
  if (!lease_) return;
  if (read_ != read_state::leased && read_ != read_state::returning) {
    lease_.reset();
    return;
  }
  // Asio owns the buffer until the read completes. Cancelling also ends a pending write wait,
  // so not while one is out (the pump shrinks only when nothing is being written).
  if (write_waiting_ || read_ == read_state::returning) return;
  read_ = read_state::returning;
  std::error_code ignored;
  socket_.cancel(ignored);
}

template <class Executor>
void tcp_connection<Executor>::on_read_failed() {
  read_ = read_state::eof;
  if (lingering_) {
    close_now();
  } else {
    pump_.on_eof(clock::now());
  }
}

template <class Executor>
void tcp_connection<Executor>::on_readable(const std::error_code& ec) {
  read_turn([&] {
    if (closed_) return;
    if (ec) {
      on_read_failed();
    } else if (lingering_) {
      drain_lingering();
    } else {
      read_input();
    }
  });
}

template <class Executor>
void tcp_connection<Executor>::on_leased_read(const std::error_code& ec, std::size_t n) {
  const bool returning = read_ == read_state::returning;
  read_turn([&] {
    if (closed_) {
      lease_.reset();
    } else if (returning && ec == ::asio::error::operation_aborted) {
      lease_.reset();
      wait_readable();  // quiet: back to waiting without a buffer
    } else if (ec) {
      on_read_failed();
    } else if (lingering_) {
      drain_lingering();  // what was read is discarded
    } else if (n == read_lease::size) {
      take_rest_of_batch();
    } else {
      end_of_batch(std::span<std::byte>(lease_.data(), n), true);
    }
  });
}

template <class Executor>
void tcp_connection<Executor>::take_rest_of_batch() {
  // More is probably waiting: read it now and hand the pump one batch, as a read into the
  // thread's buffer would (one settle, one write for all of its replies). Batches this big
  // wait without the lease from now on.
  small_reads_ = false;
  const std::span<std::byte> buffer = thread_read_buffer();
  std::memcpy(buffer.data(), lease_.data(), read_lease::size);
  const std::span<std::byte> rest = buffer.subspan(read_lease::size);
  std::error_code ec;
  const std::size_t n = socket_.read_some(::asio::buffer(rest.data(), rest.size()), ec);
  if (ec && !would_block(ec)) {  // the peer's FIN or a failure, right after its last bytes
    const time_point now = clock::now();
    pump_.on_input(buffer.first(read_lease::size), now);
    read_ = read_state::eof;
    if (!closed_) pump_.on_eof(now);
  } else if (!ec && n == rest.size()) {
    pump_.on_input(buffer, clock::now());
    read_input();  // still more
  } else {
    end_of_batch(buffer.first(read_lease::size + (ec ? 0 : n)), false);
  }
}

template <class Executor>
void tcp_connection<Executor>::end_of_batch(std::span<std::byte> in, bool in_lease) {
  const time_point now = clock::now();
  const bool messages = pump_.past_handshake();  // not the upgrade request
  pump_.on_input(in, now);
  if (closed_ || lingering_ || !pump_.should_read()) return;  // resume_reading() restarts us
  if (!in_lease) small_reads_ = messages && in.size() < read_lease::size;
  pump_.on_read_idle(now);
  // Only after the handlers already queued on this thread have run: by then a peer that answers
  // quickly often has, and the first attempt takes its bytes instead of waiting for epoll.
  read_later();
}

template <class Executor>
void tcp_connection<Executor>::read_later() {
  read_ = read_state::posted;
  ::asio::post(executor_, [self = std::static_pointer_cast<tcp_connection>(self())] {
    self->read_turn([&] {
      if (self->closed_) return;
      if (self->lingering_) {
        self->drain_lingering();
      } else if (self->small_reads_) {
        self->wait_readable();  // the leased read's first attempt is the read
      } else {
        self->read_input();
      }
    });
  });
}

template <class Executor>
void tcp_connection<Executor>::read_input() {
  const std::span<std::byte> buffer = thread_read_buffer();
  for (int round = 0; round < max_reads_per_turn; ++round) {
    if (closed_ || lingering_ || !pump_.should_read()) return;  // resume_reading() restarts us
    std::error_code ec;
    const std::size_t n = socket_.read_some(::asio::buffer(buffer.data(), buffer.size()), ec);
    const time_point now = clock::now();  // one clock read per read
    if (would_block(ec)) {
      pump_.on_read_idle(now);
      wait_readable();
      return;
    }
    if (ec) {  // FIN (eof) or a failure such as a reset: the core decides what it means
      read_ = read_state::eof;
      pump_.on_eof(now);
      return;
    }
    if (n < buffer.size()) {
      // Most likely drained; if more came meanwhile, the wait completes at once.
      end_of_batch(buffer.first(n), false);
      return;
    }
    pump_.on_input(buffer, now);
  }
  small_reads_ = false;  // 16 full buffers: not a small batch
  read_later();          // let other connections run first
}

// ---- writing ------------------------------------------------------------------------------------

template <class Executor>
std::size_t tcp_connection<Executor>::write_ranges(const output_view& out, std::error_code& ec) {
  if (out.size() == 1) {  // send(2): no message header or iovec for the kernel to copy in
    return socket_.write_some(::asio::const_buffer(out[0].data(), out[0].size()), ec);
  }
  thread_local std::vector<::asio::const_buffer> gather;
  gather.clear();
  for (const bytes_view& range : out) gather.emplace_back(range.data(), range.size());
  return socket_.write_some(gather, ec);
}

template <class Executor>
write_result tcp_connection<Executor>::write(const output_view& out) {
  std::error_code ec;
  const std::size_t n = write_ranges(out, ec);
  if (ec && !would_block(ec)) return {0, false, ec};
  if (!ec && n == out.total_bytes()) return {n, false, {}};
  // The socket is full: wait until it takes more.
  write_waiting_ = true;
  socket_.async_wait(
      socket_type::wait_write,
      [self = std::static_pointer_cast<tcp_connection>(self())](const std::error_code& wec) {
        self->write_waiting_ = false;
        if (self->closed_) return;
        self->pump_.on_write_complete(0, wec, clock::now());
      });
  return {ec ? 0 : n, true, {}};
}

// ---- closing ------------------------------------------------------------------------------------

template <class Executor>
void tcp_connection<Executor>::close_gracefully() {
  if (closed_) return;
  if (read_ == read_state::eof) {  // the peer's FIN is already in: nothing to wait for
    close_now();
    return;
  }
  std::error_code ec;
  socket_.shutdown(socket_type::shutdown_send, ec);
  if (ec) {
    close_now();
    return;
  }
  begin_linger();
  wait_readable();
}

template <class Executor>
void tcp_connection<Executor>::drain_lingering() {
  const std::span<std::byte> buffer = thread_read_buffer();
  for (int round = 0; round < max_reads_per_turn; ++round) {
    std::error_code ec;
    socket_.read_some(::asio::buffer(buffer.data(), buffer.size()), ec);  // late input: discard
    if (would_block(ec)) {
      wait_readable();
      return;
    }
    if (ec) {  // the peer's FIN (or a failure): done
      close_now();
      return;
    }
  }
  read_later();
}

template class tcp_connection<strand_type>;
template class tcp_connection<io_executor>;

}  // namespace wsx::asio::detail
