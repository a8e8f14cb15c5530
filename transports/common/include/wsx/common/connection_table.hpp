// The connection table: user id → the live sessions of that user (one per device), shared by
// every transport. Thread-safe: any member may be called from any thread, including from inside
// a session's own send/close path (the table never holds one of its locks while it calls into a
// session or into a callback).
//
// Ownership: the table holds strong references (session_ptr). A session stays alive while it is
// in the table, so the transport erases it on every close path (peer close, error, timeout,
// shutdown) from the session's close handling — not from its destructor, which cannot run
// while the table still holds it.
//
// Sessions whose upgrade named no user (empty user_id()) are tracked too, under the user id "":
// broadcast and take_all must reach them. user_count() counts "" as one user when any such
// session is present.
//
// A membership hook (set_membership_hook) hears when a user gains a first session or loses the
// last one; wsx::cluster uses it to follow the table across nodes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wsx/common/session.hpp"
#include "wsx/types.hpp"

namespace wsx {

class connection_table {
 public:
  // Shards: independent locks, chosen by a hash of the user id. A power of two.
  static constexpr std::size_t shard_count = 16;

  connection_table() = default;
  connection_table(const connection_table&) = delete;
  connection_table& operator=(const connection_table&) = delete;

  // Adds `s` under s->user_id(). Returns true when added; false when `s` is null or this very
  // session (same id()) is already in the table — then nothing changes, so a repeated insert is
  // harmless. Call it once the upgrade has succeeded.
  bool insert(session_ptr s);

  // Removes the session with s.user_id() and s.id(). Returns true when it was there, false
  // otherwise (already erased, never inserted): calling it on every close path is safe.
  // The table drops its reference; if it was the last, the session is destroyed before this
  // returns, on the calling thread.
  bool erase(const session& s);

  // A snapshot of the sessions of `user` (empty when none). The sessions may end at any time
  // after this returns; their commands then return errc::closed.
  std::vector<session_ptr> sessions_of(std::string_view user) const;

  // Encodes `payload` once (shared_message::make) and queues it with send_shared() on every
  // session of `user`. Returns how many sessions accepted it (send_shared returned no error);
  // 0 when the user has none. Text must be valid UTF-8: checking it is the caller's job.
  std::size_t send_to_user(std::string_view user, message_kind kind, bytes_view payload);

  // Like send_to_user for every session in the table, except `except` (e.g. the sender) when
  // given. Returns how many sessions accepted the message. Sessions inserted while a broadcast
  // runs may or may not receive it; each session receives it at most once.
  std::size_t broadcast(message_kind kind, bytes_view payload, const session* except = nullptr);

  // Sessions and distinct user ids in the table. Exact once concurrent calls have returned;
  // while inserts and erases run, a value that was true at some instant during the call.
  std::size_t session_count() const noexcept;
  std::size_t user_count() const noexcept;

  // Calls `fn` on every session, with no lock held: `fn` may call any member of this table
  // (erase, send_to_user…) and any member of the session. Each shard is copied out and then
  // walked, so a session inserted or erased while for_each runs may or may not be seen; every
  // session present throughout is seen exactly once.
  void for_each(const std::function<void(const session_ptr&)>& fn) const;

  // Removes every session and returns them (server shutdown: close each with 1001, then wait).
  // Sessions inserted after the call returns are not included.
  std::vector<session_ptr> take_all();

  // The membership hook: called with a user id right after that user's first session was
  // inserted or its last one erased (by erase() or take_all()), on the thread that made the
  // change, with no lock of the table held. Calls for one user made on different threads may
  // run in any order, so the hook treats them as "this user's presence may have changed" and
  // reads the table (sessions_of) for the answer: the read made by the last call sees the
  // final state. It runs for the user id "" too. Setting an empty function removes the hook;
  // a call already under way on another thread may still run the old one, so whatever the
  // old hook captured must outlive it (hold it by shared_ptr). Any thread may call this.
  using membership_hook = std::function<void(std::string_view user)>;
  void set_membership_hook(membership_hook hook);

 private:
  // Heterogeneous lookup: find(std::string_view) without building a std::string.
  struct user_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  // Most users have one or a few devices: a plain vector, erased by swap-with-last.
  using session_list = std::vector<session_ptr>;
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, session_list, user_hash, std::equal_to<>> users;
  };

  shard& shard_of(std::string_view user) noexcept;
  const shard& shard_of(std::string_view user) const noexcept;
  void notify_membership(std::string_view user) const;
  // Copies the sessions of shard `i` into `out` (appending) under its lock.
  void copy_shard(std::size_t i, std::vector<session_ptr>& out) const;

  std::array<shard, shard_count> shards_;
  // Updated under the lock of the shard that changed, read lock-free.
  std::atomic<std::size_t> sessions_{0};
  std::atomic<std::size_t> users_{0};
  // The hook, replaced whole; copied out under its mutex and called without it.
  mutable std::mutex hook_mutex_;
  std::shared_ptr<const membership_hook> hook_;
  std::atomic<bool> has_hook_{false};
};

}  // namespace wsx
