// The chat room.
//
// Everything a client sends is handled on that session's loop (the transport's strand): room
// messages go to every session through connection_table::broadcast, which encodes the frame once;
// DMs go through connection_table::send_to_user to every device of the target, and a copy to
// the sender's other devices. The history lookup is the example of slow work off the loop: it
// runs on a worker thread and replies with session::send from there — safe, because a session
// handle may be used from any thread and returns errc::closed once the session is gone.
//
// Across nodes (attach_cluster): room messages go to every session of every node and DMs to
// every device of the target on any node through the wsx::cluster node (local sessions
// directly, the other nodes through Redis); presence is the cluster's list of online users, and
// each node tells its own sessions. History stays per node.
//
// Presence: every join (and every leave that changes the list) takes a snapshot of the user ids
// (the table's, or the cluster's) under presence_mutex_ and numbers it. Broadcasts from different
// threads may overtake each other on the way to a client; the client keeps the highest seq, which
// is the newest snapshot, so every page converges on the table's contents.
#include "room.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "json.hpp"

namespace chat {
namespace {

std::int64_t unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string error_message(std::string_view reason) {
  return json::object_writer().field("type", "error").field("reason", reason).finish();
}

// True when `text` holds something besides spaces and line breaks.
bool has_content(std::string_view text) noexcept {
  return text.find_first_not_of(" \t\r\n") != std::string_view::npos;
}

}  // namespace

bool is_valid_user_id(std::string_view user) noexcept {
  if (user.empty() || user.size() > 32) return false;
  return std::all_of(user.begin(), user.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

room::room(wsx::connection_table& table, worker_pool& workers, std::size_t history_size)
    : table_(table), workers_(workers), epoch_(unix_millis()), history_size_(history_size) {}

void room::joined(const wsx::session_ptr& s) {
  s->send_text(json::object_writer()
                   .field("type", "hello")
                   .field("user", s->user_id())
                   .field("epoch", epoch_)
                   .finish());
  send_history(s);
  broadcast_presence(false);  // always: the new session needs the list even if it is unchanged
}

void room::left(const wsx::session_ptr&) { broadcast_presence(true); }

void room::received(const wsx::session_ptr& s, wsx::message_kind kind, wsx::bytes_view payload) {
  if (kind != wsx::message_kind::text) {
    s->send_text(error_message("binary messages are not part of the chat protocol"));
    return;
  }
  // The core delivers only valid UTF-8 text; the parser keeps it so (see json.hpp).
  const json::parse_result parsed = json::parse_flat_object(wsx::as_string(payload));
  if (!parsed.error.empty()) {
    s->send_text(error_message("bad JSON: " + parsed.error));
    return;
  }
  const auto type = parsed.object.get("type");
  const auto text = parsed.object.get("text");
  if (!type) {
    s->send_text(error_message("missing \"type\""));
    return;
  }
  if (*type != "room" && *type != "dm") {
    s->send_text(error_message("unknown type \"" + std::string(*type) + "\""));
    return;
  }
  if (!text || !has_content(*text)) {
    s->send_text(error_message("empty message"));
    return;
  }
  if (text->size() > max_text_bytes) {
    s->send_text(
        error_message("message too long (at most " + std::to_string(max_text_bytes) + " bytes)"));
    return;
  }
  if (*type == "room") {
    post_room(s, *text);
    return;
  }
  const auto to = parsed.object.get("to");
  if (!to || !is_valid_user_id(*to)) {
    s->send_text(error_message("a dm needs \"to\": a user id"));
    return;
  }
  post_dm(s, *to, *text);
}

void room::post_room(const wsx::session_ptr& from, std::string_view text) {
  const std::string msg = json::object_writer()
                              .field("type", "room")
                              .field("id", next_id_.fetch_add(1, std::memory_order_relaxed))
                              .field("from", from->user_id())
                              .field("text", text)
                              .field("ts", unix_millis())
                              .finish();
  // History first, then the broadcast: a session joining meanwhile is in the table before it
  // reads the history, so it gets the message one way or the other (the page drops duplicates
  // by id).
  {
    const std::lock_guard<std::mutex> lock(history_mutex_);
    history_.push_back(msg);
    if (history_.size() > history_size_) history_.pop_front();
  }
  // Everyone in the room, the sender included: its page shows the message when it comes back.
  if (cluster_ == nullptr) {
    table_.broadcast(wsx::message_kind::text, wsx::as_bytes(msg));
    return;
  }
  const wsx::cluster::delivery d = cluster_->broadcast(wsx::message_kind::text, wsx::as_bytes(msg));
  if (d.remote) {
    from->send_text(
        error_message("the room message reached this node only: " + d.remote.message()));
  }
}

void room::post_dm(const wsx::session_ptr& from, std::string_view to, std::string_view text) {
  const std::string msg = json::object_writer()
                              .field("type", "dm")
                              .field("id", next_id_.fetch_add(1, std::memory_order_relaxed))
                              .field("from", from->user_id())
                              .field("to", to)
                              .field("text", text)
                              .field("ts", unix_millis())
                              .finish();
  if (to != from->user_id()) {
    // Every device of the target, the frame encoded once for all of them.
    if (cluster_ == nullptr) {
      if (table_.send_to_user(to, wsx::message_kind::text, wsx::as_bytes(msg)) == 0) {
        from->send_text(error_message(std::string(to) + " is not online"));
        return;
      }
    } else {
      if (table_.sessions_of(to).empty() && !cluster_->is_online(to)) {
        from->send_text(error_message(std::string(to) + " is not online"));
        return;
      }
      const wsx::cluster::delivery d =
          cluster_->send_to_user(to, wsx::message_kind::text, wsx::as_bytes(msg));
      if (d.local == 0 && d.remote) {
        from->send_text(error_message(std::string(to) + " is on another node and the message " +
                                      "could not reach it: " + d.remote.message()));
        return;
      }
    }
  }
  // The sender's other devices keep the conversation in step; the sending page shows its own copy.
  if (cluster_ != nullptr) {
    cluster_->send_to_user(from->user_id(), wsx::message_kind::text, wsx::as_bytes(msg),
                           from.get());
    return;
  }
  for (const wsx::session_ptr& device : table_.sessions_of(from->user_id())) {
    if (device->id() != from->id()) device->send_text(msg);
  }
}

void room::send_history(const wsx::session_ptr& s) {
  // Stands in for a database query: the connection's loop must not wait for it. The job holds
  // the session handle (not the connection): if the peer is gone by the time it runs, send()
  // returns errc::closed and nothing else happens.
  const bool queued = workers_.post([this, s] {
    std::string messages = "[";
    {
      const std::lock_guard<std::mutex> lock(history_mutex_);
      for (const std::string& m : history_) {
        if (messages.size() > 1) messages += ',';
        messages += m;
      }
    }
    messages += ']';
    s->send_text(
        json::object_writer().field("type", "history").raw_field("messages", messages).finish());
  });
  if (!queued) s->send_text(error_message("history unavailable: the server is shutting down"));
}

void room::broadcast_presence(bool only_if_changed) {
  std::string msg;
  {
    const std::lock_guard<std::mutex> lock(presence_mutex_);
    // The cluster's list (every node), plus this node's own sessions at once: the cluster's
    // list follows the table a moment later, and then presence_changed() runs.
    std::vector<std::string> users;
    if (cluster_ != nullptr) users = cluster_->online_users();
    table_.for_each([&users](const wsx::session_ptr& s) { users.push_back(s->user_id()); });
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    if (only_if_changed && users == last_presence_) return;
    msg = json::object_writer()
              .field("type", "presence")
              .field("seq", ++presence_seq_)
              .field("users", users)
              .finish();
    last_presence_ = std::move(users);
  }
  // Outside the lock: a send may run a session's handlers on this thread.
  table_.broadcast(wsx::message_kind::text, wsx::as_bytes(msg));
}

}  // namespace chat
