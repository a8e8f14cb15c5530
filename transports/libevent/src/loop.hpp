// One libevent event_base as wsx uses it: the connections registered on it, one timer for all of
// their deadlines, and one wake-up for everything other threads hand it. Internal to
// transports/libevent.
//
// A loop is either *attached* to the application's event_base (a server or client made on it;
// one loop per such object) or *owned* (a loop_pool thread's base, shared by every server and
// client on the pool). Either way wsx adds to the base only:
//   - one event for the sockets of all its connections (poller.hpp: an epoll set of the loop's
//     own), pending while one of them is watched;
//   - the listener of a server;
//   - one timer (the earliest deadline of the loop's connections, from a timer_heap), pending only
//     while some connection has a deadline;
//   - one wake-up event on an eventfd, marked EVLIST_INTERNAL as libevent marks its own notify
//     event: it never keeps event_base_dispatch() from returning.
// So an application's loop returns once its own events and wsx's connections are gone.
//
// Other threads reach the loop through its mailbox (post() for a task, post_wake() for a
// connection whose pump has mail): a vector under a mutex and one eventfd write per batch (the
// first item after the loop emptied the mailbox writes it; later ones see it pending). On the
// loop, every entry point from libevent runs inside a `scope`; connections that close during it
// are kept until the outermost scope ends, so no callback frees the object it runs in.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "poller.hpp"
#include "pump.hpp"
#include "task.hpp"
#include "timer_heap.hpp"

namespace wsx::libevent::detail {

class connection;

// What the loop keeps in each of its connections: the connection's place in the timer heap and
// in the registry, what the poller watches its socket for, and its mailbox flags (guarded by the
// loop's mutex).
struct loop_node {
  std::uint32_t heap_index = heap_npos;
  std::uint32_t registry_slot = 0;
  std::uint8_t polled = 0;   // poller::read | poller::write
  bool poked = false;        // queued for a read callback (poller::poke)
  bool wake_queued = false;  // in the loop's wake list
  bool wake_closed = false;  // closing: post_wake() queues nothing more
};

class loop {
 public:
  enum class kind : std::uint8_t { attached, owned };

  // A loop on the application's `base`, which stays the application's. Made on the thread that
  // runs (or will run) `base`.
  static std::shared_ptr<loop> attach(event_base* base, std::error_code& ec);
  // A loop on a base of its own (freed with the loop), for a loop_pool thread.
  static std::shared_ptr<loop> make_owned(std::error_code& ec);
  ~loop();
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  event_base* base() const noexcept { return base_; }
  kind what() const noexcept { return kind_; }

  // ---- any thread ---------------------------------------------------------------------------
  // Runs `t` on the loop, after the tasks posted before it. Dropped once the loop is detached.
  void post(task t);
  // Runs `t` now when called on the loop's thread, else post()s it.
  void run_or_post(task t);
  // Makes the loop call c.on_woken() soon (the pump has mail). Nothing once `c` is closing.
  void post_wake(connection& c);
  // True on the thread that runs the loop: the one that last ran one of its callbacks (attached:
  // initially the one that made the loop; owned: the pool thread).
  bool on_loop_thread() const noexcept;

  // ---- on the loop's thread -----------------------------------------------------------------
  // Every entry point from libevent, and every synchronous call from the application that may
  // close connections, runs in one.
  class scope {
   public:
    explicit scope(loop& l) noexcept;
    ~scope();
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    loop& l_;
  };

  // The registry: the loop holds each connection from add() until remove(), which close_now()
  // calls; the connection is then kept until the outermost scope ends, with `own`, the reference
  // it held to itself.
  void add(std::shared_ptr<connection> c);
  void remove(connection& c, std::shared_ptr<connection> own) noexcept;
  // c is closing: take it off the wake list, and post_wake() ignores it from now on.
  void forget_wakes(connection& c) noexcept;
  // The registered connections of one server or client (a snapshot: the caller may close them).
  std::vector<std::shared_ptr<connection>> connections_of(const pump_context* ctx) const;
  std::size_t connection_count() const noexcept { return live_.size(); }

  // The timer heap: arm `c` for `at` (insert or move), disarm it; when it is due, the loop calls
  // c.on_timer_due(now).
  void arm(connection& c, time_point at);
  void disarm(connection& c) noexcept;
  // The time `c` is armed for, or none.
  maybe_time armed_for(const connection& c) const noexcept;

  // The sockets: what each connection's is watched for (see poller.hpp); when it is ready, the
  // loop calls c.on_ready(bits).
  poller& sockets() noexcept { return poller_; }

  // Owned loops: dispatch until stop() (from any thread) has run.
  void run();
  void stop();
  // Takes wsx's events off the base, drops the tasks still queued and closes every connection
  // still registered (without handlers: their pumps count the close). Afterwards the loop
  // touches the base no more. On the loop's thread, or with the loop not running.
  void detach() noexcept;

 private:
  loop(event_base* base, kind k, int wake_fd, std::error_code& ec);
  static std::shared_ptr<loop> make(event_base* base, kind k, std::error_code& ec);

  static void on_wake_event(evutil_socket_t fd, short what, void* arg);
  static void on_poll_event(evutil_socket_t fd, short what, void* arg);
  static void on_timer_event(evutil_socket_t fd, short what, void* arg);
  void run_mail();
  void run_timers();
  void rearm_timer();
  void end_of_scope();
  void signal(bool first);
  // A connection was released outside any scope (the application called in from its own
  // callback): run a scope soon to free it.
  void schedule_scope() noexcept;

  event_base* base_;
  kind kind_;
  bool detached_ = false;
  bool timer_added_ = false;
  bool wake_added_ = false;
  int depth_ = 0;  // scopes on the stack
  int wake_fd_;
  std::atomic<std::thread::id> thread_;
  ::event wake_ev_;
  ::event timer_ev_;
  maybe_time timer_at_;  // what timer_ev_ is armed for
  poller poller_;

  std::vector<connection*> live_;  // at each one's registry_slot (each owns itself)
  std::vector<std::shared_ptr<connection>> finished_;  // closed during the current scope
  timer_heap<loop_node, &loop_node::heap_index> timers_;
  std::vector<connection*> due_;  // run_timers()' scratch list

  std::mutex mutex_;  // guards what follows, and the loop_node mailbox flags
  std::vector<task> tasks_;
  std::vector<connection*> wakes_;
  bool signalled_ = false;  // the eventfd was written since the loop last emptied the mailbox
};

}  // namespace wsx::libevent::detail
