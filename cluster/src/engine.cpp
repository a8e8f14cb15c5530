// The engine: subscriptions follow the local tables, messages from Redis go to the host.
//
// Subscriptions are level-triggered: the facade says "user U (or room R) may have changed", the
// engine asks the host whether U has a local session now, and SUBSCRIBEs or UNSUBSCRIBEs when
// that differs from what it last knew. Redis applies a connection's commands in order, so once
// the replies are in, the confirmed channels equal the wanted ones (the property test checks
// it). While the subscriber link is down, the wanted sets are kept; on every (re)connect the
// engine subscribes to all of them again, in batches. A message on P u:<user> or P r:<room> or
// P all is unwrapped (envelope.hpp) and handed to the host unless this node published it: the
// facade delivered that copy locally already, which is what makes delivery exactly once per
// device while Redis is up.
#include "engine.hpp"

#include <array>

#include "envelope.hpp"
#include "wsx/cluster/errors.hpp"

namespace wsx::cluster::detail {
namespace {

constexpr std::size_t subscribe_batch = 256;

link_config with_mode(link_config c, bool subscriber) {
  c.subscriber = subscriber;
  return c;
}

}  // namespace

engine::engine(engine_config cfg, engine_host& host, std::uint64_t seed)
    : cfg_(std::move(cfg)),
      host_(host),
      names_{cfg_.prefix},
      sub_(with_mode(cfg_.link, true), seed),
      cmd_(with_mode(cfg_.link, false), seed * 31 + 7),
      presence_(cfg_, host, seed * 17 + 3) {}

void engine::start(time_point now) {
  sub_.start(now);
  cmd_.start(now);
}

void engine::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  presence_.leave(cmd_);
  sub_.stop();
  confirmed_.clear();
}

void engine::finish_stop() {
  sub_.stop();
  cmd_.stop();
}

std::set<std::string, std::less<>> engine::wanted_channels() const {
  std::set<std::string, std::less<>> out{names_.all(), names_.presence()};
  for (const std::string& u : users_) out.insert(names_.user(u));
  for (const std::string& r : rooms_) out.insert(names_.room(r));
  return out;
}

void engine::subscribe(std::string_view verb, const std::vector<std::string>& channels) {
  for (std::size_t i = 0; i < channels.size(); i += subscribe_batch) {
    std::vector<std::string_view> args{verb};
    for (std::size_t j = i; j < channels.size() && j < i + subscribe_batch; ++j) {
      args.push_back(channels[j]);
    }
    std::string out;
    format_command(out, args);
    // Not open: the whole set is subscribed on the next connect. Backlog full: the link is
    // stuck for long, and the probe will drop and rebuild it.
    (void)sub_.send(out, 0, 0);
  }
}

void engine::user_changed(std::string_view user) {
  if (stopping_ || user.empty()) return;
  const bool present = host_.has_local_user(user);
  if (present == users_.contains(user)) return;
  if (present) {
    users_.emplace(user);
  } else {
    users_.erase(users_.find(user));
  }
  if (sub_.is_open()) subscribe(present ? "SUBSCRIBE" : "UNSUBSCRIBE", {names_.user(user)});
  presence_.local_user(cmd_, user, present);
}

void engine::room_changed(std::string_view room) {
  if (stopping_ || room.empty()) return;
  const bool present = host_.has_local_room(room);
  if (present == rooms_.contains(room)) return;
  if (present) {
    rooms_.emplace(room);
  } else {
    rooms_.erase(rooms_.find(room));
  }
  if (sub_.is_open()) subscribe(present ? "SUBSCRIBE" : "UNSUBSCRIBE", {names_.room(room)});
}

std::error_code engine::publish(target t, std::string_view name, message_kind kind,
                                std::string_view payload) {
  if (stopping_) return errc::stopped;
  std::string channel;
  switch (t) {
    case target::user:
      channel = names_.user(name);
      break;
    case target::room:
      channel = names_.room(name);
      break;
    case target::all:
      channel = names_.all();
      break;
  }
  std::string body;
  encode_envelope(body, cfg_.node, kind, payload);
  const std::array<std::string_view, 3> args{"PUBLISH", channel, body};
  std::string out;
  format_command(out, args);
  if (const std::error_code ec = cmd_.send(out, 0, 1)) {
    ++counters_.publish_failed;
    return ec;
  }
  ++counters_.published;
  return {};
}

void engine::pump(time_point now) {
  while (std::optional<link_event> e = sub_.next_event()) on_sub_event(*e, now);
  while (std::optional<link_event> e = cmd_.next_event()) on_cmd_event(*e, now);
}

void engine::on_sub_event(link_event& e, time_point now) {
  switch (e.type) {
    case link_event::kind::connected: {
      confirmed_.clear();
      const auto wanted = wanted_channels();
      subscribe("SUBSCRIBE", std::vector<std::string>(wanted.begin(), wanted.end()));
      return;
    }
    case link_event::kind::disconnected:
      confirmed_.clear();
      last_error_ = e.ec;
      return;
    case link_event::kind::reply:
      break;
  }
  const reply& r = e.r;
  if (r.type == reply::kind::error) {
    ++counters_.redis_errors;
    return;
  }
  if (!r.is_array() || r.elements.empty()) return;
  const std::string_view verb = r.text(0);
  if (verb == "message" && r.elements.size() == 3) {
    on_message(r.text(1), r.text(2), now);
  } else if (verb == "subscribe" && r.elements.size() >= 2) {
    confirmed_.emplace(r.text(1));
    // Announcements made before this subscription took effect were missed: poll once now.
    if (r.text(1) == names_.presence()) presence_.on_announcement(cmd_, now);
  } else if (verb == "unsubscribe" && r.elements.size() >= 2) {
    auto it = confirmed_.find(r.text(1));
    if (it != confirmed_.end()) confirmed_.erase(it);
  }
}

void engine::on_message(std::string_view channel, std::string_view payload, time_point now) {
  if (!channel.starts_with(cfg_.prefix)) return;
  const std::string_view rest = channel.substr(cfg_.prefix.size());
  if (rest == "presence") {
    if (payload != cfg_.node) presence_.on_announcement(cmd_, now);
    return;
  }
  const std::optional<envelope> env = decode_envelope(payload);
  if (!env) {
    ++counters_.bad_messages;
    return;
  }
  if (env->origin == cfg_.node) return;  // delivered locally when it was sent
  if (rest == "all") {
    ++counters_.received;
    host_.deliver(target::all, {}, env->kind, env->payload);
  } else if (rest.starts_with("u:")) {
    ++counters_.received;
    host_.deliver(target::user, rest.substr(2), env->kind, env->payload);
  } else if (rest.starts_with("r:")) {
    ++counters_.received;
    host_.deliver(target::room, rest.substr(2), env->kind, env->payload);
  }
}

void engine::on_cmd_event(link_event& e, time_point now) {
  switch (e.type) {
    case link_event::kind::connected:
      if (!stopping_) presence_.on_connected(cmd_, now);
      return;
    case link_event::kind::disconnected:
      last_error_ = e.ec;
      presence_.on_disconnected(now);
      return;
    case link_event::kind::reply:
      break;
  }
  if (e.r.type == reply::kind::error) ++counters_.redis_errors;
  if (presence::owns(e.tag)) presence_.on_reply(cmd_, e.tag, e.r, now);
}

std::optional<time_point> engine::next_deadline() const noexcept {
  std::optional<time_point> d = sub_.next_deadline();
  for (std::optional<time_point> o : {cmd_.next_deadline(), presence_.next_deadline()}) {
    if (o && (!d || *o < *d)) d = o;
  }
  return d;
}

void engine::on_timer(time_point now) {
  sub_.on_timer(now);
  cmd_.on_timer(now);
  if (!stopping_) presence_.on_timer(cmd_, now);
  pump(now);
}

}  // namespace wsx::cluster::detail
