// The chat's application logic: one room everyone is in, direct messages between users, who is
// online, and a short room history. It knows wsx sessions, the connection table and, when the
// chat runs as one node of several (--redis), the wsx::cluster node — no sockets, no loop — so
// every transport's server can drive it (serve_asio.cpp, serve_libevent.cpp).
//
// Protocol (one JSON object per text message):
//   client → server  {"type":"room","text":T}            to everyone in the room
//                    {"type":"dm","to":U,"text":T}        to every device of user U
//   server → client  {"type":"hello","user":U,"epoch":E}  once, on open: who you are; E is
//                        fixed for the server process (ids restart when it changes)
//                    {"type":"presence","seq":N,"users":[U…]}   who is online (sorted; a
//                        higher seq supersedes a lower one, whatever order they arrive in)
//                    {"type":"room","id":I,"from":U,"text":T,"ts":MS}
//                    {"type":"dm","id":I,"from":U,"to":V,"text":T,"ts":MS}
//                    {"type":"history","messages":[room messages…]}   once, after hello
//                    {"type":"error","reason":R}
// `id` orders every room message and DM server-wide; `ts` is Unix time in milliseconds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wsx/cluster/node.hpp"
#include "wsx/common/connection_table.hpp"
#include "wsx/common/session.hpp"
#include "wsx/types.hpp"

#include "worker_pool.hpp"

namespace chat {

// Longest text a room message or DM may carry, in bytes.
inline constexpr std::size_t max_text_bytes = 2000;

class room {
 public:
  // `table` is the server's connection table (user id → sessions); `workers` run the history
  // lookup. Both must outlive the room. The last `history_size` room messages are kept.
  room(wsx::connection_table& table, worker_pool& workers, std::size_t history_size = 50);

  // Session handlers: call them from the server's on_open, on_message and on_close.
  // joined: says hello, sends the history from a worker thread, broadcasts presence.
  void joined(const wsx::session_ptr& s);
  // received: one client message; bad input gets an "error" message back, never a close.
  void received(const wsx::session_ptr& s, wsx::message_kind kind, wsx::bytes_view payload);
  // left: the session is already out of the table; broadcasts presence if it changed.
  void left(const wsx::session_ptr& s);

  // Across nodes: room messages, DMs and presence go through `node` (which must outlive the
  // room) instead of the local table alone. Call before the server starts.
  void attach_cluster(wsx::cluster::node* node) { cluster_ = node; }
  // The cluster's online users changed (its on_presence): tells this node's sessions.
  void presence_changed() { broadcast_presence(true); }

 private:
  void post_room(const wsx::session_ptr& from, std::string_view text);
  void post_dm(const wsx::session_ptr& from, std::string_view to, std::string_view text);
  void send_history(const wsx::session_ptr& s);
  // Snapshots who is online and broadcasts it; `only_if_changed` skips an unchanged list.
  void broadcast_presence(bool only_if_changed);

  wsx::connection_table& table_;
  worker_pool& workers_;
  wsx::cluster::node* cluster_ = nullptr;
  const std::int64_t epoch_;  // when this room was made (Unix ms): tells restarts apart
  std::atomic<std::int64_t> next_id_{1};

  std::mutex history_mutex_;
  std::deque<std::string> history_;  // encoded room messages, oldest first
  std::size_t history_size_;

  std::mutex presence_mutex_;  // orders presence snapshots: seq follows snapshot order
  std::int64_t presence_seq_ = 0;
  std::vector<std::string> last_presence_;
};

// Whether `user` may be a chat user id: 1-32 of [A-Za-z0-9._-]. Keeps ids printable, safe in
// URLs and HTML, and valid UTF-8 whatever a token's "sub" holds.
bool is_valid_user_id(std::string_view user) noexcept;

}  // namespace chat
