// Theory of operation: a splitmix64 generator, seeded by the caller and by the message's index,
// picks words, names, rooms, ids and timestamps from small fixed lists. A message is built as JSON
// objects of chat messages whose text lengths vary; the last object's text is cut so that the
// whole document is exactly the size asked for (cut on a UTF-8 boundary, padded with spaces).
// Nothing needs JSON escaping: the lists hold no quote, backslash or control character.
#include "payload.hpp"

#include <array>
#include <cstdio>
#include <string_view>

namespace deflate_load {
namespace {

struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

constexpr std::array<std::string_view, 120> words = {
    "the",     "a",        "to",       "and",       "of",       "is",      "it",      "you",
    "that",    "in",       "we",       "for",       "on",       "this",    "have",    "be",
    "not",     "with",     "are",      "just",      "so",       "can",     "but",     "what",
    "will",    "do",       "at",       "if",        "was",      "me",      "my",      "about",
    "think",   "know",     "get",      "like",      "now",      "time",    "meeting", "deploy",
    "build",   "release",  "tomorrow", "today",     "review",   "merge",   "branch",  "test",
    "failing", "passing",  "server",   "client",    "latency",  "update",  "fixed",   "issue",
    "ticket",  "customer", "please",   "thanks",    "sure",     "okay",    "sounds",  "good",
    "great",   "lunch",    "coffee",   "later",     "morning",  "call",    "doc",     "draft",
    "send",    "link",     "check",    "looks",     "ready",    "wait",    "minutes", "hour",
    "week",    "plan",     "team",     "question",  "answer",   "maybe",   "yes",     "no",
    "again",   "still",    "already",  "soon",      "config",   "staging", "prod",    "logs",
    "error",   "memory",   "graph",    "dashboard", "rollback", "hotfix",  "agenda",  "notes",
    "café",    "naïve",    "über",     "jalapeño",  "😀",        "👍",       "🎉",       "🚀",
    "lol",     "haha",     "brb",      "afk",       "+1",       "ship",    "it",      "!"};

constexpr std::array<std::string_view, 24> names = {
    "alice", "bob",    "carol",   "dave", "erin",   "frank", "grace",  "heidi",
    "ivan",  "judy",   "mallory", "niaj", "olivia", "peggy", "rupert", "sybil",
    "trent", "victor", "walter",  "zoé",  "björn",  "chloé", "ana",    "kenji"};

constexpr std::array<std::string_view, 8> rooms = {"#general", "#random",  "#dev",    "#ops",
                                                   "#support", "#release", "#design", "#sales"};

// Appends words to `out` until `len` more bytes were added, cut on a UTF-8 boundary and padded
// with spaces.
void append_text(std::string& out, std::size_t len, rng& r) {
  const std::size_t end = out.size() + len;
  bool first = true;
  while (out.size() < end) {
    if (!first) out += (r.below(12) == 0 ? ", " : " ");
    out += words[r.below(words.size())];
    first = false;
  }
  std::size_t cut = end;
  while (cut > 0 && cut < out.size() && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
    --cut;  // do not split a code point
  out.resize(cut);
  out.append(end - cut, ' ');
}

// The fixed part of one chat message object, up to the opening quote of its text.
std::string object_head(rng& r, std::uint64_t& ts, std::uint64_t& id) {
  char buf[256];
  ts += 200 + r.below(30000);
  const std::string_view name = names[r.below(names.size())];
  const std::string_view room = rooms[r.below(rooms.size())];
  std::string s;
  const int n = std::snprintf(
      buf, sizeof buf,
      "{\"type\":\"message\",\"id\":\"m-%016llx\",\"room\":\"%.*s\","
      "\"from\":{\"id\":%u,\"name\":\"%.*s\"},\"ts\":%llu,",
      static_cast<unsigned long long>(++id * 0x2545F4914F6CDD1DULL), static_cast<int>(room.size()),
      room.data(), static_cast<unsigned>(1000 + r.below(90000)), static_cast<int>(name.size()),
      name.data(), static_cast<unsigned long long>(ts));
  s.assign(buf, static_cast<std::size_t>(n));
  if (r.below(5) == 0) s += "\"edited\":true,";
  if (r.below(4) == 0) {
    std::snprintf(buf, sizeof buf, "\"reactions\":{\"%s\":%u},", r.below(2) ? "👍" : "🎉",
                  static_cast<unsigned>(1 + r.below(9)));
    s += buf;
  }
  s += "\"text\":\"";
  return s;
}

std::string make_one(std::size_t size, rng& r) {
  std::string out;
  out.reserve(size + 64);
  if (size < 256) {
    append_text(out, size, r);
    return out;
  }
  std::uint64_t ts = 1733500000000ULL + r.below(86400000);
  std::uint64_t id = r.next() & 0xFFFFFF;
  std::string head = object_head(r, ts, id);
  const std::string_view tail = "\"}";
  // Room for one object: the whole message is that one object.
  if (size < 2 * 1024) {
    if (head.size() + tail.size() + 8 > size) head = "{\"text\":\"";
    out = head;
    append_text(out, size - out.size() - tail.size(), r);
    out += tail;
    return out;
  }
  const std::string_view close = "]}";
  out = "{\"type\":\"history\",\"room\":\"";
  out += rooms[r.below(rooms.size())];
  out += "\",\"messages\":[";
  for (bool first = true;; first = false) {
    if (!first) out += ',';
    const std::size_t left = size - out.size() - close.size();
    const std::size_t text = 20 + r.below(r.below(8) == 0 ? 1200 : 240);
    if (head.size() + text + tail.size() + 1 + 300 >= left) {
      // The last object: its text fills what is left exactly.
      out += head;
      append_text(out, size - out.size() - tail.size() - close.size(), r);
      out += tail;
      break;
    }
    out += head;
    append_text(out, text, r);
    out += tail;
    head = object_head(r, ts, id);
  }
  out += close;
  return out;
}

}  // namespace

std::vector<std::string> make_chat_messages(std::size_t size, std::size_t count,
                                            std::uint64_t seed) {
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    rng r{seed ^ (0xD1B54A32D192ED03ULL * (i + 1))};
    out.push_back(make_one(size, r));
  }
  return out;
}

}  // namespace deflate_load
