// The cluster engine of one node, sans-IO: its two Redis links (one in subscriber mode, one for
// commands), the channels it must be subscribed to, the routing of published messages to the
// host, and presence. The transport adapter feeds the links bytes and time; the node facade
// tells the engine what changed locally and what to publish. Loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "engine_types.hpp"
#include "presence.hpp"
#include "redis_link.hpp"

namespace wsx::cluster::detail {

struct engine_counters {
  std::uint64_t published = 0;       // PUBLISH commands queued
  std::uint64_t publish_failed = 0;  // refused: link not open or backlog full
  std::uint64_t received = 0;        // messages from other nodes delivered to the host
  std::uint64_t bad_messages = 0;    // pub/sub payloads that were not our envelopes
  std::uint64_t redis_errors = 0;    // error replies
};

class engine {
 public:
  static constexpr int subscriber = 0;
  static constexpr int commands = 1;

  engine(engine_config cfg, engine_host& host, std::uint64_t seed);

  void start(time_point now);
  // Clean stop: presence removed from Redis (the command link's output then holds it: flush it
  // before closing), subscriptions dropped, nothing more is sent.
  void begin_stop();
  // Both links stopped: the adapter closes their sockets.
  void finish_stop();

  // Level-triggered: look at the host's tables for this user / room and follow them.
  void user_changed(std::string_view user);
  void room_changed(std::string_view room);

  // PUBLISH one message for the other nodes. errc::redis_unavailable, errc::backlog_full.
  std::error_code publish(target t, std::string_view name, message_kind kind,
                          std::string_view payload);

  redis_link& link(int i) noexcept { return i == subscriber ? sub_ : cmd_; }
  // After the adapter fed a link (bytes, connect, EOF) or the clock: handle its events.
  void pump(time_point now);
  std::optional<time_point> next_deadline() const noexcept;
  void on_timer(time_point now);

  bool redis_up() const noexcept { return sub_.is_open() && cmd_.is_open(); }
  // The channels Redis has confirmed (subscribe replies minus unsubscribe replies).
  const std::set<std::string, std::less<>>& confirmed_channels() const noexcept {
    return confirmed_;
  }
  // The channels this node must be subscribed to.
  std::set<std::string, std::less<>> wanted_channels() const;
  const presence& presence_state() const noexcept { return presence_; }
  const engine_counters& counters() const noexcept { return counters_; }
  const std::string& node_name() const noexcept { return cfg_.node; }
  // Why a link last went down (empty before that).
  std::error_code last_link_error() const noexcept { return last_error_; }

 private:
  void on_sub_event(link_event& e, time_point now);
  void on_cmd_event(link_event& e, time_point now);
  void on_message(std::string_view channel, std::string_view payload, time_point now);
  void subscribe(std::string_view verb, const std::vector<std::string>& channels);

  engine_config cfg_;
  engine_host& host_;
  names names_;
  redis_link sub_;
  redis_link cmd_;
  presence presence_;
  std::set<std::string, std::less<>> users_;  // local users (subscribed or to be)
  std::set<std::string, std::less<>> rooms_;  // rooms with local members
  std::set<std::string, std::less<>> confirmed_;
  engine_counters counters_;
  std::error_code last_error_;
  bool stopping_ = false;
};

}  // namespace wsx::cluster::detail
