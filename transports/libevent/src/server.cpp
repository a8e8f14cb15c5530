// The server: a listening socket with one event on the server's home loop, the connections it
// accepts spread over its loops, and shutdown.
//
// The home loop is the one attached to the application's event_base, or a loop_pool's first loop;
// the loops are that one alone, or every loop of the pool (accepted sockets go to the next in
// turn, handed over through the target loop's mailbox). The connections themselves are held by
// their loops' registries; the server only counts them (connection_context::live, raised when a
// connection object is made and lowered when its socket closes), so stop() knows when the last
// one is gone.
//
// stop() runs on the home loop: the listener goes, every loop tells the server's connections to
// shut down (1001 / 503 / drop), and one timer event — the stop event — is pending until the
// last connection is gone. It fires first when `grace` ends (whatever is left is dropped) and
// then every second until the end, and it is what keeps an attached event_base's dispatch
// running while the closing handshakes finish: the on_stopped callbacks run from the home loop's
// mailbox, and the stop event is deleted only then.
//
// Accept errors caused by resource exhaustion (EMFILE, ENFILE, ENOBUFS, ENOMEM) pause accepting
// for 50 ms instead of spinning; the kernel keeps the pending connections in the backlog.
#include "wsx/libevent/server.hpp"

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "pool_state.hpp"
#include "socket_address.hpp"
#include "tls_connection.hpp"

namespace wsx::libevent::detail {

class server_state final : public connection_owner,
                           public std::enable_shared_from_this<server_state> {
 public:
  server_state(std::shared_ptr<loop> home, std::vector<std::shared_ptr<loop>> loops,
               std::shared_ptr<pool_state> pool, std::error_code setup_error, server_options opts)
      : home_(std::move(home)),
        loops_(std::move(loops)),
        pool_(std::move(pool)),
        setup_error_(setup_error),
        host_(std::move(opts.host)),
        port_(opts.port),
        backlog_(opts.backlog),
        ctx_(std::make_shared<connection_context>()) {
    ctx_->linger = opts.linger;
    if (opts.tls != nullptr && SSL_CTX_up_ref(opts.tls) == 1) ctx_->tls = opts.tls;
    take_server_options(*ctx_, opts);
  }

  ~server_state() {
    // Only reached once the home loop no longer runs anything of ours: every task we posted has
    // run (it held a reference), or was dropped because the loop was detached.
    remove_events();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }

  std::error_code start() {
    std::unique_lock lock(mutex_);
    if (setup_error_) return setup_error_;
    if (started_ || stopping_) return errc::invalid_state;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(port_);
    if (const int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return std::error_code(rc, resolver_category());
    }
    const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    std::error_code ec;
    if (fd < 0) ec = std::error_code(errno, std::system_category());
    const int one = 1;
    if (!ec && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) ec = last_error();
    if (!ec && ::bind(fd, found->ai_addr, found->ai_addrlen) != 0) ec = last_error();
    if (!ec && ::listen(fd, backlog_) != 0) ec = last_error();
    ::freeaddrinfo(found);
    if (!ec) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) ec = last_error();
      if (!ec) local_ = endpoint_of(bound);
    }
    if (ec) {
      if (fd >= 0) ::close(fd);
      return ec;
    }
    listen_fd_ = fd;
    started_ = true;
    ctx_->owner = weak_from_this();  // before the first connection
    lock.unlock();                   // listen() may run here and now
    home_->run_or_post([self = shared_from_this()] { self->listen(); });
    return {};
  }

  void stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) {
    {
      std::unique_lock lock(mutex_);
      if (!started_ || stopped_) {
        stopping_ = stopped_ = true;  // never started, or stopped already: nothing to wait for
        lock.unlock();
        if (on_stopped) on_stopped();
        return;
      }
      // Runs when the stop finishes, whichever call started it.
      if (on_stopped) on_stopped_.push_back(std::move(on_stopped));
      if (stopping_) return;  // under way
    }
    home_->run_or_post([self = shared_from_this(), grace] { self->begin_stop(grace); });
  }

  // The server object is going: drop every connection now (their on_close handlers run).
  void destroy() {
    auto drop_all = [self = shared_from_this()] {
      self->remove_events();
      if (self->listen_fd_ >= 0) ::close(self->listen_fd_);
      self->listen_fd_ = -1;
      for (const auto& l : self->loops_) {
        l->run_or_post([self, l] {
          for (const auto& c : l->connections_of(self->ctx_.get())) c->drop();
        });
      }
    };
    {
      std::lock_guard lock(mutex_);
      stopping_ = stopped_ = true;
      on_stopped_.clear();
    }
    if (pool_) {
      home_->post(std::move(drop_all));
      return;
    }
    // Attached: on the application's thread, synchronously, so that nothing of ours is left on
    // its event_base afterwards. The loop is this server's alone.
    if (!home_) return;  // it could not be made: nothing was ever added
    const loop::scope in_loop(*home_);
    drop_all();
    home_->detach();
  }

  void last_connection_gone() noexcept override {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ || stopped_) return;
    }
    home_->post([self = shared_from_this()] { self->finish_stop(); });
  }

  endpoint local_endpoint() const {
    std::lock_guard lock(mutex_);
    return local_;
  }
  std::size_t connection_count() const noexcept {
    return ctx_->live.load(std::memory_order_acquire);
  }
  const std::shared_ptr<connection_context>& context() const noexcept { return ctx_; }

 private:
  static std::error_code last_error() { return {errno, std::system_category()}; }

  // ---- accepting (home loop) ------------------------------------------------------------------
  void listen() {
    if (listen_fd_ < 0 || stopping_now()) return;
    event_assign(&listen_ev_, home_->base(), listen_fd_, EV_READ | EV_PERSIST,
                 &server_state::on_accept_event, this);
    evtimer_assign(&retry_ev_, home_->base(), &server_state::on_retry_event, this);
    evtimer_assign(&stop_ev_, home_->base(), &server_state::on_stop_event, this);
    events_assigned_ = true;
    event_add(&listen_ev_, nullptr);
    listening_ = true;
  }

  static void on_accept_event(evutil_socket_t, short, void* arg) {
    auto& self = *static_cast<server_state*>(arg);
    const loop::scope in_loop(*self.home_);
    self.accept_ready();
  }

  static void on_retry_event(evutil_socket_t, short, void* arg) {
    auto& self = *static_cast<server_state*>(arg);
    if (self.listen_fd_ < 0 || self.stopping_now()) return;
    event_add(&self.listen_ev_, nullptr);
    self.listening_ = true;
  }

  void accept_ready() {
    // A bounded batch per callback, so a flood of connections cannot starve the loop's others.
    for (int i = 0; i < 64 && listening_; ++i) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          event_del(&listen_ev_);
          listening_ = false;
          const timeval pause{0, 50'000};
          event_add(&retry_ev_, &pause);
        }
        return;  // EAGAIN: drained
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small frames must not wait
      start_connection(fd, endpoint_of(peer).to_string());
    }
  }

  void start_connection(int fd, std::string remote) {
    const std::shared_ptr<loop>& target = pool_ ? pool_->next_loop() : home_;
    std::shared_ptr<connection> c;
    if (ctx_->tls != nullptr) {
      c = std::make_shared<tls_connection>(target, ctx_, fd, std::move(remote), ctx_->tls);
    } else {
      c = std::make_shared<tcp_connection>(target, ctx_, fd, std::move(remote));
    }
    connection::start(c);
    if (target == home_) {
      target->add(c);
      c->begin_server();
      return;
    }
    target->post([l = target, s = starting_connection(std::move(c))]() mutable {
      const std::shared_ptr<connection> started = s.take();
      l->add(started);
      started->begin_server();
    });
  }

  // ---- stopping (home loop) -------------------------------------------------------------------
  bool stopping_now() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void remove_events() noexcept {
    if (!events_assigned_) return;
    if (listening_) event_del(&listen_ev_);
    listening_ = false;
    event_del(&retry_ev_);
    event_del(&stop_ev_);
    events_assigned_ = false;  // nothing of ours is on the base any more
  }

  void begin_stop(std::chrono::steady_clock::duration grace) {
    bool empty = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // destroyed meanwhile
      stopping_ = true;
      empty = ctx_->live.load(std::memory_order_acquire) == 0;
    }
    if (listening_) event_del(&listen_ev_);
    listening_ = false;
    if (events_assigned_) event_del(&retry_ev_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    for (const auto& l : loops_) {
      l->run_or_post([self = shared_from_this(), l] {
        for (const auto& c : l->connections_of(self->ctx_.get())) c->shutdown_session();
      });
    }
    if (empty) {
      finish_stop();
      return;
    }
    const auto us = std::chrono::ceil<std::chrono::microseconds>(grace).count();
    const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
    event_add(&stop_ev_, &tv);
  }

  static void on_stop_event(evutil_socket_t, short, void* arg) {
    auto& self = *static_cast<server_state*>(arg);
    const loop::scope in_loop(*self.home_);
    // The grace period is over (or a straggler is still closing a second later): drop the rest.
    const timeval again{1, 0};
    event_add(&self.stop_ev_, &again);
    for (const auto& l : self.loops_) {
      l->run_or_post([self = self.shared_from_this(), l] {
        for (const auto& c : l->connections_of(self->ctx_.get())) c->drop();
      });
    }
  }

  void finish_stop() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || ctx_->live.load(std::memory_order_acquire) != 0) return;
      stopped_ = true;
      callbacks.swap(on_stopped_);
    }
    if (events_assigned_) event_del(&stop_ev_);
    for (auto& cb : callbacks) cb();
  }

  std::shared_ptr<loop> home_;
  std::vector<std::shared_ptr<loop>> loops_;
  std::shared_ptr<pool_state> pool_;  // null when attached
  std::error_code setup_error_;       // the attached loop could not be made
  std::string host_;
  std::uint16_t port_;
  int backlog_;
  std::shared_ptr<connection_context> ctx_;

  // Home loop only.
  int listen_fd_ = -1;
  bool events_assigned_ = false;
  bool listening_ = false;  // listen_ev_ is added
  ::event listen_ev_{};
  ::event retry_ev_{};
  ::event stop_ev_{};  // pending from begin_stop() until the last connection is gone

  mutable std::mutex mutex_;  // guards what follows
  std::vector<std::function<void()>> on_stopped_;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  endpoint local_;
};

}  // namespace wsx::libevent::detail

namespace wsx::libevent {

namespace {

std::shared_ptr<detail::server_state> attached_server(event_base* base, server_options opts) {
  std::error_code ec;
  std::shared_ptr<detail::loop> l = detail::loop::attach(base, ec);
  std::vector<std::shared_ptr<detail::loop>> loops;
  if (l) loops.push_back(l);
  return std::make_shared<detail::server_state>(std::move(l), std::move(loops), nullptr, ec,
                                                std::move(opts));
}

std::shared_ptr<detail::server_state> pooled_server(loop_pool& pool, server_options opts) {
  const std::shared_ptr<detail::pool_state>& p = detail::pool_access::state(pool);
  return std::make_shared<detail::server_state>(p->loops.front(), p->loops, p, std::error_code{},
                                                std::move(opts));
}

}  // namespace

server::server(event_base* base, server_options opts)
    : state_(attached_server(base, std::move(opts))) {}

server::server(loop_pool& pool, server_options opts)
    : state_(pooled_server(pool, std::move(opts))) {}

server::~server() { state_->destroy(); }

std::error_code server::start() { return state_->start(); }

endpoint server::local_endpoint() const { return state_->local_endpoint(); }

void server::stop(std::chrono::steady_clock::duration grace, std::function<void()> on_stopped) {
  state_->stop(grace, std::move(on_stopped));
}

connection_table& server::table() const noexcept { return *state_->context()->table; }

stats& server::counters() const noexcept { return *state_->context()->counters; }

std::uint64_t server::messages_dropped() const noexcept {
  return state_->context()->messages_dropped.load(std::memory_order_relaxed);
}

std::size_t server::connection_count() const noexcept { return state_->connection_count(); }

}  // namespace wsx::libevent
