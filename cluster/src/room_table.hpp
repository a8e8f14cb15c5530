// Which local users are in which named room, on this node. Thread-safe (one mutex): rooms are
// joined and left from session handlers on any thread, read by sends on any thread and by the
// engine on the loop. Membership is per user: every local device of a member gets the room's
// messages, and a user leaves every room when the last of its local sessions ends.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace wsx::cluster::detail {

class room_table {
 public:
  // Returns true when it changed something (joining twice, or leaving a room one is not in,
  // changes nothing).
  bool join(std::string_view room, std::string_view user);
  bool leave(std::string_view room, std::string_view user);
  // Removes `user` from every room; returns the rooms it was in.
  std::vector<std::string> drop_user(std::string_view user);

  std::vector<std::string> members(std::string_view room) const;
  bool has_room(std::string_view room) const;
  std::vector<std::string> rooms_of(std::string_view user) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> rooms_;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> by_user_;
};

}  // namespace wsx::cluster::detail
