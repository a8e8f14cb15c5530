// permessage-deflate negotiation (RFC 7692 §5, §7.1) as tables: the list grammar, each
// parameter's rules, the server's choice among offers and within its budget, the client's offer
// and its checks of the answer (each refusal with its reason).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "detail/deflate_negotiation.hpp"

using testing::HasSubstr;
using wsx::deflate_options;
using namespace wsx::detail;

namespace {

deflate_options budget(std::size_t bytes) {
  deflate_options o;
  o.enabled = true;
  o.memory_budget = bytes;
  return o;
}
const deflate_options roomy = budget(1 << 20);  // everything fits: windows 15, memLevel 8

std::string answer_to(std::string_view offers, const deflate_options& o = roomy) {
  const auto a = negotiate_server(offers, o);
  return a ? a->answer : "<declined>";
}

}  // namespace

TEST(deflate_negotiation, parses_elements_params_and_quoted_values) {
  const auto e = parse_extensions(
      "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", x-foo ,"
      " permessage-deflate");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].name, "permessage-deflate");
  ASSERT_EQ((*e)[0].params.size(), 2u);
  EXPECT_EQ((*e)[0].params[0].name, "client_max_window_bits");
  EXPECT_FALSE((*e)[0].params[0].value);
  EXPECT_EQ((*e)[0].params[1].value, "10");
  EXPECT_EQ((*e)[1].name, "x-foo");
  EXPECT_TRUE((*e)[2].params.empty());
}

TEST(deflate_negotiation, rejects_broken_grammar) {
  for (const char* bad : {"permessage-deflate; =1", "permessage-deflate; a=\"1", "p d",
                          "permessage-deflate; a=\"a b\"", "permessage-deflate; a=", "; a",
                          "permessage-deflate; a=\"\\"}) {
    EXPECT_FALSE(parse_extensions(bad)) << bad;
  }
}

TEST(deflate_negotiation, element_rules_name_the_parameter) {
  struct row {
    const char* element;
    element_kind kind;
    const char* reason;  // empty: valid
  };
  const row rows[] = {
      {"permessage-deflate", element_kind::offer, ""},
      {"permessage-deflate; client_max_window_bits", element_kind::offer, ""},
      {"permessage-deflate; client_max_window_bits", element_kind::answer, "needs a value"},
      {"permessage-deflate; server_max_window_bits", element_kind::offer, "needs a value"},
      {"permessage-deflate; server_max_window_bits=7", element_kind::offer, "not a window size"},
      {"permessage-deflate; server_max_window_bits=16", element_kind::offer, "not a window size"},
      {"permessage-deflate; server_max_window_bits=08", element_kind::offer, "not a window size"},
      {"permessage-deflate; client_max_window_bits=\"x\"", element_kind::offer,
       "not a window size"},
      {"permessage-deflate; server_no_context_takeover=1", element_kind::offer, "takes no value"},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
       element_kind::offer, "given twice"},
      {"permessage-deflate; client_max_window_bits=9; client_max_window_bits=10",
       element_kind::answer, "given twice"},
      {"permessage-deflate; x=1", element_kind::offer, "unknown permessage-deflate parameter x"},
  };
  for (const auto& r : rows) {
    const auto e = parse_extensions(r.element);
    ASSERT_TRUE(e) << r.element;
    deflate_element out;
    const std::string why = check_deflate_element(e->front(), r.kind, out);
    if (*r.reason == '\0') {
      EXPECT_EQ(why, "") << r.element;
    } else {
      EXPECT_THAT(why, HasSubstr(r.reason)) << r.element;
    }
  }
}

TEST(deflate_negotiation, server_answers_each_kind_of_offer) {
  struct row {
    const char* offers;
    const char* answer;
  };
  const row rows[] = {
      {"permessage-deflate", "permessage-deflate"},
      // Chromium's offer: the server may choose the client's window.
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_max_window_bits=15"},
      {"permessage-deflate; client_max_window_bits=10",
       "permessage-deflate; client_max_window_bits=10"},
      // A client window of 8 only limits what this side inflates: fine.
      {"permessage-deflate; client_max_window_bits=8",
       "permessage-deflate; client_max_window_bits=8"},
      {"permessage-deflate; server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover"},
      {"permessage-deflate; client_no_context_takeover",
       "permessage-deflate; client_no_context_takeover"},
      {"permessage-deflate; server_max_window_bits=9",
       "permessage-deflate; server_max_window_bits=9"},
      {"permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
       "permessage-deflate; server_no_context_takeover; server_max_window_bits=12"},
      // zlib cannot compress with a window of 8: that offer is declined, the next one taken.
      {"permessage-deflate; server_max_window_bits=8", "<declined>"},
      {"permessage-deflate; server_max_window_bits=8, permessage-deflate", "permessage-deflate"},
      // Invalid or duplicate parameters decline that offer only.
      {"permessage-deflate; server_max_window_bits=16, permessage-deflate; "
       "server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover"},
      {"permessage-deflate; client_max_window_bits; client_max_window_bits", "<declined>"},
      {"permessage-deflate; foo", "<declined>"},
      {"x-webkit-deflate-frame, permessage-deflate", "permessage-deflate"},
      {"x-webkit-deflate-frame", "<declined>"},
      {"permessage-deflate; a=\"1", "<declined>"},  // the list does not parse
      {"", "<declined>"},
  };
  for (const auto& r : rows) EXPECT_EQ(answer_to(r.offers), r.answer) << r.offers;
}

TEST(deflate_negotiation, server_options_add_no_context_takeover) {
  deflate_options o = roomy;
  o.no_context_takeover = true;
  o.peer_no_context_takeover = true;
  EXPECT_EQ(answer_to("permessage-deflate", o),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  const auto a = negotiate_server("permessage-deflate", o);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->params.server_no_context_takeover);
  EXPECT_TRUE(a->params.client_no_context_takeover);
}

TEST(deflate_negotiation, server_sizes_windows_and_mem_level_from_the_budget) {
  struct row {
    std::size_t budget;
    const char* offer;
    unsigned deflate_bits, mem_level, client_bits;
  };
  const row rows[] = {
      {1 << 20, "permessage-deflate; client_max_window_bits", 15, 8, 15},
      // 128 KiB: the client's window shrinks with ours when the offer lets us choose it.
      {128 * 1024, "permessage-deflate; client_max_window_bits", 14, 6, 14},
      // ... and when it does not, our compressor gives way alone.
      {128 * 1024, "permessage-deflate", 13, 6, 15},
      {320 * 1024, "permessage-deflate", 15, 8, 15},
      {64 * 1024, "permessage-deflate; client_max_window_bits", 12, 5, 12},
      {64 * 1024, "permessage-deflate", 11, 4, 15},
      {32 * 1024, "permessage-deflate; client_max_window_bits", 11, 4, 11},
  };
  for (const auto& r : rows) {
    const auto a = negotiate_server(r.offer, budget(r.budget));
    ASSERT_TRUE(a) << r.budget;
    EXPECT_EQ(a->params.deflate_window_bits, r.deflate_bits) << r.budget << " " << r.offer;
    EXPECT_EQ(a->params.mem_level, r.mem_level) << r.budget << " " << r.offer;
    EXPECT_EQ(a->params.client_max_window_bits, r.client_bits) << r.budget << " " << r.offer;
    EXPECT_LE(deflate_memory(r.deflate_bits, r.mem_level) + inflate_memory(r.client_bits),
              r.budget);
  }
  // Too small for any compressor: declined, the connection runs without compression.
  EXPECT_FALSE(negotiate_server("permessage-deflate; client_max_window_bits", budget(16 * 1024)));
  EXPECT_FALSE(negotiate_server("permessage-deflate", budget(32 * 1024)));  // 15 stays: no room
}

TEST(deflate_negotiation, client_offer_follows_the_options) {
  EXPECT_EQ(client_offer(roomy), "permessage-deflate; client_max_window_bits");
  deflate_options o = budget(64 * 1024);
  o.no_context_takeover = true;
  o.peer_no_context_takeover = true;
  EXPECT_EQ(client_offer(o),
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; "
            "server_max_window_bits=12; client_max_window_bits");
  EXPECT_EQ(client_offer(budget(1024)), "");  // nothing fits: no offer
}

TEST(deflate_negotiation, client_accepts_valid_answers) {
  deflate_params p;
  EXPECT_EQ(check_server_answer("permessage-deflate", roomy, p), "");
  EXPECT_EQ(p.server_max_window_bits, 15);
  EXPECT_EQ(p.deflate_window_bits, 15);
  EXPECT_EQ(check_server_answer("permessage-deflate; server_no_context_takeover; "
                                "client_max_window_bits=10; server_max_window_bits=9",
                                roomy, p),
            "");
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_FALSE(p.client_no_context_takeover);
  EXPECT_EQ(p.server_max_window_bits, 9);
  EXPECT_EQ(p.deflate_window_bits, 10);
  // A client window of 8 is agreed, and this side then never compresses (zlib cannot).
  EXPECT_EQ(check_server_answer("permessage-deflate; client_max_window_bits=8", roomy, p), "");
  EXPECT_EQ(p.deflate_window_bits, 8);
}

TEST(deflate_negotiation, client_refuses_invalid_answers_with_a_reason) {
  deflate_options asks = budget(64 * 1024);  // offers server_max_window_bits=12
  asks.peer_no_context_takeover = true;
  struct row {
    const char* answer;
    const deflate_options* opts;
    const char* reason;
  };
  const row rows[] = {
      {"permessage-deflate; client_max_window_bits", &roomy, "needs a value"},
      {"permessage-deflate; server_max_window_bits=16", &roomy, "not a window size"},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", &roomy,
       "given twice"},
      {"permessage-deflate; mystery", &roomy, "unknown permessage-deflate parameter mystery"},
      {"permessage-deflate, permessage-deflate", &roomy, "holds 2 extensions"},
      {"x-webkit-deflate-frame", &roomy, "server chose extension x-webkit-deflate-frame"},
      {"permessage-deflate; a=\"1", &roomy, "does not parse"},
      {"permessage-deflate; server_max_window_bits=12", &asks,
       "did not acknowledge server_no_context_takeover"},
      {"permessage-deflate; server_no_context_takeover", &asks,
       "did not acknowledge server_max_window_bits=12"},
      {"permessage-deflate; server_no_context_takeover; server_max_window_bits=13", &asks,
       "did not acknowledge server_max_window_bits=12"},
  };
  for (const auto& r : rows) {
    deflate_params p;
    EXPECT_THAT(check_server_answer(r.answer, *r.opts, p), HasSubstr(r.reason)) << r.answer;
  }
  deflate_params p;
  EXPECT_EQ(
      check_server_answer(
          "permessage-deflate; server_no_context_takeover; server_max_window_bits=11", asks, p),
      "");
  EXPECT_TRUE(p.client_no_context_takeover == false);
  EXPECT_EQ(p.server_max_window_bits, 11);
}
