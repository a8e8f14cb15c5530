// Fuzzes permessage-deflate negotiation (RFC 7692 §7.1). The input gives a server's and a client's
// deflate_options (budgets, context takeover), an arbitrary offer list and an arbitrary answer.
// Checked: the server's answer to any offer is valid §7.1 (it parses, it is one
// permessage-deflate element with valid parameters) and fits its budget, never compressing
// with a window of 8; the client's checks of any answer either refuse it with a reason or give
// windows 8-15; and a real client's offer answered by a real server is always accepted, with
// what each side compresses within what the other inflates.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common.hpp"
#include "detail/deflate_negotiation.hpp"

namespace {

using namespace wsx::detail;

wsx::deflate_options options(FuzzedDataProvider& in) {
  wsx::deflate_options o;
  o.enabled = true;
  o.memory_budget = in.ConsumeIntegralInRange<std::size_t>(0, 400 * 1024);
  o.no_context_takeover = in.ConsumeBool();
  o.peer_no_context_takeover = in.ConsumeBool();
  return o;
}

void check_params(const deflate_params& p) {
  FUZZ_CHECK(p.server_max_window_bits >= 8 && p.server_max_window_bits <= 15);
  FUZZ_CHECK(p.client_max_window_bits >= 8 && p.client_max_window_bits <= 15);
  FUZZ_CHECK(p.deflate_window_bits >= 8 && p.deflate_window_bits <= 15);
  FUZZ_CHECK(p.mem_level >= 1 && p.mem_level <= 9);
}

// The server's answer is a valid one-element permessage-deflate answer.
void check_answer_shape(const std::string& answer) {
  const auto e = parse_extensions(answer);
  FUZZ_CHECK(e && e->size() == 1 && (*e)[0].name == "permessage-deflate");
  deflate_element d;
  FUZZ_CHECK(check_deflate_element((*e)[0], element_kind::answer, d).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto server = options(in);
  const auto client = options(in);
  const std::string offers = in.ConsumeRandomLengthString(300);
  const std::string answer = in.ConsumeRemainingBytesAsString();

  if (const auto a = negotiate_server(offers, server)) {
    check_params(a->params);
    FUZZ_CHECK(a->params.deflate_window_bits >= 9);  // zlib cannot compress with 8
    FUZZ_CHECK(deflate_memory(a->params.deflate_window_bits, a->params.mem_level) +
                   inflate_memory(a->params.client_max_window_bits) <=
               server.memory_budget);
    check_answer_shape(a->answer);
    FUZZ_CHECK(negotiate_server(offers, server)->answer == a->answer);  // deterministic
  }

  deflate_params p;
  const std::string why = check_server_answer(answer, client, p);
  if (why.empty()) check_params(p);

  // A real offer, a real answer: always agreed on both sides, and consistent.
  const std::string offer = client_offer(client);
  if (offer.empty()) return 0;
  const auto a = negotiate_server(offer, server);
  if (!a) return 0;
  deflate_params c;
  FUZZ_CHECK(check_server_answer(a->answer, client, c).empty());
  check_params(c);
  FUZZ_CHECK(c.deflate_window_bits <= a->params.client_max_window_bits);  // client → server
  FUZZ_CHECK(a->params.deflate_window_bits <= c.server_max_window_bits);  // server → client
  FUZZ_CHECK(c.server_no_context_takeover == a->params.server_no_context_takeover);
  FUZZ_CHECK(!a->params.client_no_context_takeover || c.client_no_context_takeover);
  return 0;
}
