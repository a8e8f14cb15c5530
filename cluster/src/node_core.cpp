// The node's body. Other threads touch only thread-safe parts: the connection table, the room
// table, the mailbox, and the snapshots (online users, counters, the Redis state) that the loop
// publishes after each round of work. A send delivers to local sessions on the caller's thread
// (one encoding for all of them) and queues its remote copy in the mailbox; the loop turns it
// into a PUBLISH. The membership hook of the table only queues the user id: the loop asks the
// table again when it gets there, so a burst of opens and closes settles on the final state.
#include "node_core.hpp"

#include <algorithm>

#include "envelope.hpp"
#include "wsx/cluster/errors.hpp"
#include "wsx/shared_message.hpp"

namespace wsx::cluster::detail {
namespace {

constexpr std::chrono::seconds stop_flush_grace{1};

engine_config engine_config_of(const options& o) {
  engine_config c;
  c.node = o.node;
  c.prefix = o.prefix;
  c.node_timeout = o.node_timeout;
  c.link.probe_interval = o.probe_interval;
  c.link.connect_timeout = o.probe_interval;
  c.link.backoff_initial = o.backoff_initial;
  c.link.backoff_max = o.backoff_max;
  c.link.max_reply_bytes = o.max_reply_bytes;
  c.link.max_backlog_bytes = o.max_backlog_bytes;
  return c;
}

std::size_t send_each(const std::vector<session_ptr>& sessions, const shared_message& msg,
                      const session* except) {
  std::size_t n = 0;
  for (const session_ptr& s : sessions) {
    if (s.get() != except && !s->send_shared(msg)) ++n;
  }
  return n;
}

mailbox::item notice(mailbox::item::kind k, std::string_view name) {
  mailbox::item it;
  it.type = k;
  it.name = std::string(name);
  return it;
}

}  // namespace

bool valid_name(std::string_view name) noexcept { return !name.empty() && name.size() <= 256; }

std::error_code mailbox::push(item it, std::size_t limit) {
  std::lock_guard lock(mutex_);
  if (closed_) return errc::stopped;
  const std::size_t size = it.payload.size() + it.name.size();
  if (it.type == item::kind::publish && bytes_ + size > limit) return errc::backlog_full;
  bytes_ += size;
  const bool was_empty = items_.empty();
  items_.push_back(std::move(it));
  if (was_empty && driver_ != nullptr) driver_->wake();
  return {};
}

std::vector<mailbox::item> mailbox::take() {
  std::lock_guard lock(mutex_);
  bytes_ = 0;
  return std::exchange(items_, {});
}

void mailbox::attach(node_driver* d) {
  std::lock_guard lock(mutex_);
  driver_ = d;
  if (d != nullptr && !items_.empty()) d->wake();
}

void mailbox::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  driver_ = nullptr;
  items_.clear();
}

node_core::node_core(std::shared_ptr<connection_table> table, options opt, std::uint64_t seed)
    : table_(std::move(table)),
      opt_(std::move(opt)),
      mailbox_(std::make_shared<mailbox>()),
      engine_(engine_config_of(opt_), *this, seed) {}

node_core::~node_core() {
  if (state_ != run_state::created) table_->set_membership_hook({});
  mailbox_->close();
}

void node_core::start(time_point now) {
  if (state_ != run_state::created) return;
  state_ = run_state::running;
  table_->set_membership_hook([mb = mailbox_](std::string_view user) {
    if (!user.empty()) (void)mb->push(notice(mailbox::item::kind::user, user), 0);
  });
  std::vector<std::string> users;
  table_->for_each([&users](const session_ptr& s) { users.push_back(s->user_id()); });
  for (const std::string& u : users) user_changed(u);
  engine_.start(now);
  after_io(now);
}

void node_core::request_stop() {
  accepting_.store(false, std::memory_order_release);
  (void)mailbox_->push(notice(mailbox::item::kind::stop, {}), 0);
}

void node_core::user_changed(const std::string& user) {
  if (user.empty()) return;
  if (table_->sessions_of(user).empty()) {
    for (const std::string& room : rooms_.drop_user(user)) engine_.room_changed(room);
  }
  engine_.user_changed(user);
}

void node_core::room_changed(const std::string& room) {
  // A member whose last session ended before it joined would stay for ever: drop such ones.
  for (const std::string& u : rooms_.members(room)) {
    if (table_->sessions_of(u).empty()) rooms_.leave(room, u);
  }
  engine_.room_changed(room);
}

void node_core::drain(time_point now) {
  for (mailbox::item& it : mailbox_->take()) {
    switch (it.type) {
      case mailbox::item::kind::user:
        if (state_ == run_state::running) user_changed(it.name);
        break;
      case mailbox::item::kind::room:
        if (state_ == run_state::running) room_changed(it.name);
        break;
      case mailbox::item::kind::publish:
        if (const std::error_code ec = engine_.publish(it.to, it.name, it.message, it.payload)) {
          remote_failed_.fetch_add(1, std::memory_order_relaxed);
          if (ec == errc::redis_unavailable) unavailable_.fetch_add(1, std::memory_order_relaxed);
          if (ec == errc::backlog_full) backlog_full_.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      case mailbox::item::kind::stop:
        if (state_ == run_state::running || state_ == run_state::created) {
          if (state_ == run_state::running) table_->set_membership_hook({});
          engine_.begin_stop();
          state_ = run_state::stopping;
          stop_deadline_ = now + stop_flush_grace;
        }
        break;
    }
  }
  after_io(now);
}

run_state node_core::after_io(time_point now) {
  engine_.pump(now);
  if (state_ == run_state::stopping &&
      (engine_.link(engine::commands).pending_output().empty() || now >= stop_deadline_)) {
    engine_.finish_stop();
    state_ = run_state::stopped;
    mailbox_->close();
  }
  publish_state();
  return state_;
}

std::optional<time_point> node_core::next_deadline() const {
  if (state_ == run_state::stopped) return std::nullopt;
  std::optional<time_point> d = engine_.next_deadline();
  if (state_ == run_state::stopping && (!d || stop_deadline_ < *d)) d = stop_deadline_;
  return d;
}

void node_core::publish_state() {
  const bool up = engine_.redis_up() && state_ == run_state::running;
  redis_up_.store(up, std::memory_order_release);
  {
    std::lock_guard lock(snapshot_mutex_);
    const engine_counters& c = engine_.counters();
    stats& s = engine_stats_;
    s.subscriptions = engine_.confirmed_channels().size();
    s.remote_nodes = engine_.presence_state().remote_nodes();
    s.published = c.published;
    s.received = c.received;
    s.bad_messages = c.bad_messages;
    s.redis_errors = c.redis_errors;
    const redis_link& sub = engine_.link(engine::subscriber);
    const redis_link& cmd = engine_.link(engine::commands);
    s.reconnects = sub.disconnects() + cmd.disconnects();
    s.probe_timeouts = sub.probe_timeouts() + cmd.probe_timeouts();
    s.replies_too_large = sub.replies_too_large() + cmd.replies_too_large();
    if (presence_dirty_) online_ = engine_.presence_state().online();
  }
  if (up != last_up_) {
    last_up_ = up;
    if (opt_.on_redis_state) {
      opt_.on_redis_state(up, up ? std::error_code{} : engine_.last_link_error());
    }
  }
  if (presence_dirty_) {
    presence_dirty_ = false;
    if (opt_.on_presence) opt_.on_presence();
  }
}

std::size_t node_core::deliver_local(target t, std::string_view name, message_kind kind,
                                     bytes_view payload, const session* except) {
  if (t == target::all) return table_->broadcast(kind, payload, except);
  std::vector<session_ptr> sessions;
  if (t == target::user) {
    sessions = table_->sessions_of(name);
  } else {
    for (const std::string& u : rooms_.members(name)) {
      std::vector<session_ptr> more = table_->sessions_of(u);
      sessions.insert(sessions.end(), more.begin(), more.end());
    }
  }
  if (sessions.empty() || (sessions.size() == 1 && sessions[0].get() == except)) return 0;
  return send_each(sessions, shared_message::make(kind, payload), except);
}

std::error_code node_core::publish(target t, std::string_view name, message_kind kind,
                                   bytes_view payload) {
  std::error_code ec;
  if (!accepting_.load(std::memory_order_acquire)) {
    ec = errc::stopped;
  } else if (!redis_up()) {
    ec = errc::redis_unavailable;
    unavailable_.fetch_add(1, std::memory_order_relaxed);
  } else if (payload.size() + envelope_overhead(opt_.node.size()) + name.size() + 64 >
             opt_.max_reply_bytes) {
    ec = errc::message_too_large;
  } else {
    mailbox::item it = notice(mailbox::item::kind::publish, name);
    it.to = t;
    it.message = kind;
    it.payload = std::string(as_string(payload));
    ec = mailbox_->push(std::move(it), opt_.max_backlog_bytes);
    if (ec == errc::backlog_full) backlog_full_.fetch_add(1, std::memory_order_relaxed);
  }
  if (ec) remote_failed_.fetch_add(1, std::memory_order_relaxed);
  return ec;
}

std::error_code node_core::join(std::string_view room, std::string_view user) {
  if (!valid_name(room) || !valid_name(user)) return errc::bad_name;
  if (rooms_.join(room, user)) {
    return mailbox_->push(notice(mailbox::item::kind::room, room), 0);
  }
  return {};
}

std::error_code node_core::leave(std::string_view room, std::string_view user) {
  if (!valid_name(room) || !valid_name(user)) return errc::bad_name;
  if (rooms_.leave(room, user)) {
    return mailbox_->push(notice(mailbox::item::kind::room, room), 0);
  }
  return {};
}

std::vector<std::string> node_core::online_users() const {
  std::lock_guard lock(snapshot_mutex_);
  return online_;
}

bool node_core::is_online(std::string_view user) const {
  std::lock_guard lock(snapshot_mutex_);
  return std::binary_search(online_.begin(), online_.end(), user);
}

stats node_core::snapshot() const {
  stats s;
  {
    std::lock_guard lock(snapshot_mutex_);
    s = engine_stats_;
  }
  s.redis_up = redis_up();
  s.remote_failed = remote_failed_.load(std::memory_order_relaxed);
  s.redis_unavailable = unavailable_.load(std::memory_order_relaxed);
  s.backlog_full = backlog_full_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  return s;
}

bool node_core::has_local_user(std::string_view user) const {
  return !table_->sessions_of(user).empty();
}

bool node_core::has_local_room(std::string_view room) const { return rooms_.has_room(room); }

void node_core::deliver(target t, std::string_view name, message_kind kind,
                        std::string_view payload) {
  const std::size_t n = deliver_local(t, name, kind, as_bytes(payload), nullptr);
  delivered_.fetch_add(n, std::memory_order_relaxed);
}

std::int64_t node_core::wall_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace wsx::cluster::detail
