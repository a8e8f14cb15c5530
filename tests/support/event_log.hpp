// Renders core events as one-line strings, so tests read as transcripts:
//   EXPECT_EQ(log, (lines{"opened", "message text 'hi'", "closed 1000 clean remote"}));
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "support/test_support.hpp"

namespace wsx::test {

using lines = std::vector<std::string>;

inline std::string kind_name(message_kind k) { return k == message_kind::text ? "text" : "binary"; }

inline std::string describe(const event& ev) {
  struct visitor {
    std::string operator()(const upgrade_request& r) const { return "upgrade_request " + r.target; }
    std::string operator()(const opened& o) const {
      return o.subprotocol.empty() ? "opened" : "opened " + o.subprotocol;
    }
    std::string operator()(const rejected& r) const {
      return "rejected " + std::to_string(r.status) + " " + r.ec.message();
    }
    std::string operator()(const message_chunk& c) const {
      return "chunk " + kind_name(c.kind) + (c.first ? " first" : "") + (c.last ? " last" : "") +
             " '" + str(c.payload) + "'";
    }
    std::string operator()(const message& m) const {
      return "message " + kind_name(m.kind) + " '" + str(m.payload) + "'";
    }
    std::string operator()(const ping_received& p) const { return "ping '" + str(p.payload) + "'"; }
    std::string operator()(const pong_received& p) const { return "pong '" + str(p.payload) + "'"; }
    std::string operator()(const close_received& c) const {
      return "close_received " + std::to_string(static_cast<int>(c.code)) + " '" +
             std::string(c.reason) + "'";
    }
    std::string operator()(const closed& c) const {
      std::string s = "closed " + std::to_string(static_cast<int>(c.code)) +
                      (c.clean ? " clean" : " unclean") + (c.initiated_locally ? " local" : " remote");
      if (c.ec) s += " (" + c.ec.message() + ")";
      return s;
    }
  };
  return std::visit(visitor{}, ev);
}

// Drains every event of `c` into `out`.
inline void drain_events(connection& c, lines& out) {
  while (auto ev = c.next_event()) out.push_back(describe(*ev));
}

}  // namespace wsx::test
