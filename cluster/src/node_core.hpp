// The transport-independent body of a cluster node: the engine, the room table, the mailbox
// through which other threads reach the loop, the presence snapshot they read, and the
// counters. A transport adapter owns one, gives it a driver (its wake-up), feeds the engine's
// links and calls drain()/after_io() on its loop.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine.hpp"
#include "room_table.hpp"
#include "wsx/cluster/options.hpp"
#include "wsx/common/connection_table.hpp"

namespace wsx::cluster::detail {

// The adapter's side: wake() is called from any thread (with the mailbox's mutex held, so the
// adapter cannot go away meanwhile) and must make the loop call node_core::drain() soon.
class node_driver {
 public:
  virtual void wake() = 0;

 protected:
  ~node_driver() = default;
};

// Work for the loop, queued by any thread. Held by shared_ptr: the table's membership hook
// keeps it, and it outlives the node (pushes after close() are dropped).
class mailbox {
 public:
  struct item {
    enum class kind : std::uint8_t { user, room, publish, stop };
    kind type = kind::user;
    target to = target::user;
    std::string name;
    message_kind message = message_kind::text;
    std::string payload;
  };

  // errc::backlog_full past `limit` payload bytes waiting, errc::stopped after close().
  std::error_code push(item it, std::size_t limit);
  std::vector<item> take();
  void attach(node_driver* d);
  void close();

 private:
  std::mutex mutex_;
  std::vector<item> items_;
  std::size_t bytes_ = 0;
  node_driver* driver_ = nullptr;
  bool closed_ = false;
};

enum class run_state : std::uint8_t { created, running, stopping, stopped };

class node_core final : public engine_host {
 public:
  node_core(std::shared_ptr<connection_table> table, options opt, std::uint64_t seed);
  ~node_core();

  // The adapter, once it exists / before it goes away.
  void attach(node_driver* d) { mailbox_->attach(d); }
  void detach() { mailbox_->attach(nullptr); }

  // Loop thread. start(): hooks the table (users already in it count), starts the links.
  void start(time_point now);
  // Applies the mailbox, then after_io().
  void drain(time_point now);
  // After the adapter fed the engine or its timer fired: handles the links' events, publishes
  // the Redis state and presence, and moves a stop along. Returns the run state.
  run_state after_io(time_point now);
  std::optional<time_point> next_deadline() const;
  engine& eng() noexcept { return engine_; }
  run_state state() const noexcept { return state_; }

  // Any thread: begin a clean stop (presence removed at once, links closed once flushed).
  void request_stop();

  // The public API (node.hpp), any thread.
  std::size_t deliver_local(target t, std::string_view name, message_kind kind, bytes_view payload,
                            const session* except);
  std::error_code publish(target t, std::string_view name, message_kind kind, bytes_view payload);
  std::error_code join(std::string_view room, std::string_view user);
  std::error_code leave(std::string_view room, std::string_view user);
  std::vector<std::string> online_users() const;
  bool is_online(std::string_view user) const;
  bool redis_up() const noexcept { return redis_up_.load(std::memory_order_acquire); }
  stats snapshot() const;
  const std::string& name() const noexcept { return opt_.node; }
  const options& opts() const noexcept { return opt_; }

  // engine_host (loop thread, from inside engine calls)
  bool has_local_user(std::string_view user) const override;
  bool has_local_room(std::string_view room) const override;
  void deliver(target t, std::string_view name, message_kind kind,
               std::string_view payload) override;
  void presence_changed() override { presence_dirty_ = true; }
  std::int64_t wall_ms() const override;

 private:
  void user_changed(const std::string& user);
  void room_changed(const std::string& room);
  void publish_state();

  std::shared_ptr<connection_table> table_;
  options opt_;
  std::shared_ptr<mailbox> mailbox_;
  room_table rooms_;
  engine engine_;
  run_state state_ = run_state::created;
  time_point stop_deadline_{};
  bool presence_dirty_ = false;
  bool last_up_ = false;

  std::atomic<bool> redis_up_{false};
  std::atomic<bool> accepting_{true};  // false from request_stop() on
  mutable std::mutex snapshot_mutex_;  // online_, the engine's counters copy
  std::vector<std::string> online_;
  stats engine_stats_;
  std::atomic<std::uint64_t> remote_failed_{0};
  std::atomic<std::uint64_t> unavailable_{0};
  std::atomic<std::uint64_t> backlog_full_{0};
  std::atomic<std::uint64_t> delivered_{0};
};

// A user or room id the cluster takes: 1-256 bytes.
bool valid_name(std::string_view name) noexcept;

}  // namespace wsx::cluster::detail
