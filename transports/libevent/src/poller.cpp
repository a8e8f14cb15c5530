// The loop's epoll set (see poller.hpp).
//
// An interest change is one epoll_ctl: ADD when a socket gets its first bit, MOD when the bits
// change, DEL when none is left (epoll would report a hang-up even with no bit set, at every
// round, for as long as the socket stays open). The hot path changes nothing: a busy connection
// keeps its read bit, and only a write the kernel could not take whole adds the write bit.
//
// run() takes at most `batch` ready sockets per callback; level triggering brings the rest at the
// next round, after libevent has run the base's other events. Readiness is filtered through the
// interest at the moment the connection is reached: a connection that an earlier one closed in
// the same batch, or whose write bit an earlier callback dropped, hears nothing.
#include "poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "loop.hpp"

namespace wsx::libevent::detail {
namespace {

constexpr int batch = 128;

std::uint32_t epoll_bits(std::uint8_t bits) noexcept {
  return ((bits & poller::read) != 0 ? EPOLLIN : 0u) |
         ((bits & poller::write) != 0 ? EPOLLOUT : 0u);
}

// As libevent's epoll backend: an error or a hang-up is reported to both directions.
std::uint8_t ready_bits(std::uint32_t events) noexcept {
  std::uint8_t r = poller::none;
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) r |= poller::read;
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) r |= poller::write;
  return r;
}

}  // namespace

poller::poller(event_base* base, event_callback_fn cb, void* arg, std::error_code& ec) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    ec = std::error_code(errno, std::system_category());
    return;
  }
  event_assign(&ev_, base, epoll_fd_, EV_READ | EV_PERSIST, cb, arg);
}

poller::~poller() {
  detach();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

std::uint8_t poller::n_bits(const loop_node& n) noexcept { return n.polled; }

void poller::set_added(bool on) {
  if (on == added_ || detached_) return;
  if (on) {
    event_add(&ev_, nullptr);
  } else {
    event_del(&ev_);
  }
  added_ = on;
}

void poller::watch(loop_node& n, int fd, std::uint8_t bits) {
  if (bits == n.polled || fd < 0 || detached_) return;
  epoll_event e{};
  e.events = epoll_bits(bits);
  e.data.ptr = &n;
  int op = EPOLL_CTL_MOD;
  if (n.polled == none) {
    op = EPOLL_CTL_ADD;
  } else if (bits == none) {
    op = EPOLL_CTL_DEL;
  }
  if (::epoll_ctl(epoll_fd_, op, fd, &e) != 0) {
    // Only a socket that is not open any more can fail here; its next read or write says so.
    // Keep the books as if the call had succeeded, so that the socket is not counted twice.
    if (op == EPOLL_CTL_ADD && errno == EEXIST) ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &e);
  }
  if (n.polled == none) ++watched_;
  if (bits == none) --watched_;
  n.polled = bits;
  set_added(watched_ != 0);
}

void poller::poke(loop_node& n) {
  if (detached_ || n.poked) return;
  n.poked = true;
  pokes_.push_back(&n);
  event_active(&ev_, EV_READ, 1);
}

void poller::forget(loop_node& n, int fd) noexcept {
  if (n.poked) {
    n.poked = false;
    pokes_.erase(std::find(pokes_.begin(), pokes_.end(), &n));
  }
  if (n.polled == none) return;
  if (fd >= 0 && !detached_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  n.polled = none;
  --watched_;
  set_added(watched_ != 0);
}

void poller::detach() noexcept {
  if (added_) event_del(&ev_);
  added_ = false;
  detached_ = true;
  pokes_.clear();
}

void poller::run(ready_fn ready) {
  if (!pokes_.empty()) {
    std::vector<loop_node*> poked;
    poked.swap(pokes_);
    for (loop_node* n : poked) {
      if (!n->poked) continue;  // forgotten meanwhile
      n->poked = false;
      ready(*n, read);
    }
  }
  if (watched_ == 0 || detached_) return;
  epoll_event events[batch];
  int count = 0;
  do {
    count = ::epoll_wait(epoll_fd_, events, batch, 0);
  } while (count < 0 && errno == EINTR);
  for (int i = 0; i < count; ++i) {
    auto& n = *static_cast<loop_node*>(events[i].data.ptr);
    const std::uint8_t r = ready_bits(events[i].events) & n.polled;
    if (r != none) ready(n, r);
  }
}

}  // namespace wsx::libevent::detail
