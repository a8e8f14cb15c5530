// The shared part of a connection: start-up, the client's connect, the one timer, the events, and
// the end of the socket.
//
// The timer is an entry of the loop's timer heap and follows the pump's next deadline without a
// heap operation for every message: the heartbeat deadline moves later with each frame received,
// and a deadline that moves later needs no new arming — the entry expires early, finds the target
// in the future and is armed again from there. Only a deadline that moves earlier re-arms at
// once. After the closing handshake the same entry bounds the lingering close.
//
// A client's name lookup runs getaddrinfo() on a short-lived thread of its own (libevent's evdns
// would keep a resolver on every base that ever connected), unless the host is an address; the
// answer comes back through the loop's mailbox and is ignored if the connection has ended
// meanwhile (the handshake deadline bounds the whole setup). The addresses are then tried in
// order with non-blocking connects.
#include "connection.hpp"
#include "socket_address.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>
#include <utility>

namespace wsx::libevent::detail {
namespace {

struct addrinfo_deleter {
  void operator()(addrinfo* a) const noexcept {
    if (a != nullptr) ::freeaddrinfo(a);
  }
};
using addrinfo_ptr = std::unique_ptr<addrinfo, addrinfo_deleter>;

}  // namespace

std::span<std::byte> thread_read_buffer() {
  // Allocated on first use, so threads that never read (the application's) pay nothing.
  thread_local std::unique_ptr<std::byte[]> buffer;
  if (!buffer) buffer = std::make_unique_for_overwrite<std::byte[]>(read_buffer_size);
  return {buffer.get(), read_buffer_size};
}

struct connection::client_setup {
  client_target target;
  addrinfo_ptr found;
  const addrinfo* next = nullptr;  // the address to try next
  std::error_code last_error;      // of the last address tried
};

connection::connection(std::shared_ptr<loop> l, const std::shared_ptr<connection_context>& ctx,
                       int fd, std::string remote)
    : loop_(std::move(l)),
      fd_(fd),
      session_("", std::move(remote), {}),
      pump_(ctx, *this, session_, clock::now()) {
  ctx->live.fetch_add(1, std::memory_order_acq_rel);
}

connection::~connection() {
  // Never started on its loop (a task dropped with a detached loop): the socket is still ours,
  // and the owner must hear of it.
  if (phase_ != phase::closed) {
    if (fd_ >= 0) ::close(fd_);
    report_finished();
  }
}

void connection::start(const std::shared_ptr<connection>& self) {
  self->pump_.start(std::shared_ptr<pump>(self, &self->pump_));
}

void connection::abandon() noexcept {
  if (phase_ == phase::created) pump_.release_handle();  // the caller still holds the object
}

void connection::report_finished() noexcept {
  const connection_context& ctx = context();
  if (ctx.live.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (const std::shared_ptr<connection_owner> owner = ctx.owner.lock()) {
    owner->last_connection_gone();
  }
}

// ---- phases and events --------------------------------------------------------------------------

void connection::become(phase p) {
  const bool first = phase_ == phase::created;
  phase_ = p;
  // The pump armed its handshake deadline before the connection reached the loop.
  if (first && timer_target_) loop_->arm(*this, *timer_target_);
}

void connection::watch_read(bool on) {
  const std::uint8_t bits = on ? (polled | poller::read) : (polled & ~poller::read);
  loop_->sockets().watch(*this, fd_, bits);
}

void connection::watch_write() { loop_->sockets().watch(*this, fd_, polled | poller::write); }

void connection::poke_read() {
  if (read_watched()) loop_->sockets().poke(*this);
}

void connection::on_ready(std::uint8_t ready) {
  // In the loop's scope (the poller's callback). The read side first, as libevent runs a
  // socket's read event before its write event; each side is checked against the interest
  // again, since the other's callback may have changed it (or closed the connection).
  if ((ready & poller::read) != 0 && read_watched()) on_readable();
  if ((ready & poller::write) == 0 || (polled & poller::write) == 0) return;
  loop_->sockets().watch(*this, fd_, polled & ~poller::write);  // one-shot
  if (phase_ == phase::connecting) {
    on_connect_done();
  } else {
    on_writable();
  }
}

// ---- the timer ----------------------------------------------------------------------------------

void connection::set_timer(std::optional<time_point> at) {
  timer_target_ = at;
  // Not on the loop yet (the pump starts on any thread): become() arms it. No time: an entry still
  // armed finds nothing to do when it expires.
  if (phase_ == phase::created || phase_ == phase::closed || !at) return;
  const maybe_time armed = loop_->armed_for(*this);
  if (armed && *armed <= *at) return;  // expires first, then arms for the rest
  loop_->arm(*this, *at);
}

void connection::on_timer_due(time_point now) {
  if (phase_ == phase::closed || !timer_target_) return;
  if (*timer_target_ > now) {
    loop_->arm(*this, *timer_target_);  // the time moved later while we waited
    return;
  }
  if (phase_ == phase::lingering) {
    close_now();  // the peer never finished its side
    return;
  }
  timer_target_.reset();
  pump_.on_timer(now);
}

void connection::begin_linger() {
  phase_ = phase::lingering;
  const time_point end =
      clock::now() + std::chrono::duration_cast<clock::duration>(context().linger);
  timer_target_ = end;  // the pump sets no time any more
  const maybe_time armed = loop_->armed_for(*this);
  if (!armed || *armed > end) loop_->arm(*this, end);
}

// ---- commands from the loop ---------------------------------------------------------------------

void connection::on_woken(time_point now) {
  if (phase_ != phase::closed) pump_.on_wake(now);
}

void connection::shutdown_session() {
  if (phase_ != phase::closed) pump_.shutdown(clock::now());
}

void connection::drop() {
  if (phase_ == phase::closed) return;
  if (pump_.finished()) {
    close_now();  // lingering: stop waiting for the peer
  } else {
    pump_.abort(clock::now());
  }
}

void connection::fail_client(std::error_code ec, std::string reason) {
  become(phase::resolving);
  pump_.on_connect_failed(ec, std::move(reason), clock::now());
}

// ---- the client's connect -----------------------------------------------------------------------

void connection::begin_client(const std::shared_ptr<connection>& self, client_target target) {
  become(phase::resolving);
  auto setup = std::make_unique<client_setup>();
  setup->target = std::move(target);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* numeric = nullptr;
  const std::string host = setup->target.host;
  const std::string port = setup->target.port;
  setup_ = std::move(setup);
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &numeric) == 0) {
    on_resolved(0, numeric);  // an address: nothing to look up
    return;
  }
  // A name: getaddrinfo() blocks, so it runs on a thread of its own. No AI_ADDRCONFIG: with only
  // a loopback interface it hides 127.0.0.1.
  try {
    std::thread([weak = std::weak_ptr<connection>(self), l = loop_, host, port] {
      addrinfo h{};
      h.ai_family = AF_UNSPEC;
      h.ai_socktype = SOCK_STREAM;
      h.ai_flags = AI_NUMERICSERV;
      addrinfo* found = nullptr;
      const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &h, &found);
      l->post([weak, rc, list = addrinfo_ptr(rc == 0 ? found : nullptr)]() mutable {
        if (const std::shared_ptr<connection> c = weak.lock()) c->on_resolved(rc, list.release());
      });
    }).detach();
  } catch (const std::system_error& e) {
    pump_.on_connect_failed(e.code(), "cannot resolve " + host + ": " + e.what(), clock::now());
  }
}

void connection::on_resolved(int error, addrinfo* found) {
  addrinfo_ptr list(found);
  if (phase_ != phase::resolving || !setup_) return;  // ended meanwhile
  client_setup& s = *setup_;
  if (error != 0) {
    pump_.on_connect_failed(std::error_code(error, resolver_category()),
                            "cannot resolve " + s.target.host + ": " + ::gai_strerror(error),
                            clock::now());
    return;
  }
  s.found = std::move(list);
  s.next = s.found.get();
  connect_next();
}

void connection::connect_next() {
  client_setup& s = *setup_;
  while (s.next != nullptr) {
    const addrinfo& a = *s.next;
    s.next = a.ai_next;
    fd_ = ::socket(a.ai_family, a.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a.ai_protocol);
    if (fd_ < 0) {
      s.last_error = std::error_code(errno, std::system_category());
      continue;
    }
    if (::connect(fd_, a.ai_addr, a.ai_addrlen) == 0) {
      on_connect_done();
      return;
    }
    if (errno == EINPROGRESS) {
      phase_ = phase::connecting;
      watch_write();
      return;
    }
    s.last_error = std::error_code(errno, std::system_category());
    ::close(fd_);
    fd_ = -1;
  }
  connect_failed(s.last_error ? s.last_error : std::make_error_code(std::errc::host_unreachable));
}

void connection::on_connect_done() {
  client_setup& s = *setup_;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    s.last_error = std::error_code(err, std::system_category());
    loop_->sockets().forget(*this, fd_);  // the next address gets a socket of its own
    ::close(fd_);
    fd_ = -1;
    phase_ = phase::resolving;
    connect_next();
    return;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small frames must not wait
  client_target target = std::move(s.target);
  setup_.reset();
  on_connected(target);
}

void connection::connect_failed(std::error_code ec) {
  const client_target& t = setup_->target;
  pump_.on_connect_failed(ec, "cannot connect to " + t.host + ":" + t.port + ": " + ec.message(),
                          clock::now());
}

// ---- the end ------------------------------------------------------------------------------------

void connection::close_socket() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void connection::close_now() {
  if (phase_ == phase::closed) return;
  const bool on_loop = phase_ != phase::created;
  phase_ = phase::closed;
  loop_->sockets().forget(*this, fd_);
  setup_.reset();
  timer_target_.reset();
  if (on_loop) loop_->disarm(*this);
  close_socket();
  loop_->forget_wakes(*this);
  report_finished();
  // Last: the loop keeps this object, through the reference it held to itself, until its scope
  // ends.
  std::shared_ptr<session> own = pump_.release_handle();
  loop_->remove(*this, own ? std::shared_ptr<connection>(std::move(own), this) : nullptr);
}

}  // namespace wsx::libevent::detail
