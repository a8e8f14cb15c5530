// Fuzzes detail::frame_decoder (RFC 6455 §5) on its own. The first input byte picks the receiving
// role (server: frames must be masked; client: must not be) and small limits; the rest is a wire
// stream cut into chunks of random sizes by FuzzedDataProvider. Each chunk is copied into a
// mutable buffer (next() unmasks in place) and next() is looped until need_more or error.
// Checked: consumed never passes the input, need_more means the chunk is used up, data payloads
// point into the consumed bytes, control payloads are close/ping/pong of at most 125 bytes,
// message pieces are sequenced (first/last, one kind, in_message()), finished text is UTF-8,
// messages stay within max_message_size, errors are sticky. Then the same stream is decoded again
// in one piece or byte by byte and must give the same messages, control frames and error.
// WSX_FUZZ_TRACE=1 prints the decoded items when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "common.hpp"
#include "detail/frame_decoder.hpp"
#include "detail/utf8.hpp"

namespace {

using wsx::detail::frame_decoder;
using result = frame_decoder::result;
using wsx::fuzz::text_of;
using wsx::fuzz::trace;

// What a decoder produced, in a form that does not depend on how the input was chunked.
struct decode_log {
  std::vector<std::string> entries;  // "M<kind>:<payload>" per message, "C<op>:<payload>"
  std::string partial;               // the message in progress
  bool in_message = false;
  wsx::message_kind kind = wsx::message_kind::binary;
  wsx::errc error{};
};

bool within(std::span<const std::byte> inner, const std::byte* begin, const std::byte* end) {
  return inner.empty() || (inner.data() >= begin && inner.data() + inner.size() <= end);
}

void on_data(const frame_decoder& d, const frame_decoder::item& it, decode_log& log,
             const frame_decoder::limits& lim) {
  // Every message starts with a `first` piece and only a `first` piece starts one.
  FUZZ_CHECK(it.first == !log.in_message);
  if (!it.first) FUZZ_CHECK(it.kind == log.kind);
  FUZZ_CHECK(d.in_message() == !it.last);
  log.in_message = !it.last;
  log.kind = it.kind;
  log.partial += text_of(it.payload);
  FUZZ_CHECK(log.partial.size() <= lim.max_message_size);
  if (!it.last) return;
  if (it.kind == wsx::message_kind::text)
    FUZZ_CHECK(wsx::detail::is_valid_utf8(wsx::as_bytes(log.partial)));
  log.entries.push_back((it.kind == wsx::message_kind::text ? "Mt:" : "Mb:") + log.partial);
  log.partial.clear();
}

// Feeds one chunk the way the API asks: next() on the unconsumed rest until need_more or error.
// Returns false once the decoder has failed.
bool feed(frame_decoder& d, std::span<std::byte> chunk, decode_log& log,
          const frame_decoder::limits& lim) {
  std::size_t pos = 0;
  int idle_items = 0;
  for (;;) {
    const auto in = chunk.subspan(pos);
    std::size_t used = 0;
    const auto it = d.next(in, used);
    FUZZ_CHECK(used <= in.size());
    if (trace)
      std::fprintf(stderr, "  item type=%d used=%zu payload=%zu first=%d last=%d op=%d\n",
                   static_cast<int>(it.type), used, it.payload.size(), it.first, it.last,
                   static_cast<int>(it.op));
    switch (it.type) {
      case result::need_more:
        // "`in` is used up (or holds only part of a header)": either way nothing is left over.
        FUZZ_CHECK(used == in.size());
        return true;
      case result::error: {
        FUZZ_CHECK(d.failed());
        FUZZ_CHECK(d.error() != wsx::errc{});
        log.error = d.error();
        // Sticky: the same error again, nothing consumed.
        std::size_t again = 0;
        const auto it2 = d.next(in.subspan(used), again);
        FUZZ_CHECK(it2.type == result::error);
        FUZZ_CHECK(again == 0);
        FUZZ_CHECK(d.error() == log.error);
        return false;
      }
      case result::data:
        FUZZ_CHECK(within(it.payload, in.data(), in.data() + used));
        on_data(d, it, log, lim);
        break;
      case result::control:
        FUZZ_CHECK(it.op == wsx::opcode::close || it.op == wsx::opcode::ping ||
                   it.op == wsx::opcode::pong);
        FUZZ_CHECK(it.payload.size() <= 125);
        // A control payload outside `in` lives in the decoder; inside `in` it must be consumed.
        if (it.payload.data() >= in.data() && it.payload.data() < in.data() + in.size())
          FUZZ_CHECK(within(it.payload, in.data(), in.data() + used));
        // Control frames may sit between fragments without disturbing the message.
        FUZZ_CHECK(d.in_message() == log.in_message);
        log.entries.push_back("C" + std::to_string(static_cast<int>(it.op)) + ":" +
                              text_of(it.payload));
        break;
    }
    // An item that used no input must not repeat, or a caller would spin forever.
    idle_items = used == 0 ? idle_items + 1 : 0;
    FUZZ_CHECK(idle_items < 2);
    pos += used;
  }
}

decode_log decode(wsx::role receiver, const frame_decoder::limits& lim,
                  const std::vector<std::vector<std::byte>>& chunks) {
  frame_decoder d{receiver, lim};
  decode_log log;
  for (const auto& c : chunks) {
    std::vector<std::byte> buf = c;  // next() unmasks in place
    if (trace) std::fprintf(stderr, " chunk %zu\n", buf.size());
    if (!feed(d, buf, log, lim)) break;
  }
  return log;
}

constexpr std::size_t pick_limit(unsigned sel, std::size_t a, std::size_t b, std::size_t c) {
  return sel == 0 ? SIZE_MAX : sel == 1 ? a : sel == 2 ? b : c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const unsigned setup = data[0];
  const wsx::role receiver = (setup & 1) ? wsx::role::client : wsx::role::server;
  frame_decoder::limits lim;
  lim.max_frame_payload = pick_limit((setup >> 1) & 3, 0, 125, 300);
  lim.max_message_size = pick_limit((setup >> 3) & 3, 10, 200, 1000);
  lim.max_fragments = pick_limit((setup >> 5) & 3, 1, 3, 16);
  const bool reference_bytewise = (setup & 0x80) != 0;

  // Cut the stream first, so that the reference runs see exactly the bytes the chunked run saw.
  FuzzedDataProvider fdp(data + 1, size - 1);
  std::vector<std::vector<std::byte>> chunks;
  std::vector<std::byte> whole;
  while (fdp.remaining_bytes() > 0) {
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(1, 256);
    const auto bytes = fdp.ConsumeBytes<std::uint8_t>(n);
    auto& c = chunks.emplace_back(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) c[i] = static_cast<std::byte>(bytes[i]);
    whole.insert(whole.end(), c.begin(), c.end());
  }

  if (trace) std::fprintf(stderr, "chunked run (%zu chunks)\n", chunks.size());
  const decode_log got = decode(receiver, lim, chunks);

  std::vector<std::vector<std::byte>> ref_chunks;
  if (reference_bytewise) {
    for (const std::byte b : whole) ref_chunks.push_back({b});
  } else {
    ref_chunks.push_back(whole);
  }
  if (trace) std::fprintf(stderr, "reference run (%zu chunks)\n", ref_chunks.size());
  const decode_log ref = decode(receiver, lim, ref_chunks);

  // Chunking invariance: the same messages, control frames and error whatever the cuts. The
  // bytes of a message cut short by an error may differ (a bad UTF-8 piece fails whole).
  FUZZ_CHECK(got.entries == ref.entries);
  FUZZ_CHECK(got.error == ref.error);
  if (got.error == wsx::errc{}) {
    FUZZ_CHECK(got.in_message == ref.in_message);
    FUZZ_CHECK(got.partial == ref.partial);
  }
  return 0;
}
