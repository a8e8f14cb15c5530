// The libevent adapter of a cluster node: two non-blocking sockets watched by plain events, one
// timer event and an eventfd for wake-ups, all on the application's event_base.
//
// After every callback sync() makes the sockets match what each link wants, exactly as the Asio
// adapter does: a socket for the link's current attempt while it wants one (an older attempt's
// is closed first), its pending output written with send() until the kernel takes no more (then
// a write event waits for room), and the timer at the engine's next deadline. A connect is a
// non-blocking connect() finished by the first write event (SO_ERROR). Other threads reach the
// loop through the node's mailbox, whose wake-up writes the eventfd. A stopped node deletes all
// of its events, so the base's dispatch can return.
#include "wsx/cluster/libevent.hpp"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>

#include "node_core.hpp"

namespace wsx::cluster {

using detail::run_state;
using detail::time_point;
using std::chrono::steady_clock;

class libevent_node::impl final : public detail::node_driver {
 public:
  impl(event_base* base, std::shared_ptr<detail::node_core> core)
      : base_(base), core_(std::move(core)) {}

  ~impl() { close_all(); }

  void wake() override {
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
  }

  std::error_code start() {
    if (started_) return {};
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return {errno, std::system_category()};
    wake_ev_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &impl::on_wake, this);
    timer_ = evtimer_new(base_, &impl::on_timer, this);
    if (wake_ev_ == nullptr || timer_ == nullptr || event_add(wake_ev_, nullptr) != 0) {
      close_all();
      return std::make_error_code(std::errc::not_enough_memory);
    }
    started_ = true;
    core_->attach(this);
    core_->start(steady_clock::now());
    sync();
    return {};
  }

  void set_on_stopped(std::function<void()> fn) {
    std::lock_guard lock(stopped_mutex_);
    on_stopped_ = std::move(fn);
  }

 private:
  struct link {
    int fd = -1;
    std::uint64_t attempt = 0;
    bool connecting = false;
    bool connected = false;
    event* rd = nullptr;
    event* wr = nullptr;
    bool wr_added = false;
    impl* owner = nullptr;
    int index = 0;
  };

  static void on_wake(evutil_socket_t fd, short, void* arg) {
    std::uint64_t n = 0;
    (void)!::read(fd, &n, sizeof n);
    auto* self = static_cast<impl*>(arg);
    self->core_->drain(steady_clock::now());
    self->sync();
  }

  static void on_timer(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<impl*>(arg);
    self->armed_.reset();
    const time_point now = steady_clock::now();
    self->core_->eng().on_timer(now);
    self->core_->after_io(now);
    self->sync();
  }

  static void on_readable(evutil_socket_t, short, void* arg) {
    auto* l = static_cast<link*>(arg);
    impl* self = l->owner;
    detail::redis_link& rl = self->core_->eng().link(l->index);
    std::array<char, 16384>& buf = self->buf_;
    for (int round = 0; round < 16 && l->connected; ++round) {
      const ssize_t n = ::recv(l->fd, buf.data(), buf.size(), 0);
      const time_point now = steady_clock::now();
      if (n > 0) {
        rl.receive(std::span<const char>(buf.data(), static_cast<std::size_t>(n)), now);
        if (rl.attempt() != l->attempt || !rl.is_open()) break;
        if (static_cast<std::size_t>(n) < buf.size()) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      drop(*l);
      rl.on_eof(now);
      break;
    }
    self->core_->after_io(steady_clock::now());
    self->sync();
  }

  static void on_writable(evutil_socket_t, short, void* arg) {
    auto* l = static_cast<link*>(arg);
    impl* self = l->owner;
    detail::redis_link& rl = self->core_->eng().link(l->index);
    const time_point now = steady_clock::now();
    if (l->connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      l->connecting = false;
      if (::getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        drop(*l);
        rl.on_connect_failed(now);
      } else {
        l->connected = true;
        event_add(l->rd, nullptr);
        rl.on_connected(now);
      }
      self->core_->after_io(now);
    }
    self->sync();
  }

  static void drop(link& l) {
    if (l.rd != nullptr) event_free(l.rd);
    if (l.wr != nullptr) event_free(l.wr);
    if (l.fd >= 0) ::close(l.fd);
    l.rd = l.wr = nullptr;
    l.fd = -1;
    l.connected = l.connecting = l.wr_added = false;
  }

  void close_all() {
    for (link& l : links_) drop(l);
    if (timer_ != nullptr) event_free(timer_);
    if (wake_ev_ != nullptr) event_free(wake_ev_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    timer_ = wake_ev_ = nullptr;
    wake_fd_ = -1;
    armed_.reset();
  }

  void sync() {
    if (!started_) return;
    if (core_->state() == run_state::stopped) {
      core_->detach();
      close_all();
      started_ = false;
      std::function<void()> fn;
      {
        std::lock_guard lock(stopped_mutex_);
        fn = std::exchange(on_stopped_, {});
      }
      if (fn) fn();
      return;
    }
    for (int i = 0; i < 2; ++i) {
      detail::redis_link& rl = core_->eng().link(i);
      link& l = links_[static_cast<std::size_t>(i)];
      if (l.fd >= 0 && (!rl.wants_socket() || l.attempt != rl.attempt())) drop(l);
      if (rl.wants_socket() && l.fd < 0) connect(i, rl.attempt());
      if (l.connected) flush(l, rl);
    }
    arm_timer();
  }

  void connect(int i, std::uint64_t attempt) {
    link& l = links_[static_cast<std::size_t>(i)];
    l.owner = this;
    l.index = i;
    l.attempt = attempt;
    const time_point now = steady_clock::now();
    detail::redis_link& rl = core_->eng().link(i);
    sockaddr_storage ss{};
    socklen_t len = 0;
    const std::string& host = core_->opts().redis_host;
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
      a4->sin_family = AF_INET;
      a4->sin_port = htons(core_->opts().redis_port);
      len = sizeof *a4;
    } else if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(core_->opts().redis_port);
      len = sizeof *a6;
    } else {
      rl.on_connect_failed(now);
      return;
    }
    l.fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l.fd < 0) {
      rl.on_connect_failed(now);
      return;
    }
    const int one = 1;
    ::setsockopt(l.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    l.rd = event_new(base_, l.fd, EV_READ | EV_PERSIST, &impl::on_readable, &l);
    l.wr = event_new(base_, l.fd, EV_WRITE | EV_PERSIST, &impl::on_writable, &l);
    const int rc = ::connect(l.fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (l.rd == nullptr || l.wr == nullptr || (rc != 0 && errno != EINPROGRESS)) {
      drop(l);
      rl.on_connect_failed(now);
      return;
    }
    l.connecting = true;
    event_add(l.wr, nullptr);
    l.wr_added = true;
  }

  void flush(link& l, detail::redis_link& rl) {
    while (!rl.pending_output().empty()) {
      const std::string_view out = rl.pending_output();
      const ssize_t n = ::send(l.fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        rl.consume_output(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      drop(l);
      rl.on_eof(steady_clock::now());
      core_->after_io(steady_clock::now());
      return;
    }
    const bool want = !rl.pending_output().empty();
    if (want != l.wr_added) {
      if (want) {
        event_add(l.wr, nullptr);
      } else {
        event_del(l.wr);
      }
      l.wr_added = want;
    }
  }

  void arm_timer() {
    const std::optional<time_point> d = core_->next_deadline();
    if (d == armed_ || timer_ == nullptr) return;
    armed_ = d;
    if (!d) {
      evtimer_del(timer_);
      return;
    }
    const auto left = std::max(*d - steady_clock::now(), steady_clock::duration::zero());
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count() + 1;
    const timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
    evtimer_add(timer_, &tv);
  }

  event_base* base_;
  std::shared_ptr<detail::node_core> core_;
  std::array<link, 2> links_;
  std::array<char, 16384> buf_{};
  event* timer_ = nullptr;
  event* wake_ev_ = nullptr;
  int wake_fd_ = -1;
  std::optional<time_point> armed_;
  bool started_ = false;
  std::mutex stopped_mutex_;
  std::function<void()> on_stopped_;
};

namespace {

std::uint64_t random_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

}  // namespace

libevent_node::libevent_node(event_base* base, std::shared_ptr<connection_table> table, options opt)
    : node(std::make_shared<detail::node_core>(std::move(table), std::move(opt), random_seed())),
      impl_(std::make_unique<impl>(base, core_)) {}

libevent_node::~libevent_node() { core_->detach(); }

std::error_code libevent_node::start() {
  if (const std::error_code ec = validate(core_->opts())) return ec;
  return impl_->start();
}

void libevent_node::stop(std::function<void()> on_stopped) {
  impl_->set_on_stopped(std::move(on_stopped));
  core_->request_stop();
}

}  // namespace wsx::cluster
