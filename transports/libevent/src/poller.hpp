// The sockets of one loop's connections, watched together: one epoll instance of the loop's own,
// itself watched by one libevent event. Internal to transports/libevent.
//
// libevent wants a `struct event` (128 bytes) for every descriptor it watches, plus its own map
// entry for the descriptor (about 40 bytes more); for idle connections that is a quarter of
// their memory. The poller keeps each socket's interest (read, write, both or none) in the epoll
// set instead, with the connection as the entry's pointer, so a connection carries two bytes of
// state (loop_node::polled, poked) and the kernel's epoll entry. The poller's one event is added
// to the base while some socket has an interest (the connections keep an application's
// event_base_dispatch running, as their own events did) and deleted when none has; its callback
// takes the ready sockets with one epoll_wait and hands each its readiness. Interest is
// level-triggered, as libevent's: a socket read only in part is reported again at the next round.
//
// Write interest is one-shot (libevent's EV_WRITE without EV_PERSIST): it is dropped when it is
// reported. A poke asks for a read callback without the socket being readable (TLS records already
// decrypted wait inside OpenSSL): the connection is queued and the poller's event made active.
//
// Loop thread only. A connection forgets its socket (forget()) before it closes it.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <cstdint>
#include <system_error>
#include <vector>

namespace wsx::libevent::detail {

struct loop_node;

class poller {
 public:
  enum : std::uint8_t { none = 0, read = 1, write = 2 };
  // What a socket reported: the interest bits that are ready (an error or a hang-up reports both,
  // as libevent does, so that the next read or write finds out what happened).
  using ready_fn = void (*)(loop_node& n, std::uint8_t ready);

  // On `base`, whose event calls `cb(…, arg)`: the loop, which opens its scope around run().
  // Sets `ec` when epoll cannot be had (the poller is then unusable).
  poller(event_base* base, event_callback_fn cb, void* arg, std::error_code& ec);
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // Sets the interest of `fd` (owned by `n`) to `bits`: read, write, both or none.
  void watch(loop_node& n, int fd, std::uint8_t bits);
  // Adds the write bit (one-shot: dropped when reported) to what `fd` is watched for.
  void watch_write(loop_node& n, int fd) { watch(n, fd, n_bits(n) | write); }
  // Runs `ready(n, read)` soon, from the loop, whether or not the socket is readable.
  void poke(loop_node& n);
  // `fd` is about to close (or to be replaced by another socket): no interest, no poke.
  void forget(loop_node& n, int fd) noexcept;
  // Takes the event off the base (the loop is detaching); nothing is watched afterwards.
  void detach() noexcept;

  // The event's callback, inside the loop's scope (so that every connection it reaches stays
  // alive until it returns): the pokes first, then the sockets one epoll_wait finds ready.
  void run(ready_fn ready);

 private:
  static std::uint8_t n_bits(const loop_node& n) noexcept;
  void set_added(bool on);

  int epoll_fd_ = -1;
  ::event ev_{};
  bool added_ = false;
  bool detached_ = false;
  std::uint32_t watched_ = 0;      // sockets with an interest
  std::vector<loop_node*> pokes_;  // queued for a read callback
};

}  // namespace wsx::libevent::detail
