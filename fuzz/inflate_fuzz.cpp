// Fuzzes the permessage-deflate decompression path (detail::deflate_codec::inflate, RFC 7692
// §7.2.2). The first bytes pick the agreement (the peer's window 8-15, context takeover or not)
// and a small inflated-size limit; the rest is a sequence of messages, each cut into pieces of
// random sizes, fed to inflate() until a message fails. Checked: a message never grows past the
// limit, and the buffer never reserves more than the limit + 1 bytes for it; the codec's zlib
// memory stays within the formula; and the same messages inflated again each in one piece give
// the same outputs and the same error (chunking does not change the outcome; the one exception,
// a peer breaking the window it agreed to, is explained below).
// WSX_FUZZ_TRACE=1 prints each message's outcome when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common.hpp"
#include "detail/deflate_codec.hpp"

namespace {

using wsx::detail::deflate_codec;
using wsx::detail::deflate_params;

struct outcome {
  std::vector<std::string> messages;
  wsx::errc error{};
};

outcome run(const deflate_params& p, std::size_t limit,
            const std::vector<std::vector<std::string>>& messages) {
  deflate_codec c{wsx::role::server, p};
  outcome o;
  for (const auto& pieces : messages) {
    std::vector<std::byte> out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const std::size_t before = out.size();
      o.error = c.inflate(wsx::as_bytes(pieces[i]), i + 1 == pieces.size(), out,
                          limit - std::min(limit, out.size()));
      if (wsx::fuzz::trace)
        std::fprintf(stderr, "piece %zu of %zu: %zu bytes in, %zu out, error %d\n", i + 1,
                     pieces.size(), pieces[i].size(), out.size() - before,
                     static_cast<int>(o.error));
      FUZZ_CHECK(out.size() <= limit);
      FUZZ_CHECK(out.capacity() <= limit + 1 || out.capacity() == before);
      FUZZ_CHECK(c.zlib_bytes() <= wsx::detail::inflate_memory(p.client_max_window_bits));
      if (o.error != wsx::errc{}) return o;
    }
    o.messages.push_back(wsx::fuzz::text_of({out.data(), out.size()}));
    if (wsx::fuzz::trace) std::fprintf(stderr, "message of %zu bytes\n", out.size());
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  deflate_params p;
  p.client_max_window_bits = in.ConsumeIntegralInRange<std::uint8_t>(8, 15);
  p.client_no_context_takeover = in.ConsumeBool();
  const std::size_t limit = in.ConsumeIntegralInRange<std::size_t>(0, 1 << 16);
  std::vector<std::vector<std::string>> split, whole;
  while (in.remaining_bytes() > 0 && split.size() < 16) {
    const auto n = in.ConsumeIntegralInRange<std::size_t>(1, 4);
    std::vector<std::string> pieces;
    std::string all;
    for (std::size_t i = 0; i < n; ++i) {
      pieces.push_back(in.ConsumeRandomLengthString(512));
      all += pieces.back();
    }
    split.push_back(std::move(pieces));
    whole.push_back({all});
  }
  const outcome a = run(p, limit, split);
  const outcome b = run(p, limit, whole);
  if (wsx::fuzz::trace)
    std::fprintf(stderr, "errors %d / %d\n", static_cast<int>(a.error), static_cast<int>(b.error));
  // zlib resolves a back reference into output of the same inflate() call even when it reaches
  // past the agreed window; across calls only the window is kept. So a peer that breaks a window
  // below 15 may be refused or accepted depending on where calls begin and end (how its bytes
  // were cut, how the output buffer grew): both runs then agree on every message before the one
  // refused. At 15 every legal distance is in reach either way, and outcomes must match exactly.
  const auto bad = wsx::errc::bad_compressed_data;
  if (p.client_max_window_bits < 15 && (a.error == bad || b.error == bad)) {
    const std::size_t n = std::min(a.messages.size(), b.messages.size());
    for (std::size_t i = 0; i < n; ++i) FUZZ_CHECK(a.messages[i] == b.messages[i]);
    return 0;
  }
  FUZZ_CHECK(a.messages == b.messages);
  // inflated_too_large may come from a piece before the bad data shows: either error is the
  // message's end, but a clean message must stay clean.
  FUZZ_CHECK((a.error == wsx::errc{}) == (b.error == wsx::errc{}));
  return 0;
}
