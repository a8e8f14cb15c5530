// loop_pool: N owned loops, each run by its own thread from construction until stop().
//
// stop() hands every loop a loop-break after the work already in its mailbox, joins the threads,
// then detaches the loops: connections still registered are closed without handlers (their pumps
// settle the table and the stats as they are destroyed) and the tasks still queued are dropped.
// The loops themselves, and their bases, live on while any connection object does (a session
// handle another thread has locked), but are never touched again.
#include "wsx/libevent/loop_pool.hpp"

#include <system_error>
#include <utility>

#include "pool_state.hpp"

namespace wsx::libevent {

loop_pool::loop_pool(unsigned threads) : state_(std::make_shared<detail::pool_state>()) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) {
    std::error_code ec;
    std::shared_ptr<detail::loop> l = detail::loop::make_owned(ec);
    if (!l) {
      stop();
      throw std::system_error(ec, "wsx::libevent::loop_pool: cannot make an event_base");
    }
    state_->loops.push_back(std::move(l));
  }
  std::lock_guard lock(state_->mutex);
  try {
    for (const auto& l : state_->loops) state_->threads.emplace_back([l] { l->run(); });
  } catch (...) {
    for (const auto& l : state_->loops) l->stop();
    for (std::thread& t : state_->threads) t.join();
    state_->threads.clear();
    for (const auto& l : state_->loops) l->detach();
    throw;
  }
}

loop_pool::~loop_pool() { stop(); }

unsigned loop_pool::size() const noexcept { return static_cast<unsigned>(state_->loops.size()); }

void loop_pool::stop() {
  std::lock_guard lock(state_->mutex);
  if (std::exchange(state_->stopped, true)) return;
  for (const auto& l : state_->loops) l->stop();
  for (std::thread& t : state_->threads) t.join();
  state_->threads.clear();
  for (const auto& l : state_->loops) l->detach();
}

}  // namespace wsx::libevent
