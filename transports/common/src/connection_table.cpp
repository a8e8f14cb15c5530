// Connection table: 16 shards, each a mutex and a map user id → sessions, the shard picked by a
// mixed hash of the user id. Every operation on one user touches one shard; whole-table
// operations (broadcast, for_each, take_all) visit the shards one at a time, so no two shard
// locks are ever held together and no lock order exists to get wrong.
//
// No lock is held while calling into a session or a callback: session_ptrs are copied out under
// the lock, the lock is released, then the sessions are used. A session may therefore erase
// itself (or broadcast) from inside send_shared() without deadlock. The two counters change
// only under the lock of the shard whose contents changed, so they are exact whenever no
// insert/erase is in flight.
//
// The membership hook runs after a user's first insert and last erase, once the shard's lock
// is released (an atomic flag spares the hook's mutex when none is set).
#include "wsx/common/connection_table.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <utility>

#include "wsx/shared_message.hpp"

namespace wsx {
namespace {

// Shard index from the top bits of a multiplicative mix, so that the shard choice and the
// unordered_map's bucket choice (hash modulo a prime) use unrelated parts of the hash.
std::size_t shard_index(std::string_view user) noexcept {
  const std::uint64_t h = std::hash<std::string_view>{}(user);
  const std::uint64_t mixed = h * 0x9E3779B97F4A7C15ULL;
  static_assert(connection_table::shard_count == 16, "shard_index takes the top 4 bits");
  return static_cast<std::size_t>(mixed >> 60);
}

std::size_t send_all(const std::vector<session_ptr>& sessions, const shared_message& msg,
                     const session* except) {
  std::size_t accepted = 0;
  for (const auto& s : sessions) {
    if (s.get() == except) continue;
    if (!s->send_shared(msg)) ++accepted;
  }
  return accepted;
}

}  // namespace

connection_table::shard& connection_table::shard_of(std::string_view user) noexcept {
  return shards_[shard_index(user)];
}

const connection_table::shard& connection_table::shard_of(std::string_view user) const noexcept {
  return shards_[shard_index(user)];
}

void connection_table::copy_shard(std::size_t i, std::vector<session_ptr>& out) const {
  const shard& sh = shards_[i];
  std::lock_guard lock(sh.mutex);
  for (const auto& [user, list] : sh.users) out.insert(out.end(), list.begin(), list.end());
}

bool connection_table::insert(session_ptr s) {
  if (!s) return false;
  const session_ptr keep = s;  // its user id outlives the lock, for the hook
  const std::string& user = keep->user_id();
  bool first = false;
  {
    shard& sh = shard_of(user);
    std::lock_guard lock(sh.mutex);
    auto it = sh.users.find(std::string_view{user});
    if (it == sh.users.end()) {
      it = sh.users.emplace(user, session_list{}).first;
      users_.fetch_add(1, std::memory_order_relaxed);
      first = true;
    } else {
      const std::uint64_t id = s->id();
      const bool present = std::any_of(it->second.begin(), it->second.end(),
                                       [id](const session_ptr& p) { return p->id() == id; });
      if (present) return false;
    }
    it->second.push_back(std::move(s));
    sessions_.fetch_add(1, std::memory_order_relaxed);
  }
  if (first) notify_membership(user);
  return true;
}

void connection_table::set_membership_hook(membership_hook hook) {
  std::shared_ptr<const membership_hook> next;
  if (hook) next = std::make_shared<const membership_hook>(std::move(hook));
  std::lock_guard lock(hook_mutex_);
  has_hook_.store(next != nullptr, std::memory_order_release);
  hook_ = std::move(next);
}

void connection_table::notify_membership(std::string_view user) const {
  if (!has_hook_.load(std::memory_order_acquire)) return;
  std::shared_ptr<const membership_hook> hook;
  {
    std::lock_guard lock(hook_mutex_);
    hook = hook_;
  }
  if (hook) (*hook)(user);
}

bool connection_table::erase(const session& s) {
  session_ptr removed;  // released after the lock: a session's destructor never runs under it
  bool last = false;
  {
    shard& sh = shard_of(s.user_id());
    std::lock_guard lock(sh.mutex);
    auto it = sh.users.find(std::string_view{s.user_id()});
    if (it == sh.users.end()) return false;
    session_list& list = it->second;
    const std::uint64_t id = s.id();
    auto pos = std::find_if(list.begin(), list.end(),
                            [id](const session_ptr& p) { return p->id() == id; });
    if (pos == list.end()) return false;
    removed = std::move(*pos);
    if (pos != list.end() - 1) *pos = std::move(list.back());
    list.pop_back();
    sessions_.fetch_sub(1, std::memory_order_relaxed);
    if (list.empty()) {
      sh.users.erase(it);
      users_.fetch_sub(1, std::memory_order_relaxed);
      last = true;
    }
  }
  if (last) notify_membership(removed->user_id());
  return true;
}

std::vector<session_ptr> connection_table::sessions_of(std::string_view user) const {
  const shard& sh = shard_of(user);
  std::lock_guard lock(sh.mutex);
  auto it = sh.users.find(user);
  if (it == sh.users.end()) return {};
  return it->second;
}

std::size_t connection_table::send_to_user(std::string_view user, message_kind kind,
                                           bytes_view payload) {
  const std::vector<session_ptr> targets = sessions_of(user);
  if (targets.empty()) return 0;
  const shared_message msg = shared_message::make(kind, payload);
  return send_all(targets, msg, nullptr);
}

std::size_t connection_table::broadcast(message_kind kind, bytes_view payload,
                                        const session* except) {
  // One shard at a time keeps the copied-out snapshot small; the frame is encoded on the first
  // non-empty shard and reused for every other one.
  std::optional<shared_message> msg;
  std::vector<session_ptr> batch;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < shard_count; ++i) {
    copy_shard(i, batch);
    if (batch.empty()) continue;
    if (!msg) msg = shared_message::make(kind, payload);
    accepted += send_all(batch, *msg, except);
    batch.clear();
  }
  return accepted;
}

std::size_t connection_table::session_count() const noexcept {
  return sessions_.load(std::memory_order_relaxed);
}

std::size_t connection_table::user_count() const noexcept {
  return users_.load(std::memory_order_relaxed);
}

void connection_table::for_each(const std::function<void(const session_ptr&)>& fn) const {
  std::vector<session_ptr> batch;
  for (std::size_t i = 0; i < shard_count; ++i) {
    copy_shard(i, batch);
    for (const auto& s : batch) fn(s);
    batch.clear();
  }
}

std::vector<session_ptr> connection_table::take_all() {
  std::vector<session_ptr> all;
  for (shard& sh : shards_) {
    std::unordered_map<std::string, session_list, user_hash, std::equal_to<>> taken;
    {
      std::lock_guard lock(sh.mutex);
      std::size_t n = 0;
      for (const auto& [user, list] : sh.users) n += list.size();
      sessions_.fetch_sub(n, std::memory_order_relaxed);
      users_.fetch_sub(sh.users.size(), std::memory_order_relaxed);
      taken.swap(sh.users);
    }
    for (auto& [user, list] : taken) {
      std::move(list.begin(), list.end(), std::back_inserter(all));
      notify_membership(user);
    }
  }
  return all;
}

}  // namespace wsx
