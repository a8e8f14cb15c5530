// Room membership: two maps kept in step under one mutex (room → users, user → rooms), so that
// dropping a user whose last session ended touches only its own rooms. Empty entries are
// erased at once, so has_room() is "has a local member".
#include "room_table.hpp"

namespace wsx::cluster::detail {
namespace {

template <class Map>
bool erase_pair(Map& m, std::string_view key, std::string_view value) {
  auto it = m.find(key);
  if (it == m.end()) return false;
  auto v = it->second.find(value);
  if (v == it->second.end()) return false;
  it->second.erase(v);
  if (it->second.empty()) m.erase(it);
  return true;
}

}  // namespace

bool room_table::join(std::string_view room, std::string_view user) {
  std::lock_guard lock(mutex_);
  auto r = rooms_.find(room);
  if (r == rooms_.end())
    r = rooms_.emplace(std::string(room), std::set<std::string, std::less<>>{}).first;
  if (!r->second.emplace(user).second) return false;
  auto u = by_user_.find(user);
  if (u == by_user_.end())
    u = by_user_.emplace(std::string(user), std::set<std::string, std::less<>>{}).first;
  u->second.emplace(room);
  return true;
}

bool room_table::leave(std::string_view room, std::string_view user) {
  std::lock_guard lock(mutex_);
  if (!erase_pair(rooms_, room, user)) return false;
  erase_pair(by_user_, user, room);
  return true;
}

std::vector<std::string> room_table::drop_user(std::string_view user) {
  std::lock_guard lock(mutex_);
  auto u = by_user_.find(user);
  if (u == by_user_.end()) return {};
  std::vector<std::string> rooms(u->second.begin(), u->second.end());
  by_user_.erase(u);
  for (const std::string& room : rooms) erase_pair(rooms_, room, user);
  return rooms;
}

std::vector<std::string> room_table::members(std::string_view room) const {
  std::lock_guard lock(mutex_);
  auto r = rooms_.find(room);
  if (r == rooms_.end()) return {};
  return {r->second.begin(), r->second.end()};
}

bool room_table::has_room(std::string_view room) const {
  std::lock_guard lock(mutex_);
  return rooms_.contains(room);
}

std::vector<std::string> room_table::rooms_of(std::string_view user) const {
  std::lock_guard lock(mutex_);
  auto u = by_user_.find(user);
  if (u == by_user_.end()) return {};
  return {u->second.begin(), u->second.end()};
}

}  // namespace wsx::cluster::detail
