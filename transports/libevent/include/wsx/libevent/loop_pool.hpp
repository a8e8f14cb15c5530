// wsx::libevent::loop_pool: N event_bases on N threads, run by wsx — the other way to run the
// libevent transport besides attaching a server or client to the application's own event_base.
//
//   wsx::libevent::loop_pool pool(4);              // four threads, one event_base each
//   wsx::libevent::server srv(pool, std::move(opts));
//   srv.start();                                  // accepted sockets are spread over the four
//   ...
//   srv.stop(std::chrono::seconds(5), [] { /* every connection is gone */ });
//
// The threads run from construction until stop() or destruction, whether or not anything is on
// their loops; every member of a server or client made on a pool may be called from any thread.
// Destroy the servers and clients before their pool.
#pragma once

#include <memory>
#include <system_error>

namespace wsx::libevent {

namespace detail {
struct pool_state;
struct pool_access;
}  // namespace detail

class loop_pool {
 public:
  // Makes `threads` (at least one) event_bases and starts a thread running each. Throws
  // std::system_error when a base, its wake-up descriptor or a thread cannot be made.
  explicit loop_pool(unsigned threads = 1);
  // stop(), then the loops are freed.
  ~loop_pool();
  loop_pool(const loop_pool&) = delete;
  loop_pool& operator=(const loop_pool&) = delete;

  unsigned size() const noexcept;
  // From any thread but the pool's own: each loop finishes the work already handed to it and its
  // thread is joined; connections still open are dropped without their on_close handlers (their
  // table entries and stats are still settled). Later calls do nothing.
  void stop();

 private:
  friend struct detail::pool_access;
  std::shared_ptr<detail::pool_state> state_;
};

}  // namespace wsx::libevent
