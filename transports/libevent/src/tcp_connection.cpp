// Plain TCP connections: readiness-based reads and writes on a non-blocking socket.
//
// Reading: the socket stays watched for readability (by the loop's poller); when it is ready,
// recv() into the thread's 128 KiB buffer and hand the bytes to the pump, until a short read (the
// socket is most likely drained: the pump hears that the connection may be going quiet), 16 full
// buffers (the rest waits for the next round of the loop, so one fast peer cannot starve the
// others), or the pump says stop (backpressure: reading is unwatched until resume_reading(); or
// the end). An idle connection owns no read buffer; epoll is told nothing per message.
//
// Writing: write() is one non-blocking gather send (sendmsg with up to 64 ranges; send() for a
// single range) straight from the core's output queue. Only when the kernel takes less than
// everything does the connection watch for writability (once), and its callback makes the pump
// write again. No buffer of the core is held across callbacks, so the core may drop its output
// (a write deadline) at any moment.
//
// Closing: after the closing handshake, shutdown(SHUT_WR) and read-and-discard until the peer's
// FIN or the linger deadline, then close — closing with unread input would send a reset that can
// destroy the close frame before the peer reads it.
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include "connection.hpp"

namespace wsx::libevent::detail {
namespace {

constexpr std::size_t max_ranges_per_write = 64;

bool would_block(int e) noexcept { return e == EAGAIN || e == EWOULDBLOCK; }

}  // namespace

void tcp_connection::begin_server() {
  become(phase::open);
  watch_read(true);
}

void tcp_connection::on_connected(client_target& target) {
  become(phase::open);
  pump_.on_connected(target.request, clock::now());
  if (phase_ == phase::open) watch_read(true);
}

// ---- reading ------------------------------------------------------------------------------------

void tcp_connection::on_readable() {
  if (phase_ == phase::lingering) {
    drain_lingering();
  } else if (phase_ == phase::open) {
    read_input();
  }
}

void tcp_connection::read_input() {
  const std::span<std::byte> buffer = thread_read_buffer();
  for (int round = 0; round < max_reads_per_turn; ++round) {
    if (phase_ != phase::open) return;  // closed, or lingering: the event now drains
    if (!pump_.should_read()) {
      watch_read(false);  // backpressure (resume_reading() restarts) or the end
      return;
    }
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    const time_point now = clock::now();  // one clock read per read
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      pump_.on_input(buffer.first(got), now);
      if (got == buffer.size()) continue;  // probably more waiting
      // Most likely drained; if more came meanwhile, the event fires again at once.
      if (phase_ != phase::open) return;
      if (!pump_.should_read()) {
        watch_read(false);
        return;
      }
      pump_.on_read_idle(now);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) {
      pump_.on_read_idle(now);
      return;
    }
    // FIN (0) or a failure such as a reset: the core decides what it means.
    read_eof_ = true;
    watch_read(false);
    pump_.on_eof(now);
    return;
  }
}

void tcp_connection::resume_reading() {
  if (phase_ == phase::open && !read_eof_) watch_read(true);
}

// ---- writing ------------------------------------------------------------------------------------

write_result tcp_connection::write(const output_view& out) {
  const std::size_t count = std::min(out.size(), max_ranges_per_write);
  std::size_t attempted = 0;
  ssize_t n = 0;
  do {
    if (count == 1) {  // send(2): no message header or iovec for the kernel to copy in
      attempted = out[0].size();
      n = ::send(fd_, out[0].data(), attempted, MSG_NOSIGNAL);
    } else {
      iovec iov[max_ranges_per_write];
      attempted = 0;
      for (std::size_t i = 0; i < count; ++i) {
        iov[i].iov_base = const_cast<std::byte*>(out[i].data());
        iov[i].iov_len = out[i].size();
        attempted += out[i].size();
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = count;
      n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    }
  } while (n < 0 && errno == EINTR);
  if (n < 0 && !would_block(errno))
    return {0, false, std::error_code(errno, std::system_category())};
  const std::size_t written = n < 0 ? 0 : static_cast<std::size_t>(n);
  // All of these ranges went out (more than 64: the pump calls again for the rest).
  if (written == attempted) return {written, false, {}};
  watch_write();  // the socket is full: wait until it takes more
  return {written, true, {}};
}

void tcp_connection::on_writable() {
  if (phase_ == phase::open) pump_.on_write_complete(0, {}, clock::now());
}

// ---- closing ------------------------------------------------------------------------------------

void tcp_connection::close_gracefully() {
  if (phase_ == phase::closed) return;
  if (read_eof_ || ::shutdown(fd_, SHUT_WR) != 0) {  // the peer's FIN is in: nothing to wait for
    close_now();
    return;
  }
  begin_linger();
  watch_read(true);
}

void tcp_connection::drain_lingering() {
  const std::span<std::byte> buffer = thread_read_buffer();
  for (int round = 0; round < max_reads_per_turn; ++round) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);  // late input: discarded
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    if (n < 0 && would_block(errno)) return;
    close_now();  // the peer's FIN (or a failure): done
    return;
  }
}

}  // namespace wsx::libevent::detail
