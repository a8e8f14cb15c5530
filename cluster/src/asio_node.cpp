// The Asio adapter of a cluster node: two TCP sockets and one steady_timer on a strand of the
// application's io_context, driven by the engine's links (redis_link.hpp).
//
// After every input (connect, read, write, timer, mailbox) sync() makes the sockets match what
// each link wants: a socket for the link's current attempt while it wants one (closing one of an
// older attempt first), a write of its pending output when none is in flight (a copy, held by
// the write's handler, so a link that drops its output cannot pull the bytes from under Asio),
// and the timer at the engine's next deadline. Every handler carries the attempt it belongs to
// and does nothing when that attempt is over. A stopped node closes both sockets and cancels the
// timer, leaving no work in the io_context.
#include "wsx/cluster/asio.hpp"

#include <array>
#include <random>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>

#include "node_core.hpp"

namespace wsx::cluster {

using detail::run_state;
using detail::time_point;
using std::chrono::steady_clock;

class asio_node::impl final : public detail::node_driver,
                              public std::enable_shared_from_this<impl> {
 public:
  impl(::asio::io_context& io, std::shared_ptr<detail::node_core> core)
      : strand_(::asio::make_strand(io)),
        core_(std::move(core)),
        timer_(strand_),
        links_{link{::asio::ip::tcp::socket(strand_)}, link{::asio::ip::tcp::socket(strand_)}} {}

  void wake() override {
    ::asio::post(strand_, [self = shared_from_this()] {
      if (self->closed_) return;
      self->core_->drain(steady_clock::now());
      self->sync();
    });
  }

  void start() {
    ::asio::post(strand_, [self = shared_from_this()] {
      if (self->closed_) return;
      self->core_->start(steady_clock::now());
      self->sync();
    });
  }

  void set_on_stopped(std::function<void()> fn) {
    ::asio::post(strand_, [self = shared_from_this(), fn = std::move(fn)]() mutable {
      self->on_stopped_ = std::move(fn);
      if (self->stopped_reported_ && self->on_stopped_) std::exchange(self->on_stopped_, {})();
    });
  }

  void close() {
    ::asio::post(strand_, [self = shared_from_this()] { self->close_all(); });
  }

 private:
  struct link {
    ::asio::ip::tcp::socket sock;
    std::uint64_t attempt = 0;
    bool connected = false;
    bool writing = false;
    std::array<char, 16384> buf{};
  };

  void close_all() {
    closed_ = true;
    for (link& l : links_) drop(l);
    timer_.cancel();
  }

  static void drop(link& l) {
    std::error_code ignored;
    if (l.sock.is_open()) l.sock.close(ignored);
    l.connected = false;
    l.writing = false;
  }

  void sync() {
    if (closed_) return;
    if (core_->state() == run_state::stopped) {
      close_all();
      stopped_reported_ = true;
      if (on_stopped_) std::exchange(on_stopped_, {})();
      return;
    }
    for (int i = 0; i < 2; ++i) {
      detail::redis_link& rl = core_->eng().link(i);
      link& l = links_[static_cast<std::size_t>(i)];
      if (l.sock.is_open() && (!rl.wants_socket() || l.attempt != rl.attempt())) drop(l);
      if (rl.wants_socket() && !l.sock.is_open()) connect(i, rl.attempt());
      if (l.connected && !l.writing && !rl.pending_output().empty()) write(i);
    }
    arm_timer();
  }

  void connect(int i, std::uint64_t attempt) {
    link& l = links_[static_cast<std::size_t>(i)];
    l.attempt = attempt;
    std::error_code ec;
    const auto address = ::asio::ip::make_address(core_->opts().redis_host, ec);
    const ::asio::ip::tcp::endpoint ep(address, core_->opts().redis_port);
    l.sock.open(ep.protocol(), ec);
    if (ec) {
      core_->eng().link(i).on_connect_failed(steady_clock::now());
      return;
    }
    l.sock.async_connect(ep, [self = shared_from_this(), i, attempt](const std::error_code& e) {
      link& lk = self->links_[static_cast<std::size_t>(i)];
      if (self->closed_ || lk.attempt != attempt || !lk.sock.is_open()) return;
      const time_point now = steady_clock::now();
      if (e) {
        drop(lk);
        self->core_->eng().link(i).on_connect_failed(now);
      } else {
        std::error_code ignored;
        lk.sock.set_option(::asio::ip::tcp::no_delay(true), ignored);
        lk.connected = true;
        self->core_->eng().link(i).on_connected(now);
        self->read(i);
      }
      self->core_->after_io(now);
      self->sync();
    });
  }

  void read(int i) {
    link& l = links_[static_cast<std::size_t>(i)];
    const std::uint64_t attempt = l.attempt;
    l.sock.async_read_some(::asio::buffer(l.buf), [self = shared_from_this(), i, attempt](
                                                      const std::error_code& e, std::size_t n) {
      link& lk = self->links_[static_cast<std::size_t>(i)];
      if (self->closed_ || lk.attempt != attempt || !lk.connected) return;
      const time_point now = steady_clock::now();
      detail::redis_link& rl = self->core_->eng().link(i);
      if (e) {
        drop(lk);
        rl.on_eof(now);
      } else {
        rl.receive(std::span<const char>(lk.buf.data(), n), now);
      }
      self->core_->after_io(now);
      self->sync();
      if (lk.connected && lk.attempt == attempt) self->read(i);
    });
  }

  void write(int i) {
    link& l = links_[static_cast<std::size_t>(i)];
    auto bytes = std::make_shared<std::string>(core_->eng().link(i).pending_output());
    l.writing = true;
    const std::uint64_t attempt = l.attempt;
    ::asio::async_write(
        l.sock, ::asio::buffer(*bytes),
        [self = shared_from_this(), i, attempt, bytes](const std::error_code& e, std::size_t n) {
          link& lk = self->links_[static_cast<std::size_t>(i)];
          if (self->closed_ || lk.attempt != attempt || !lk.connected) return;
          lk.writing = false;
          const time_point now = steady_clock::now();
          detail::redis_link& rl = self->core_->eng().link(i);
          if (e) {
            drop(lk);
            rl.on_eof(now);
          } else {
            rl.consume_output(n);
          }
          self->core_->after_io(now);
          self->sync();
        });
  }

  void arm_timer() {
    const std::optional<time_point> d = core_->next_deadline();
    if (d == armed_) return;
    armed_ = d;
    if (!d) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(*d);
    const std::uint64_t generation = ++timer_generation_;
    timer_.async_wait([self = shared_from_this(), generation](const std::error_code& e) {
      if (e || self->closed_ || generation != self->timer_generation_) return;
      self->armed_.reset();
      const time_point now = steady_clock::now();
      self->core_->eng().on_timer(now);
      self->core_->after_io(now);
      self->sync();
    });
  }

  ::asio::strand<::asio::io_context::executor_type> strand_;
  std::shared_ptr<detail::node_core> core_;
  ::asio::steady_timer timer_;
  std::array<link, 2> links_;
  std::optional<time_point> armed_;
  std::uint64_t timer_generation_ = 0;
  std::function<void()> on_stopped_;
  bool stopped_reported_ = false;
  bool closed_ = false;
};

namespace {

std::uint64_t random_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

}  // namespace

asio_node::asio_node(::asio::io_context& io, std::shared_ptr<connection_table> table, options opt)
    : node(std::make_shared<detail::node_core>(std::move(table), std::move(opt), random_seed())),
      impl_(std::make_shared<impl>(io, core_)) {
  core_->attach(impl_.get());
}

asio_node::~asio_node() {
  core_->detach();
  impl_->close();
}

std::error_code asio_node::start() {
  if (const std::error_code ec = validate(core_->opts())) return ec;
  impl_->start();
  return {};
}

void asio_node::stop(std::function<void()> on_stopped) {
  impl_->set_on_stopped(std::move(on_stopped));
  core_->request_stop();
}

}  // namespace wsx::cluster
