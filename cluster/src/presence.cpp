// Presence: the local set written to Redis, the other nodes' sets polled back, and the union.
//
// Writes ride the command link in order, so Redis sees SADD/SREM in the order the users came
// and went. Every change sets P node:<node> to "<incarnation>:<n>", a value no earlier state of
// this node had (the incarnation is drawn afresh on every connect), so a poll that finds an
// unchanged version can skip the set. A poll may read a version and then a newer set; the next
// poll sees the newer version and reads it again, so the mirror converges. counts_ holds, per
// user, how many of {this node, each remote node} have it: online() is its keys, and a change of
// a count from or to zero is a change of presence, reported once per call into this class.
#include "presence.hpp"

#include <array>

namespace wsx::cluster::detail {
namespace {

constexpr std::size_t batch = 256;  // arguments per SADD when writing the whole set

std::string command(std::initializer_list<std::string_view> args) {
  std::string out;
  format_command(out, std::span<const std::string_view>(args.begin(), args.size()));
  return out;
}

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()); }

}  // namespace

presence::presence(const engine_config& cfg, engine_host& host, std::uint64_t seed)
    : cfg_(cfg), host_(host), names_{cfg.prefix}, rng_(seed) {}

void presence::count(std::string_view user, int delta) {
  auto it = counts_.find(user);
  if (it == counts_.end()) {
    if (delta <= 0) return;
    counts_.emplace(std::string(user), delta);
    changed_ = true;
    return;
  }
  it->second += delta;
  if (it->second <= 0) {
    counts_.erase(it);
    changed_ = true;
  }
}

void presence::notify_if_changed() {
  if (!changed_) return;
  changed_ = false;
  host_.presence_changed();
}

void presence::announce_version(redis_link& cmd) {
  ++version_;
  const std::string value = incarnation_ + ":" + std::to_string(version_);
  std::string out = command({"SET", names_.node_key(cfg_.node), value, "PX", ms_text(ttl())});
  out += command({"PEXPIRE", names_.users_key(cfg_.node), ms_text(ttl())});
  out += command({"PUBLISH", names_.presence(), cfg_.node});
  (void)cmd.send(out, tag(tag_kind::ignore), 3);
}

void presence::local_user(redis_link& cmd, std::string_view user, bool present) {
  if (present) {
    if (!local_.emplace(user).second) return;
    count(user, 1);
  } else {
    auto it = local_.find(user);
    if (it == local_.end()) return;
    local_.erase(it);
    count(user, -1);
  }
  notify_if_changed();
  if (!connected_) return;  // written whole on the next connect
  const std::string cmd_bytes =
      command({present ? "SADD" : "SREM", names_.users_key(cfg_.node), user});
  if (!cmd.send(cmd_bytes, tag(tag_kind::ignore), 1)) announce_version(cmd);
}

void presence::on_connected(redis_link& cmd, time_point now) {
  connected_ = true;
  mirror_stale_ = false;
  incarnation_ = std::to_string(rng_());  // versions this node never wrote before
  const std::string users = names_.users_key(cfg_.node);
  std::string out = command({"DEL", users});
  unsigned replies = 1;
  std::vector<std::string_view> args;
  auto flush = [&] {
    if (args.size() <= 2) return;
    std::string part;
    format_command(part, args);
    out += part;
    ++replies;
    args.resize(2);
  };
  args = {"SADD", users};
  for (const std::string& u : local_) {
    args.push_back(u);
    if (args.size() == 2 + batch) flush();
  }
  flush();
  out += command({"ZADD", names_.nodes(), std::to_string(host_.wall_ms()), cfg_.node});
  (void)cmd.send(out, tag(tag_kind::ignore), replies + 1);
  announce_version(cmd);
  next_refresh_ = now + refresh();
  phase_ = poll_phase::idle;
  poll_again_ = false;
  start_poll(cmd, now);
}

void presence::on_disconnected(time_point now) {
  connected_ = false;
  disconnected_at_ = now;
  mirror_stale_ = true;
  phase_ = poll_phase::idle;
}

void presence::leave(redis_link& cmd) {
  if (!connected_) return;
  std::string out = command({"DEL", names_.node_key(cfg_.node), names_.users_key(cfg_.node)});
  out += command({"ZREM", names_.nodes(), cfg_.node});
  out += command({"PUBLISH", names_.presence(), cfg_.node});
  (void)cmd.send(out, tag(tag_kind::ignore), 3);
  connected_ = false;
}

void presence::on_announcement(redis_link& cmd, time_point now) {
  if (!connected_) return;
  if (phase_ != poll_phase::idle) {
    poll_again_ = true;
    return;
  }
  start_poll(cmd, now);
}

void presence::start_poll(redis_link& cmd, time_point now) {
  (void)now;
  const std::int64_t oldest = host_.wall_ms() - 10 * cfg_.node_timeout.count();
  // Names not refreshed for ten node timeouts leave the registry (a node renamed for good).
  const std::string prune =
      command({"ZREMRANGEBYSCORE", names_.nodes(), "-inf", "(" + std::to_string(oldest)});
  if (cmd.send(prune, tag(tag_kind::ignore), 1)) return;
  if (cmd.send(command({"ZRANGE", names_.nodes(), "0", "-1"}), tag(tag_kind::poll_nodes), 1)) {
    return;
  }
  phase_ = poll_phase::nodes;
}

void presence::finish_poll(redis_link& cmd, time_point now) {
  phase_ = poll_phase::idle;
  notify_if_changed();
  if (poll_again_) {
    poll_again_ = false;
    start_poll(cmd, now);
  }
}

void presence::replace_remote(const std::string& node, remote next) {
  auto it = mirror_.find(node);
  if (it != mirror_.end()) {
    for (const std::string& u : it->second.users) count(u, -1);
  }
  for (const std::string& u : next.users) count(u, 1);
  mirror_[node] = std::move(next);
}

void presence::drop_remote(const std::string& node) {
  auto it = mirror_.find(node);
  if (it == mirror_.end()) return;
  for (const std::string& u : it->second.users) count(u, -1);
  mirror_.erase(it);
}

void presence::on_reply(redis_link& cmd, std::uint64_t t, reply& r, time_point now) {
  const auto k = static_cast<tag_kind>((t & ~tag_base) >> 40);
  const std::uint64_t index = t & ((std::uint64_t{1} << 40) - 1);
  switch (k) {
    case tag_kind::ignore:
      return;
    case tag_kind::refresh_check:
      if (r.type == reply::kind::integer && r.integer == 0) on_connected(cmd, now);  // keys lost
      return;
    case tag_kind::poll_nodes: {
      poll_names_.clear();
      for (std::size_t i = 0; i < r.elements.size(); ++i) {
        const std::string_view n = r.text(i);
        if (!n.empty() && n != cfg_.node) poll_names_.emplace_back(n);
      }
      std::set<std::string> listed(poll_names_.begin(), poll_names_.end());
      std::vector<std::string> gone;
      for (const auto& [node, _] : mirror_) {
        if (!listed.contains(node)) gone.push_back(node);
      }
      for (const std::string& node : gone) drop_remote(node);
      if (poll_names_.empty()) return finish_poll(cmd, now);
      std::vector<std::string> keys;
      for (const std::string& n : poll_names_) keys.push_back(names_.node_key(n));
      std::vector<std::string_view> args{"MGET"};
      for (const std::string& key : keys) args.push_back(key);
      std::string out;
      format_command(out, args);
      if (cmd.send(out, tag(tag_kind::poll_versions), 1)) return finish_poll(cmd, now);
      phase_ = poll_phase::versions;
      return;
    }
    case tag_kind::poll_versions: {
      poll_versions_.clear();
      members_pending_ = 0;
      for (std::size_t i = 0; i < poll_names_.size(); ++i) {
        const std::string& node = poll_names_[i];
        const bool has = i < r.elements.size() && r.elements[i].type == reply::kind::string;
        if (!has) {
          drop_remote(node);
          continue;
        }
        const std::string& version = r.elements[i].str;
        auto it = mirror_.find(node);
        if (it != mirror_.end() && it->second.version == version) continue;
        poll_versions_[node] = version;
        if (cmd.send(command({"SMEMBERS", names_.users_key(node)}), tag(tag_kind::members, i), 1)) {
          return finish_poll(cmd, now);
        }
        ++members_pending_;
      }
      if (members_pending_ == 0) return finish_poll(cmd, now);
      phase_ = poll_phase::members;
      return;
    }
    case tag_kind::members: {
      if (index < poll_names_.size()) {
        const std::string& node = poll_names_[index];
        remote next;
        next.version = poll_versions_[node];
        for (std::size_t i = 0; i < r.elements.size(); ++i) {
          const std::string_view u = r.text(i);
          if (!u.empty()) next.users.emplace_back(u);
        }
        replace_remote(node, std::move(next));
      }
      if (members_pending_ > 0 && --members_pending_ == 0) finish_poll(cmd, now);
      return;
    }
  }
}

std::optional<time_point> presence::next_deadline() const noexcept {
  if (connected_) return next_refresh_;
  if (mirror_stale_) return disconnected_at_ + cfg_.node_timeout;
  return std::nullopt;
}

void presence::on_timer(redis_link& cmd, time_point now) {
  if (!connected_) {
    if (mirror_stale_ && now >= disconnected_at_ + cfg_.node_timeout) {
      // Redis has been away for a whole node timeout: nothing in the mirror can be vouched for.
      mirror_stale_ = false;
      std::vector<std::string> all;
      for (const auto& [node, _] : mirror_) all.push_back(node);
      for (const std::string& node : all) drop_remote(node);
      notify_if_changed();
    }
    return;
  }
  if (now < next_refresh_) return;
  next_refresh_ = now + refresh();
  std::string out = command({"PEXPIRE", names_.node_key(cfg_.node), ms_text(ttl())});
  (void)cmd.send(out, tag(tag_kind::refresh_check), 1);
  out = command({"PEXPIRE", names_.users_key(cfg_.node), ms_text(ttl())});
  out += command({"ZADD", names_.nodes(), std::to_string(host_.wall_ms()), cfg_.node});
  (void)cmd.send(out, tag(tag_kind::ignore), 2);
  if (phase_ == poll_phase::idle) {
    start_poll(cmd, now);
  } else {
    poll_again_ = true;
  }
}

bool presence::is_online(std::string_view user) const { return counts_.contains(user); }

std::vector<std::string> presence::online() const {
  std::vector<std::string> out;
  out.reserve(counts_.size());
  for (const auto& [user, _] : counts_) out.push_back(user);
  return out;
}

}  // namespace wsx::cluster::detail
