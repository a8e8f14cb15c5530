// Theory of operation: sockets are non-blocking and registered once, edge-triggered, for input
// and output; every wake-up reads until EAGAIN into one shared 256 KiB buffer and writes until
// the socket is full. A connection goes connecting -> handshake (request sent whole, response read
// up to CRLF CRLF and checked) -> open. An open connection's outgoing messages are a range of
// the workload's ring (send_idx, send_k frames, send_off bytes of them already written): echoes
// are counted, their send times popped from a FIFO as latencies, and each read's echoes are
// refilled at once, so one send() carries them all. A pong may only leave on a frame boundary.
#include "driver.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace deflate_load {

struct driver::conn {
  enum class state { connecting, handshake, open, dead };
  int fd = -1;
  state st = state::connecting;
  std::size_t index = 0;
  std::string key, accept;
  std::string out;  // the request, then pongs
  std::size_t out_off = 0;
  std::string in;  // the response head
  std::unique_ptr<echo_stream> rx;
  std::size_t send_idx = 0, send_k = 0, send_off = 0;
  std::size_t inflight = 0;
  std::uint64_t quota = 0;
  std::vector<std::uint64_t> ts;  // send times of what is in flight, a ring of depth entries
  std::size_t ts_head = 0;
  std::uint64_t window_echoes = 0;
  std::uint64_t echoes = 0;  // since it opened
};

driver::driver(const target& t, const offer& o, workload& w, std::size_t depth, std::size_t window)
    : t_(t), offer_(o), w_(w), depth_(depth), window_(window), rbuf_(256 * 1024) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
}

driver::~driver() {
  close_all();
  if (epfd_ >= 0) ::close(epfd_);
}

void driver::fail(conn& c, const std::string& why) {
  if (c.st == conn::state::dead) return;
  if (first_error_.empty()) first_error_ = "connection " + std::to_string(c.index) + ": " + why;
  if (c.st == conn::state::open) --open_;
  if (c.st == conn::state::connecting || c.st == conn::state::handshake) --connecting_;
  c.st = conn::state::dead;
  ++dead_;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
}

void driver::start_connect(conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    c.st = conn::state::handshake;
    ++connecting_;
    fail(c, std::string("socket: ") + std::strerror(errno));
    return;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ++connecting_;
  make_key(c.key, c.accept);
  c.out = upgrade_request(t_.host_port, t_.path, c.key, offer_);
  c.out_off = 0;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = c.index;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
  const int r = ::connect(c.fd, reinterpret_cast<const sockaddr*>(&t_.addr), sizeof t_.addr);
  if (r < 0 && errno != EINPROGRESS) fail(c, std::string("connect: ") + std::strerror(errno));
}

std::string driver::open(std::size_t n, std::uint64_t timeout_ns) {
  const std::size_t first = conns_.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto c = std::make_unique<conn>();
    c->index = first + i;
    c->ts.resize(depth_);
    c->send_idx = (c->index * 37) % w_.count();
    conns_.push_back(std::move(c));
  }
  const std::uint64_t deadline = now_ns() + timeout_ns;
  while (now_ns() < deadline) {
    while (next_connect_ < conns_.size() && connecting_ < window_)
      start_connect(*conns_[next_connect_++]);
    if (next_connect_ == conns_.size() && connecting_ == 0) break;
    run(std::min<std::uint64_t>(deadline, now_ns() + 50'000'000ULL));
  }
  if (!first_error_.empty()) return first_error_;
  if (open_ != conns_.size() - dead_ || connecting_ != 0 || next_connect_ != conns_.size())
    return "timed out opening connections (" + std::to_string(open_) + " open)";
  return {};
}

void driver::send(std::uint64_t quota) {
  sending_ = true;
  const std::uint64_t now = now_ns();
  for (auto& c : conns_) {
    if (c->st != conn::state::open) continue;
    c->quota = quota;
    refill(*c, now);
    flush(*c);
  }
}

void driver::refill(conn& c, std::uint64_t now) {
  if (!sending_) return;
  while (c.inflight < depth_ && c.quota > 0) {
    c.ts[(c.ts_head + c.inflight) % depth_] = now;
    ++c.inflight;
    ++c.send_k;
    --c.quota;
  }
}

void driver::flush(conn& c) {
  while (c.st == conn::state::open || c.st == conn::state::handshake) {
    const bool ctrl = c.out_off < c.out.size() && (c.send_off == 0 || c.out_off > 0);
    const unsigned char* p;
    std::size_t len;
    if (ctrl) {
      p = reinterpret_cast<const unsigned char*>(c.out.data()) + c.out_off;
      len = c.out.size() - c.out_off;
    } else if (c.send_k > 0) {
      p = w_.frames_at(c.send_idx) + c.send_off;
      len = w_.frames_size(c.send_idx, c.send_k) - c.send_off;
    } else {
      return;
    }
    const ssize_t r = ::send(c.fd, p, len, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail(c, std::string("send: ") + strerror(errno));
      return;
    }
    const auto n = static_cast<std::size_t>(r);
    if (ctrl) {
      c.out_off += n;
      if (c.out_off == c.out.size()) c.out.clear(), c.out_off = 0;
    } else if (n == len) {
      c.send_idx = (c.send_idx + c.send_k) % w_.count();
      c.send_k = 0;
      c.send_off = 0;
    } else {
      c.send_off += n;
    }
    if (n < len) return;  // the socket is full: EPOLLOUT brings us back
  }
}

void driver::on_handshake_bytes(conn& c) {
  const std::size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.in.size() > 16384) fail(c, "response head larger than 16 KiB");
    return;
  }
  agreement a;
  if (std::string e =
          check_response(std::string_view(c.in).substr(0, end + 4), c.accept, offer_, a);
      !e.empty()) {
    fail(c, "handshake: " + e);
    return;
  }
  if (!have_agreement_) {
    w_.agreed = a;
    have_agreement_ = true;
  } else if (!(a == w_.agreed)) {
    fail(c, "agreement '" + a.header + "' differs from the first one, '" + w_.agreed.header + "'");
    return;
  }
  const std::string rest = c.in.substr(end + 4);
  c.in.clear();
  c.in.shrink_to_fit();
  c.st = conn::state::open;
  --connecting_;
  ++open_;
  c.rx = std::make_unique<echo_stream>(w_, c.send_idx);
  if (!rest.empty()) {
    std::size_t echoes = 0;
    if (std::string e = c.rx->feed(reinterpret_cast<const unsigned char*>(rest.data()), rest.size(),
                                   echoes, c.out);
        !e.empty() || echoes != 0)
      fail(c, e.empty() ? "echo before any message was sent" : e);
  }
}

void driver::on_frames(conn& c) {
  for (;;) {
    const ssize_t r = ::recv(c.fd, rbuf_.data(), rbuf_.size(), 0);
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail(c, std::string("recv: ") + strerror(errno));
      break;
    }
    if (r == 0) {
      fail(c, "the server closed the connection");
      return;
    }
    if (c.st == conn::state::handshake) {
      c.in.append(reinterpret_cast<const char*>(rbuf_.data()), static_cast<std::size_t>(r));
      on_handshake_bytes(c);  // then on: the rest of the read goes to the echo stream
      continue;
    }
    std::size_t echoes = 0;
    const std::string e = c.rx->feed(rbuf_.data(), static_cast<std::size_t>(r), echoes, c.out);
    const std::uint64_t now = now_ns();
    if (echoes > c.inflight) {
      fail(c, "more echoes than messages sent");
      return;
    }
    for (std::size_t i = 0; i < echoes; ++i) {
      hist_.add(now - c.ts[c.ts_head]);
      c.ts_head = (c.ts_head + 1) % depth_;
    }
    c.inflight -= echoes;
    c.window_echoes += echoes;
    c.echoes += echoes;
    echoes_ += echoes;
    if (!e.empty()) {
      fail(c, e);
      return;
    }
    if (static_cast<std::size_t>(r) < rbuf_.size()) break;
  }
  if (c.st != conn::state::open) return;
  refill(c, now_ns());
  flush(c);
}

void driver::on_event(conn& c, std::uint32_t events) {
  if (c.st == conn::state::dead) return;
  if (c.st == conn::state::connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(c, std::string("connect: ") + std::strerror(err));
      return;
    }
    c.st = conn::state::handshake;
  }
  if (events & EPOLLOUT) flush(c);
  if (c.st != conn::state::dead && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
    on_frames(c);
}

void driver::run(std::uint64_t deadline_ns, std::uint64_t until_echoes) {
  epoll_event evs[256];
  for (;;) {
    const std::uint64_t now = now_ns();
    if (now >= deadline_ns || echoes_ >= until_echoes) return;
    const int ms = static_cast<int>(std::min<std::uint64_t>((deadline_ns - now) / 1000000 + 1, 50));
    const int n = epoll_wait(epfd_, evs, 256, ms);
    for (int i = 0; i < n; ++i) on_event(*conns_[evs[i].data.u64], evs[i].events);
  }
}

void driver::reset_window() {
  echoes_ = 0;
  hist_.clear();
  for (auto& c : conns_) c->window_echoes = 0;
}

std::size_t driver::stalled() const {
  std::size_t n = 0;
  for (const auto& c : conns_) n += c->st == conn::state::open && c->window_echoes == 0;
  return n;
}

std::size_t driver::unwarmed() const {
  std::size_t n = 0;
  for (const auto& c : conns_) n += c->st == conn::state::open && c->echoes == 0;
  return n;
}

std::uint64_t driver::total_echoes() const {
  std::uint64_t n = 0;
  for (const auto& c : conns_) n += c->echoes;
  return n;
}

std::uint64_t driver::in_flight() const {
  std::uint64_t n = 0;
  for (const auto& c : conns_) n += c->st == conn::state::open ? c->inflight : 0;
  return n;
}

std::uint64_t driver::compressed_echoes() const {
  std::uint64_t n = 0;
  for (const auto& c : conns_) n += c->rx ? c->rx->compressed_echoes : 0;
  return n;
}

std::uint64_t driver::received_wire_bytes() const {
  std::uint64_t n = 0;
  for (const auto& c : conns_) n += c->rx ? c->rx->wire_bytes : 0;
  return n;
}

void driver::close_all() {
  for (auto& c : conns_) {
    if (c->fd < 0) continue;
    const linger l{1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(c->fd);
    c->fd = -1;
    if (c->st != conn::state::dead) c->st = conn::state::dead;
  }
  open_ = 0;
}

}  // namespace deflate_load
