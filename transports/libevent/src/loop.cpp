// The loop: registry, timer heap, mailbox and wake-up of one event_base (see loop.hpp).
//
// The timer follows the heap's earliest entry without a libevent call for every change: an
// earlier deadline re-arms it at once, a later one leaves it armed for the old time, and the
// expiry finds nothing due and arms for the rest. Due connections are taken out of the heap
// before any of them runs, so an expiry that arms its connection again (even for `now`) waits for
// the next round instead of spinning.
//
// The mailbox holds tasks (owned) and connections (raw pointers: a connection takes itself off the
// list under the mutex before it closes, so every pointer in it is alive). Tasks run before
// wake-ups in each batch: a client's start task may be in the same batch as the first command
// for it.
#include "loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "connection.hpp"

namespace wsx::libevent::detail {
namespace {

timeval timeval_until(time_point at, time_point now) noexcept {
  const auto left = at > now ? std::chrono::ceil<std::chrono::microseconds>(at - now)
                             : std::chrono::microseconds::zero();
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(left.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(left.count() % 1'000'000);
  return tv;
}

}  // namespace

std::shared_ptr<loop> loop::make(event_base* base, kind k, std::error_code& ec) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    ec = std::error_code(errno, std::system_category());
    if (k == kind::owned) event_base_free(base);
    return nullptr;
  }
  std::shared_ptr<loop> l(new loop(base, k, fd, ec));
  if (ec) return nullptr;  // its destructor closes the eventfd and frees an owned base
  return l;
}

std::shared_ptr<loop> loop::attach(event_base* base, std::error_code& ec) {
  if (base == nullptr) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return nullptr;
  }
  return make(base, kind::attached, ec);
}

std::shared_ptr<loop> loop::make_owned(std::error_code& ec) {
  event_config* cfg = event_config_new();
  if (cfg == nullptr) {
    ec = std::make_error_code(std::errc::not_enough_memory);
    return nullptr;
  }
  // Only this loop's thread touches the base (other threads use the eventfd), so libevent's
  // locks would be pure cost; the changelist folds a delete and an add of one descriptor's
  // interest into one epoll_ctl (the sockets of connections are in the poller's own set).
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  event_base* base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base == nullptr) {
    ec = std::make_error_code(std::errc::not_enough_memory);
    return nullptr;
  }
  return make(base, kind::owned, ec);
}

loop::loop(event_base* base, kind k, int wake_fd, std::error_code& ec)
    : base_(base),
      kind_(k),
      wake_fd_(wake_fd),
      // An owned loop belongs to no thread until its pool thread runs it.
      thread_(k == kind::attached ? std::this_thread::get_id() : std::thread::id()),
      poller_(base, &loop::on_poll_event, this, ec) {
  event_assign(&wake_ev_, base_, wake_fd_, EV_READ | EV_PERSIST, &loop::on_wake_event, this);
  // As libevent does with its own notify event: pending, but not counted as work, so it never
  // keeps event_base_dispatch() from returning. libevent has no call for this; the flag word
  // (`ev_flags` inside libevent) is the public struct event_callback's evcb_flags, which
  // event_add() and event_del() consult to keep the base's count of events (2.1 and 2.2).
  wake_ev_.ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
  event_add(&wake_ev_, nullptr);
  wake_added_ = true;
  evtimer_assign(&timer_ev_, base_, &loop::on_timer_event, this);
}

loop::~loop() {
  detach();
  ::close(wake_fd_);
  if (kind_ == kind::owned) event_base_free(base_);
}

// ---- any thread ---------------------------------------------------------------------------------

bool loop::on_loop_thread() const noexcept {
  return thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

void loop::signal(bool first) {
  if (!first) return;
  const std::uint64_t one = 1;
  // EAGAIN only when the counter is saturated, which a pending wake-up makes harmless.
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void loop::post(task t) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (detached_) return;  // `t` is destroyed on the way out, after the unlock
    tasks_.push_back(std::move(t));
    first = !std::exchange(signalled_, true);
  }
  signal(first);
}

void loop::run_or_post(task t) {
  if (on_loop_thread()) {
    const scope in_loop(*this);
    t();
  } else {
    post(std::move(t));
  }
}

void loop::post_wake(connection& c) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (detached_ || c.wake_closed || c.wake_queued) return;
    c.wake_queued = true;
    wakes_.push_back(&c);
    first = !std::exchange(signalled_, true);
  }
  signal(first);
}

// ---- scopes and the registry --------------------------------------------------------------------

loop::scope::scope(loop& l) noexcept : l_(l) {
  if (l.depth_++ == 0 && l.thread_.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
    l.thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
}

loop::scope::~scope() {
  if (--l_.depth_ == 0) l_.end_of_scope();
}

void loop::end_of_scope() {
  // Destroying a connection runs its pump's destructor (table, stats), which never calls back
  // into the loop; swap first all the same.
  while (!finished_.empty()) {
    std::vector<std::shared_ptr<connection>> done;
    done.swap(finished_);
  }
}

void loop::schedule_scope() noexcept {
  // The wake-up event's callback is a scope; activating it is allowed on the loop's thread.
  if (!detached_) event_active(&wake_ev_, EV_READ, 1);
}

void loop::add(std::shared_ptr<connection> c) {
  c->registry_slot = static_cast<std::uint32_t>(live_.size());
  reserve_one_more(live_);
  live_.push_back(c.get());  // it owns itself from start() until close_now()
}

void loop::remove(connection& c, std::shared_ptr<connection> own) noexcept {
  if (own) {
    finished_.push_back(std::move(own));
    if (depth_ == 0) schedule_scope();
  }
  const std::uint32_t slot = c.registry_slot;
  if (slot >= live_.size() || live_[slot] != &c) return;  // never added
  if (slot + 1 != live_.size()) {
    live_[slot] = live_.back();
    live_[slot]->registry_slot = slot;
  }
  live_.pop_back();
  if (live_.empty()) std::vector<connection*>().swap(live_);
  if (depth_ == 0) schedule_scope();
}

void loop::forget_wakes(connection& c) noexcept {
  std::lock_guard lock(mutex_);
  c.wake_closed = true;
  if (!c.wake_queued) return;
  c.wake_queued = false;
  wakes_.erase(std::find(wakes_.begin(), wakes_.end(), &c));
}

std::vector<std::shared_ptr<connection>> loop::connections_of(const pump_context* ctx) const {
  std::vector<std::shared_ptr<connection>> out;
  for (connection* c : live_) {
    if (c->belongs_to(ctx)) out.push_back(c->self());
  }
  return out;
}

// ---- timers -------------------------------------------------------------------------------------

void loop::arm(connection& c, time_point at) {
  timers_.set(c, at);
  rearm_timer();
}

void loop::disarm(connection& c) noexcept {
  if (!timers_.contains(c)) return;
  timers_.erase(c);
  rearm_timer();
}

maybe_time loop::armed_for(const connection& c) const noexcept {
  if (!timers_.contains(c)) return {};
  return timers_.time_of(c);
}

void loop::rearm_timer() {
  if (detached_) return;
  const std::optional<time_point> first = timers_.earliest();
  if (!first) {
    if (timer_added_) event_del(&timer_ev_);
    timer_added_ = false;
    timer_at_.reset();
    timers_.shrink();
    return;
  }
  if (timer_added_ && *timer_at_ <= *first) return;  // fires first, then arms for the rest
  // libevent adds the delay to the time it cached at the start of this round; refresh it so the
  // timer does not fire early by however long this round has run.
  event_base_update_cache_time(base_);
  const timeval tv = timeval_until(*first, clock::now());
  event_add(&timer_ev_, &tv);
  timer_added_ = true;
  timer_at_ = *first;
}

void loop::on_timer_event(evutil_socket_t, short, void* arg) {
  auto& self = *static_cast<loop*>(arg);
  const scope in_loop(self);
  self.run_timers();
}

void loop::run_timers() {
  timer_added_ = false;
  timer_at_.reset();
  const time_point now = clock::now();
  std::vector<connection*> due;
  due.swap(due_);  // reuses the storage of the last round
  while (loop_node* n = timers_.pop_due(now)) due.push_back(static_cast<connection*>(n));
  // Each is alive: registered, or closed during this scope and kept in finished_ until it ends.
  for (connection* c : due) c->on_timer_due(now);
  due.clear();
  due_.swap(due);
  rearm_timer();
}

// ---- the sockets --------------------------------------------------------------------------------

void loop::on_poll_event(evutil_socket_t, short, void* arg) {
  auto& self = *static_cast<loop*>(arg);
  const scope in_loop(self);
  self.poller_.run(
      [](loop_node& n, std::uint8_t ready) { static_cast<connection&>(n).on_ready(ready); });
}

// ---- the mailbox --------------------------------------------------------------------------------

void loop::on_wake_event(evutil_socket_t, short, void* arg) {
  auto& self = *static_cast<loop*>(arg);
  const scope in_loop(self);
  self.run_mail();
}

void loop::run_mail() {
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
  std::vector<task> tasks;
  std::vector<connection*> wakes;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(tasks_);
    wakes.swap(wakes_);
    signalled_ = false;
    for (connection* c : wakes) c->wake_queued = false;
  }
  for (task& t : tasks) t();
  if (!wakes.empty()) {
    const time_point now = clock::now();
    for (connection* c : wakes) c->on_woken(now);  // a closed one does nothing
  }
}

// ---- owned loops and the end --------------------------------------------------------------------

void loop::run() {
  thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
}

void loop::stop() {
  post([this] { event_base_loopbreak(base_); });
}

void loop::detach() noexcept {
  std::vector<task> dropped;
  {
    std::lock_guard lock(mutex_);
    if (detached_) return;
    detached_ = true;
    dropped.swap(tasks_);
    for (connection* c : wakes_) c->wake_queued = false;
    wakes_.clear();
  }
  dropped.clear();  // may release connections that never started: they close their sockets
  {
    const scope in_loop(*this);
    std::vector<connection*> left;
    left.swap(live_);
    for (connection* c : left) c->registry_slot = UINT32_MAX;
    for (connection* c : left) c->close_now();  // each hands its own reference to finished_
  }
  if (timer_added_) event_del(&timer_ev_);
  timer_added_ = false;
  if (wake_added_) event_del(&wake_ev_);
  wake_added_ = false;
  poller_.detach();
}

}  // namespace wsx::libevent::detail
