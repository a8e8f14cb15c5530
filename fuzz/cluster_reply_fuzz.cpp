// Fuzzes what a cluster node does with the bytes Redis sends it: the RESP reader (hiredis's,
// with our object functions and limits), the link's reply bookkeeping and probe swallowing, and
// the engine's dispatch of what the links report — pub/sub messages and their envelopes on the
// subscriber link, presence replies (registry, versions, member sets) on the command link.
// Input: byte 0 picks the link (even: subscriber, odd: commands), byte 1 the size of the chunks
// the rest is fed in (0: all at once). Checked beyond not crashing: every delivered payload
// fits max_reply_bytes; a link that reported an error is in backoff and wants no socket; the
// online users are sorted and unique and include this node's own user.
// WSX_FUZZ_TRACE=1 prints the deliveries and the error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common.hpp"
#include "engine.hpp"

namespace {

using namespace wsx::cluster::detail;
using wsx::fuzz::trace;

constexpr std::size_t max_reply = 4096;

class host final : public engine_host {
 public:
  bool has_local_user(std::string_view u) const override { return u == "me"; }
  bool has_local_room(std::string_view r) const override { return r == "lobby"; }
  void deliver(target, std::string_view name, wsx::message_kind,
               std::string_view payload) override {
    FUZZ_CHECK(payload.size() <= max_reply);
    if (trace)
      std::printf("deliver to '%.*s': %zu bytes\n", static_cast<int>(name.size()), name.data(),
                  payload.size());
  }
  void presence_changed() override {}
  std::int64_t wall_ms() const override { return 1'700'000'000'000; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int which = data[0] % 2;
  const std::size_t chunk = data[1] == 0 ? size : data[1];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

  host h;
  engine_config cfg;
  cfg.node = "n1";
  cfg.link.max_reply_bytes = max_reply;
  engine e(cfg, h, 7);
  time_point now{};
  e.start(now);
  for (int i = 0; i < 2; ++i) e.link(i).on_connected(now);
  e.user_changed("me");
  e.room_changed("lobby");
  e.pump(now);
  redis_link& l = e.link(which);
  l.consume_output(l.pending_output().size());

  std::error_code ec;
  while (!bytes.empty() && !ec) {
    const std::string_view part = bytes.substr(0, chunk);
    bytes.remove_prefix(part.size());
    ec = l.receive(std::span<const char>(part.data(), part.size()), now);
    e.pump(now);
    l.consume_output(l.pending_output().size());
  }
  if (ec) {
    if (trace) std::printf("error: %s\n", ec.message().c_str());
    FUZZ_CHECK(l.state() == link_state::backoff);
    FUZZ_CHECK(!l.wants_socket());
  }
  const std::vector<std::string> online = e.presence_state().online();
  FUZZ_CHECK(std::is_sorted(online.begin(), online.end()));
  FUZZ_CHECK(std::adjacent_find(online.begin(), online.end()) == online.end());
  FUZZ_CHECK(std::binary_search(online.begin(), online.end(), "me"));
  return 0;
}
