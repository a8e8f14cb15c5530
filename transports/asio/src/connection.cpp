// The shared part of a connection: start-up, cross-thread entry points, the one timer, and the
// end of the socket.
//
// The timer (an entry of the io_context's deadline_queue) follows the pump's next deadline
// without a queue operation for every message: the heartbeat deadline moves later with each
// received frame, and a deadline that moves later needs no new arming — the timer expires
// early, finds the target in the future and is armed again from there. Only a deadline that
// moves earlier re-arms at once. An expiry that finds nothing due does nothing, so stale ones
// are harmless. After the closing handshake the same timer bounds the lingering close. When the
// socket closes the entry leaves the queue at once (not at its time): the queue holds no work in
// the io_context for a connection that is gone, so run() returns with the last one.
#include "connection.hpp"

#include <utility>

#include <asio/connect.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>

namespace wsx::asio::detail {

std::string endpoint_string(const tcp::endpoint& ep) {
  const ::asio::ip::address addr = ep.address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

std::span<std::byte> thread_read_buffer() {
  // Allocated on first use, so threads that never read (the application's) pay nothing.
  thread_local std::unique_ptr<std::byte[]> buffer;
  if (!buffer) buffer = std::make_unique_for_overwrite<std::byte[]>(read_buffer_size);
  return {buffer.get(), read_buffer_size};
}

template <class Executor>
connection<Executor>::connection(const connection_params<Executor>& p)
    : executor_(p.executor),
      deadlines_(::asio::use_service<deadline_queue>(
          ::asio::query(p.executor, ::asio::execution::context))),
      pump_(p.ctx, *this, p.remote, clock::now()) {}

template <class Executor>
connection<Executor>::~connection() {
  deadlines_.cancel(*this);
  // The socket closes with its object; the owner must still hear of it (RAII: an io_context
  // destroyed with this connection's handlers pending never ran close_now()).
  if (!closed_) report_finished();
}

template <class Executor>
void connection<Executor>::report_finished() const noexcept {
  if (const std::shared_ptr<connection_owner> owner = context().owner.lock())
    owner->connection_finished(const_cast<connection&>(*this));
}

template <class Executor>
void connection<Executor>::start_server() {
  pump_.start(std::shared_ptr<pump>(this->shared_from_this(), &pump_));
  ::asio::post(executor_, [self = self()] { self->begin_server(); });
}

template <class Executor>
std::shared_ptr<session> connection<Executor>::start_client(client_target target) {
  pump_.start(std::shared_ptr<pump>(this->shared_from_this(), &pump_));
  std::shared_ptr<session> handle = pump_.handle();
  ::asio::post(executor_, [self = self(), t = std::move(target)]() mutable {
    self->begin_client(std::move(t));
  });
  return handle;
}

template <class Executor>
std::shared_ptr<session> connection<Executor>::start_client_failed(std::error_code ec,
                                                                   std::string reason) {
  pump_.start(std::shared_ptr<pump>(this->shared_from_this(), &pump_));
  std::shared_ptr<session> handle = pump_.handle();
  ::asio::post(executor_, [self = self(), ec, r = std::move(reason)]() mutable {
    self->pump_.on_connect_failed(ec, std::move(r), clock::now());
  });
  return handle;
}

template <class Executor>
void connection<Executor>::post_shutdown() {
  ::asio::post(executor_, [self = self()] {
    if (!self->closed_) self->pump_.shutdown(clock::now());
  });
}

template <class Executor>
void connection<Executor>::post_abort() {
  ::asio::post(executor_, [self = self()] {
    if (self->closed_) return;
    if (self->pump_.finished()) {
      self->close_now();  // lingering: stop waiting for the peer
    } else {
      self->pump_.abort(clock::now());
    }
  });
}

template <class Executor>
void connection<Executor>::wake() {
  ::asio::post(executor_, [self = self()] {
    if (!self->closed_) self->pump_.on_wake(clock::now());
  });
}

template <class Executor>
void connection<Executor>::set_timer(std::optional<time_point> at) {
  timer_target_ = at;
  // No time: an expiry still armed finds nothing to do (and costs nothing until then).
  if (closed_ || !at) return;
  if (timer_armed_ && *timer_armed_ <= *at) return;  // expires first, then arms for the rest
  arm_timer(*at);
}

template <class Executor>
void connection<Executor>::arm_timer(time_point at) {
  timer_armed_ = at;
  deadlines_.arm(*this, at);
}

template <class Executor>
void connection<Executor>::expire() {
  ::asio::dispatch(executor_, [self = self()] { self->on_timer(); });
}

template <class Executor>
void connection<Executor>::on_timer() {
  timer_armed_.reset();
  if (closed_ || !timer_target_) return;
  const time_point now = clock::now();
  if (*timer_target_ > now) {
    arm_timer(*timer_target_);  // the time moved later while we waited (or this expiry is stale)
    return;
  }
  if (lingering_) {
    close_now();  // the peer never finished its side
    return;
  }
  timer_target_.reset();
  pump_.on_timer(now);
}

template <class Executor>
void connection<Executor>::begin_linger() {
  lingering_ = true;
  const time_point end =
      clock::now() + std::chrono::duration_cast<clock::duration>(context().linger);
  timer_target_ = end;  // the pump sets no time any more
  if (!timer_armed_ || *timer_armed_ > end) arm_timer(end);
}

template <class Executor>
void connection<Executor>::connect_socket(socket_type& socket, client_target target,
                                          std::function<void(client_target)> connected) {
  // Owned by its own handler: a server's connection carries no resolver. Cancelling would not
  // end getaddrinfo() any sooner, so close_now() leaves it be; a closed connection ignores the
  // answer.
  auto resolver = std::make_unique<typename io_types<Executor>::resolver>(executor_);
  auto& r = *resolver;
  // Copies: `target` moves into the handler, and argument order is unspecified.
  const std::string host = target.host;
  const std::string port = target.port;
  // No AI_ADDRCONFIG (Asio's default): with only a loopback interface it hides 127.0.0.1.
  r.async_resolve(
      host, port, tcp::resolver::numeric_service,
      [self = self(), keep = std::move(resolver), &socket, t = std::move(target),
       next = std::move(connected)](const std::error_code& ec,
                                    const tcp::resolver::results_type& results) mutable {
        if (self->closed_) return;
        if (ec) {
          self->pump_.on_connect_failed(ec, "cannot resolve " + t.host + ": " + ec.message(),
                                        clock::now());
          return;
        }
        ::asio::async_connect(
            socket, results,
            [self, &socket, t = std::move(t), next = std::move(next)](
                const std::error_code& cec, const tcp::endpoint&) mutable {
              if (self->closed_) return;
              if (cec) {
                self->pump_.on_connect_failed(
                    cec, "cannot connect to " + t.host + ":" + t.port + ": " + cec.message(),
                    clock::now());
                return;
              }
              std::error_code ignored;
              socket.set_option(tcp::no_delay(true), ignored);  // small frames must not wait
              next(std::move(t));
            });
      });
}

template <class Executor>
void connection<Executor>::close_now() {
  if (closed_) return;
  closed_ = true;
  lingering_ = false;
  timer_target_.reset();  // an expiry already taken from the queue does nothing
  timer_armed_.reset();
  deadlines_.cancel(*this);  // the last connection's entry must not keep the io_context running
  close_socket();
  report_finished();
}

template class connection<strand_type>;
template class connection<io_executor>;

}  // namespace wsx::asio::detail
