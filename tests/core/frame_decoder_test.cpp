// Tests for detail::frame_decoder (RFC 6455 §5). Transcript tests put the wire bytes next to the
// items the decoder must report; properties check that any way of cutting the same wire bytes
// into calls (whole, random cuts, byte by byte) reports the same messages, control frames and
// error, and that those match what the generator encoded.
#include "detail/frame_decoder.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

using wsx::errc;
using wsx::message_kind;
using wsx::opcode;
using wsx::role;
using wsx::detail::frame_decoder;
using wsx::detail::mask_key;
using wsx::test::bytes;
using result = frame_decoder::result;
using byte_vector = std::vector<std::byte>;
using transcript = std::vector<std::string>;

// ---- naming ----------------------------------------------------------------------------------

std::string name(errc e) {
  switch (e) {
    case errc::bad_opcode:
      return "bad_opcode";
    case errc::reserved_bits:
      return "reserved_bits";
    case errc::bad_masking:
      return "bad_masking";
    case errc::fragmented_control:
      return "fragmented_control";
    case errc::control_too_large:
      return "control_too_large";
    case errc::bad_continuation:
      return "bad_continuation";
    case errc::expected_continuation:
      return "expected_continuation";
    case errc::bad_length:
      return "bad_length";
    case errc::invalid_utf8:
      return "invalid_utf8";
    case errc::frame_too_large:
      return "frame_too_large";
    case errc::message_too_large:
      return "message_too_large";
    case errc::too_many_fragments:
      return "too_many_fragments";
    default:
      return "errc(" + std::to_string(static_cast<int>(e)) + ")";
  }
}

std::string name(opcode op) {
  switch (op) {
    case opcode::continuation:
      return "continuation";
    case opcode::text:
      return "text";
    case opcode::binary:
      return "binary";
    case opcode::close:
      return "close";
    case opcode::ping:
      return "ping";
    case opcode::pong:
      return "pong";
  }
  return "opcode(" + std::to_string(static_cast<int>(op)) + ")";
}

// Printable ASCII as is, everything else as \xNN; long payloads only by size.
std::string show(wsx::bytes_view p) {
  if (p.size() > 40) return "<" + std::to_string(p.size()) + " bytes>";
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (std::byte b : p) {
    const auto c = std::to_integer<unsigned>(b);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out + "\"";
}

// ---- building wire bytes ----------------------------------------------------------------------
// Independent of frame_encoder, so these tests do not trust the unit they would round-trip with.

struct frame {
  bool fin = true;
  unsigned rsv = 0;  // RSV1-3 as bits 2..0 (4 = RSV1)
  unsigned op = 1;   // raw opcode, reserved values allowed
  std::optional<mask_key> key;
  byte_vector payload;
  std::optional<std::uint64_t> declared;  // header length when it differs from payload.size()
};

frame text_frame(std::string_view s, bool fin = true) { return {fin, 0, 1, {}, bytes(s), {}}; }
frame binary_frame(byte_vector p, bool fin = true) { return {fin, 0, 2, {}, std::move(p), {}}; }
frame continuation(std::string_view s, bool fin) { return {fin, 0, 0, {}, bytes(s), {}}; }
frame control(opcode op, std::string_view s) {
  return {true, 0, static_cast<unsigned>(op), {}, bytes(s), {}};
}
frame masked(frame f,
             mask_key k = {std::byte{0x37}, std::byte{0xFA}, std::byte{0x21}, std::byte{0x3D}}) {
  f.key = k;
  return f;
}

void put(byte_vector& out, std::uint64_t v) { out.push_back(static_cast<std::byte>(v & 0xFF)); }

byte_vector wire(const frame& f) {
  byte_vector out;
  put(out, (f.fin ? 0x80u : 0u) | (f.rsv << 4) | f.op);
  const std::uint64_t n = f.declared.value_or(f.payload.size());
  const std::uint64_t mask_bit = f.key ? 0x80 : 0;
  if (n < 126) {
    put(out, mask_bit | n);
  } else if (n <= 0xFFFF) {
    put(out, mask_bit | 126);
    put(out, n >> 8);
    put(out, n);
  } else {
    put(out, mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) put(out, n >> shift);
  }
  if (f.key) out.insert(out.end(), f.key->begin(), f.key->end());
  for (std::size_t i = 0; i < f.payload.size(); ++i) {
    out.push_back(f.key ? f.payload[i] ^ (*f.key)[i % 4] : f.payload[i]);
  }
  return out;
}

byte_vector wire(std::initializer_list<frame> frames) {
  byte_vector out;
  for (const frame& f : frames) {
    const auto w = wire(f);
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

// ---- driving the decoder ----------------------------------------------------------------------

std::string describe(const frame_decoder::item& it) {
  if (it.type == result::control) return name(it.op) + " " + show(it.payload);
  std::string s = it.kind == message_kind::text ? "text" : "binary";
  if (it.first) s += " first";
  if (it.last) s += " last";
  return s + " " + show(it.payload);
}

// Cuts `w` into consecutive chunks of the given sizes (what is left is one more chunk) and feeds
// each to `d` until need_more. Calls `on_item` for each data/control item; returns the error, if
// any. Checks the calling contract on the way (`consumed` only grows, never past the chunk; each
// item uses input; data payloads point into the chunk; the chunk is used up when the decoder
// asks for more); a breach is added to `out`, so it shows in the transcript under test and a
// property shrinks towards it.
template <typename OnItem>
std::optional<errc> feed(frame_decoder& d, byte_vector& w, const std::vector<std::size_t>& cuts,
                         transcript& out, OnItem on_item) {
  std::vector<std::span<std::byte>> chunks;
  std::size_t at = 0;
  for (std::size_t c : cuts) {
    const std::size_t len = std::min(c, w.size() - at);
    chunks.emplace_back(w.data() + at, len);
    at += len;
  }
  if (at < w.size()) chunks.emplace_back(w.data() + at, w.size() - at);
  for (const std::span<std::byte> chunk : chunks) {
    std::size_t consumed = 0;
    for (;;) {
      const std::size_t before = consumed;
      const auto it = d.next(chunk.subspan(consumed), consumed);
      if (consumed < before || consumed > chunk.size()) {
        out.push_back("contract: consumed went from " + std::to_string(before) + " to " +
                      std::to_string(consumed) + " in a chunk of " + std::to_string(chunk.size()));
        return std::nullopt;
      }
      if (it.type == result::error) {
        if (!d.failed()) out.push_back("contract: error item but failed() is false");
        return d.error();
      }
      if (it.type == result::need_more) {
        if (consumed != chunk.size()) out.push_back("contract: need_more with input left");
        break;
      }
      // every item ends a header or carries payload bytes, so it uses at least one byte
      if (consumed == before) {
        out.push_back("contract: " + describe(it) + " used no input");
        return std::nullopt;
      }
      if (it.type == result::data && !it.payload.empty() &&
          (it.payload.data() < chunk.data() ||
           it.payload.data() + it.payload.size() > chunk.data() + chunk.size())) {
        out.push_back("contract: data payload outside the input");
      }
      on_item(it);
    }
  }
  return std::nullopt;
}

// Every item as a transcript line, then "error <name>" if the stream failed.
transcript pieces(role receiver, byte_vector w, const std::vector<std::size_t>& cuts = {},
                  frame_decoder::limits l = {}) {
  frame_decoder d{receiver, l};
  transcript out;
  const auto e =
      feed(d, w, cuts, out, [&](const frame_decoder::item& it) { out.push_back(describe(it)); });
  if (e) out.push_back("error " + name(*e));
  return out;
}

std::vector<std::size_t> byte_at_a_time(std::size_t n) { return std::vector<std::size_t>(n, 1); }

// Whole messages and control frames: data pieces are joined per message, a message is reported
// when its last piece arrives, then "error <name>" if the stream failed. A message still
// unfinished when the stream fails is not reported.
transcript messages(role receiver, byte_vector w, const std::vector<std::size_t>& cuts = {},
                    frame_decoder::limits l = {}) {
  frame_decoder d{receiver, l};
  transcript out;
  byte_vector assembling;
  bool in_message = false;
  const auto e = feed(d, w, cuts, out, [&](const frame_decoder::item& it) {
    if (it.type == result::control) {
      out.push_back(name(it.op) + " " + show(it.payload));
      return;
    }
    if (it.first == in_message) out.push_back("contract: wrong first flag on " + describe(it));
    if (it.first) assembling.clear();
    in_message = !it.last;
    assembling.insert(assembling.end(), it.payload.begin(), it.payload.end());
    if (it.last) {
      out.push_back((it.kind == message_kind::text ? "text " : "binary ") + show(assembling));
    }
  });
  if (e) out.push_back("error " + name(*e));
  return out;
}

byte_vector pattern(std::size_t n, std::uint32_t seed = 1) {
  byte_vector out(n);
  std::minstd_rand r{seed};
  for (auto& b : out) b = static_cast<std::byte>(r() & 0xFF);
  return out;
}

// ---- RFC 6455 §5.7 examples ---------------------------------------------------------------------

TEST(frame_decoder, rfc_examples) {
  // single-frame unmasked text, as a client receives it
  EXPECT_EQ(pieces(role::client, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})),
            transcript{"text first last \"Hello\""});
  // single-frame masked text, as a server receives it
  EXPECT_EQ(pieces(role::server,
                   bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})),
            transcript{"text first last \"Hello\""});
  // fragmented unmasked text
  EXPECT_EQ(pieces(role::client, bytes({0x01, 0x03, 0x48, 0x65, 0x6c,  // "Hel"
                                        0x80, 0x02, 0x6c, 0x6f})),     // "lo"
            (transcript{"text first \"Hel\"", "text last \"lo\""}));
  // unmasked ping, masked pong
  EXPECT_EQ(pieces(role::client, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})),
            transcript{"ping \"Hello\""});
  EXPECT_EQ(pieces(role::server,
                   bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})),
            transcript{"pong \"Hello\""});
  // 256 bytes binary in one unmasked frame (16-bit length)
  auto w = bytes({0x82, 0x7E, 0x01, 0x00});
  const auto p = pattern(256);
  w.insert(w.end(), p.begin(), p.end());
  EXPECT_EQ(pieces(role::client, w), transcript{"binary first last <256 bytes>"});
  // 64 KiB binary in one unmasked frame (64-bit length)
  w = bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00});
  const auto q = pattern(65536);
  w.insert(w.end(), q.begin(), q.end());
  EXPECT_EQ(pieces(role::client, w), transcript{"binary first last <65536 bytes>"});
}

// ---- length forms ----------------------------------------------------------------------------

TEST(frame_decoder, every_length_form_delivers_the_payload) {
  struct form {
    std::size_t n;
    std::size_t header;  // unmasked
  };
  for (const form f : {form{0, 2}, form{1, 2}, form{125, 2}, form{126, 4}, form{127, 4},
                       form{65535, 4}, form{65536, 10}, form{65537, 10}}) {
    for (const role receiver : {role::client, role::server}) {
      SCOPED_TRACE("n=" + std::to_string(f.n) + (receiver == role::server ? " masked" : ""));
      const auto payload = pattern(f.n, static_cast<std::uint32_t>(f.n + 7));
      frame fr = binary_frame(payload);
      if (receiver == role::server) {
        fr = masked(fr, {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{0xF0}});
      }
      auto w = wire(fr);
      ASSERT_EQ(w.size(), f.header + (receiver == role::server ? 4 : 0) + f.n);

      frame_decoder d{receiver, {}};
      std::size_t consumed = 0;
      const auto it = d.next(w, consumed);
      ASSERT_EQ(it.type, result::data);
      EXPECT_EQ(consumed, w.size());
      EXPECT_TRUE(it.first);
      EXPECT_TRUE(it.last);
      EXPECT_EQ(it.kind, message_kind::binary);
      EXPECT_EQ(byte_vector(it.payload.begin(), it.payload.end()), payload);
      // the payload is unmasked in place: it points into the caller's buffer
      if (f.n > 0) {
        EXPECT_EQ(it.payload.data(), w.data() + (w.size() - f.n));
      }
      EXPECT_EQ(d.next(std::span<std::byte>(w).subspan(consumed), consumed).type,
                result::need_more);
      EXPECT_FALSE(d.in_message());
    }
  }
}

TEST(frame_decoder, declared_length_beyond_4_gib) {
  //  82 7F 00 00 00 01 00 00 00 05  → binary, 2^32 + 5 bytes declared
  const auto header = bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05});
  // with a limit: rejected from the header alone
  EXPECT_EQ(pieces(role::client, header, {}, {.max_frame_payload = 1 << 20}),
            transcript{"error frame_too_large"});
  EXPECT_EQ(
      pieces(role::client, header, byte_at_a_time(header.size()), {.max_frame_payload = 1 << 20}),
      transcript{"error frame_too_large"});
  // the message limit catches it too when the frame limit does not
  EXPECT_EQ(pieces(role::client, header, {}, {.max_message_size = 0xFFFFFFFF}),
            transcript{"error message_too_large"});
  // without limits the frame streams: pieces are handed out as they arrive, none is last
  auto w = header;
  w.insert(w.end(), 3, std::byte{'x'});
  EXPECT_EQ(pieces(role::client, w, {11, 2}), (transcript{"binary first \"x\"", "binary \"xx\""}));
}

TEST(frame_decoder, length_with_most_significant_bit_set_is_bad_length) {
  // 82 7F 80 00 00 00 00 00 00 01   → bad_length
  EXPECT_EQ(pieces(role::client, bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1})),
            transcript{"error bad_length"});
  // 82 7F FF FF FF FF FF FF FF FF   → bad_length, even with a limit that would also reject it
  EXPECT_EQ(
      pieces(role::client, bytes({0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), {},
             {.max_frame_payload = 10}),
      transcript{"error bad_length"});
  // 2^63 - 1 is a legal (if absurd) length
  frame_decoder d{role::client, {}};
  auto w = bytes({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  std::size_t consumed = 0;
  EXPECT_EQ(d.next(w, consumed).type, result::need_more);
  EXPECT_EQ(consumed, 10u);
  EXPECT_FALSE(d.failed());
}

TEST(frame_decoder, non_minimal_length_encodings_are_accepted) {
  // RFC 6455 §5.2 tells the sender to use the minimal length form; this receiver does not
  // enforce it, and judges control frames by the length value, not by the form.
  //  82 7E 00 02 "ab"                    → binary "ab"  (16-bit form for 2)
  //  82 7F 00 00 00 00 00 00 00 02 "ab"  → binary "ab"  (64-bit form for 2)
  //  89 7E 00 01 "p"                     → ping "p"     (16-bit form for 1)
  EXPECT_EQ(pieces(role::client, bytes({0x82, 0x7E, 0x00, 0x02, 'a', 'b'})),
            transcript{"binary first last \"ab\""});
  EXPECT_EQ(pieces(role::client, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x02, 'a', 'b'})),
            transcript{"binary first last \"ab\""});
  EXPECT_EQ(pieces(role::client, bytes({0x89, 0x7E, 0x00, 0x01, 'p'})), transcript{"ping \"p\""});
}

// ---- header rules ------------------------------------------------------------------------------

TEST(frame_decoder, masking_must_match_the_receiver) {
  // RFC 6455 §5.1: a server fails on an unmasked frame, a client on a masked one.
  //   81 02 "hi"               → server: bad_masking
  //   81 82 <key> <masked hi>  → client: bad_masking
  EXPECT_EQ(pieces(role::server, wire(text_frame("hi"))), transcript{"error bad_masking"});
  EXPECT_EQ(pieces(role::client, wire(masked(text_frame("hi")))), transcript{"error bad_masking"});
  EXPECT_EQ(pieces(role::server, wire(control(opcode::ping, ""))), transcript{"error bad_masking"});
  EXPECT_EQ(pieces(role::client, wire(masked(control(opcode::close, "")))),
            transcript{"error bad_masking"});
  EXPECT_EQ(pieces(role::server, wire(masked(text_frame("hi")))),
            transcript{"text first last \"hi\""});
  EXPECT_EQ(pieces(role::client, wire(text_frame("hi"))), transcript{"text first last \"hi\""});
  // an all-zero key is still a masked frame
  EXPECT_EQ(pieces(role::server, wire(masked(text_frame("hi"), {}))),
            transcript{"text first last \"hi\""});
}

TEST(frame_decoder, reserved_bits_fail) {
  for (unsigned rsv : {4u, 2u, 1u, 7u}) {  // RSV1, RSV2, RSV3, all
    SCOPED_TRACE("rsv=" + std::to_string(rsv));
    frame f = text_frame("a");
    f.rsv = rsv;
    EXPECT_EQ(pieces(role::client, wire(f)), transcript{"error reserved_bits"});
    f = control(opcode::ping, "");
    f.rsv = rsv;
    EXPECT_EQ(pieces(role::client, wire(f)), transcript{"error reserved_bits"});
  }
}

TEST(frame_decoder, reserved_opcodes_fail) {
  for (unsigned op : {3u, 4u, 5u, 6u, 7u, 11u, 12u, 13u, 14u, 15u}) {
    SCOPED_TRACE("op=" + std::to_string(op));
    const frame f{true, 0, op, {}, {}, {}};
    EXPECT_EQ(pieces(role::client, wire(f)), transcript{"error bad_opcode"});
    EXPECT_EQ(pieces(role::server, wire(masked(f))), transcript{"error bad_opcode"});
    // also in the middle of a fragmented message
    EXPECT_EQ(pieces(role::client, wire({text_frame("a", false), f})),
              (transcript{"text first \"a\"", "error bad_opcode"}));
  }
}

TEST(frame_decoder, control_frames_must_not_be_fragmented) {
  // 09 00  (ping, FIN=0) → fragmented_control; likewise close and pong
  for (opcode op : {opcode::close, opcode::ping, opcode::pong}) {
    SCOPED_TRACE(name(op));
    frame f = control(op, "x");
    f.fin = false;
    EXPECT_EQ(pieces(role::client, wire(f)), transcript{"error fragmented_control"});
  }
}

TEST(frame_decoder, control_payload_over_125_is_rejected) {
  // 89 7D <125 bytes>  → ping
  // 89 7E 00 7E ...    → control_too_large (16-bit form, even for a small value)
  frame f = control(opcode::ping, "");
  f.payload = pattern(125);
  EXPECT_EQ(pieces(role::client, wire(f)), transcript{"ping <125 bytes>"});
  f.payload = pattern(126);
  EXPECT_EQ(pieces(role::client, wire(f)), transcript{"error control_too_large"});
  EXPECT_EQ(pieces(role::client, bytes({0x8A, 0x7E, 0x00, 0x7E})),
            transcript{"error control_too_large"});
  EXPECT_EQ(pieces(role::client, bytes({0x88, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0})),
            transcript{"error control_too_large"});
}

// ---- fragmentation -----------------------------------------------------------------------------

TEST(frame_decoder, continuation_without_a_message_is_bad_continuation) {
  // 80 01 "a"  → bad_continuation
  EXPECT_EQ(pieces(role::client, wire(continuation("a", true))),
            transcript{"error bad_continuation"});
  EXPECT_EQ(pieces(role::client, wire(continuation("a", false))),
            transcript{"error bad_continuation"});
  // after a finished message there is nothing to continue
  EXPECT_EQ(pieces(role::client, wire({text_frame("ab"), continuation("c", true)})),
            (transcript{"text first last \"ab\"", "error bad_continuation"}));
  EXPECT_EQ(pieces(role::client, wire({text_frame("a", false), continuation("b", true),
                                       continuation("c", true)})),
            (transcript{"text first \"a\"", "text last \"b\"", "error bad_continuation"}));
}

TEST(frame_decoder, new_message_while_fragmented_is_expected_continuation) {
  // 01 01 "a" | 81 01 "b"  → expected_continuation
  EXPECT_EQ(pieces(role::client, wire({text_frame("a", false), text_frame("b")})),
            (transcript{"text first \"a\"", "error expected_continuation"}));
  EXPECT_EQ(pieces(role::client, wire({binary_frame(bytes("a"), false), binary_frame(bytes("b"))})),
            (transcript{"binary first \"a\"", "error expected_continuation"}));
  EXPECT_EQ(pieces(role::client, wire({text_frame("a", false), continuation("b", false),
                                       binary_frame(bytes("c"), false)})),
            (transcript{"text first \"a\"", "text \"b\"", "error expected_continuation"}));
}

TEST(frame_decoder, control_frames_between_fragments_are_allowed) {
  //  01 03 "Hel"      → text first "Hel"
  //  89 02 "p1"       → ping "p1"
  //  0A 00            → pong ""     (FIN=1 control: 8A)
  //  00 01 "l"        → text "l"
  //  88 02 03 E8      → close "\x03\xE8"
  //  80 01 "o"        → text last "o"
  const auto w =
      wire({text_frame("Hel", false), control(opcode::ping, "p1"), control(opcode::pong, ""),
            continuation("l", false), control(opcode::close, "\x03\xE8"), continuation("o", true)});
  const transcript expected{"text first \"Hel\"", "ping \"p1\"",          "pong \"\"",
                            "text \"l\"",         "close \"\\x03\\xE8\"", "text last \"o\""};
  EXPECT_EQ(pieces(role::client, w), expected);
  EXPECT_EQ(messages(role::client, w, byte_at_a_time(w.size())),
            (transcript{"ping \"p1\"", "pong \"\"", "close \"\\x03\\xE8\"", "text \"Hello\""}));
}

TEST(frame_decoder, first_and_last_flags_over_fragments) {
  // three fragments, each fed in two pieces (header + 1 byte, then the rest)
  //  02 02 "ab" | 00 02 "cd" | 80 02 "ef"
  const auto w =
      wire({binary_frame(bytes("ab"), false), continuation("cd", false), continuation("ef", true)});
  EXPECT_EQ(pieces(role::client, w, {3, 1, 3, 1, 3, 1}),
            (transcript{"binary first \"a\"", "binary \"b\"", "binary \"c\"", "binary \"d\"",
                        "binary \"e\"", "binary last \"f\""}));
  frame_decoder d{role::client, {}};
  auto copy = w;
  std::size_t consumed = 0;
  EXPECT_FALSE(d.in_message());
  EXPECT_EQ(d.next(copy, consumed).type, result::data);
  EXPECT_TRUE(d.in_message());
  EXPECT_EQ(d.next(std::span<std::byte>(copy).subspan(consumed), consumed).type, result::data);
  EXPECT_TRUE(d.in_message());
  EXPECT_EQ(d.next(std::span<std::byte>(copy).subspan(consumed), consumed).type, result::data);
  EXPECT_FALSE(d.in_message());
}

TEST(frame_decoder, empty_frames_yield_exactly_one_data_item) {
  // 81 00          → text first last ""
  EXPECT_EQ(pieces(role::client, bytes({0x81, 0x00})), transcript{"text first last \"\""});
  EXPECT_EQ(pieces(role::client, bytes({0x81, 0x00}), {1, 1}), transcript{"text first last \"\""});
  // 82 80 <key>    → binary first last ""  (masked, header fed byte by byte)
  const auto m = wire(masked(binary_frame({})));
  EXPECT_EQ(pieces(role::server, m, byte_at_a_time(m.size())),
            transcript{"binary first last \"\""});
  // 01 00 | 00 00 | 80 00  → three empty pieces
  const auto w = wire({text_frame("", false), continuation("", false), continuation("", true)});
  const transcript expected{"text first \"\"", "text \"\"", "text last \"\""};
  EXPECT_EQ(pieces(role::client, w), expected);
  EXPECT_EQ(pieces(role::client, w, byte_at_a_time(w.size())), expected);
  // a non-empty frame never yields an empty piece, whatever the cuts
  const auto h = wire(text_frame("abc"));
  EXPECT_EQ(pieces(role::client, h, byte_at_a_time(h.size())),
            (transcript{"text first \"a\"", "text \"b\"", "text last \"c\""}));
  EXPECT_EQ(pieces(role::client, h, {2, 0, 0, 3}), transcript{"text first last \"abc\""});
}

// ---- limits ------------------------------------------------------------------------------------

TEST(frame_decoder, max_frame_payload) {
  const frame_decoder::limits l{.max_frame_payload = 4};
  //  81 04 "abcd"   → at the limit: fine
  //  81 05 "abcde"  → frame_too_large, before any payload is handed out
  EXPECT_EQ(pieces(role::client, wire(text_frame("abcd")), {}, l),
            transcript{"text first last \"abcd\""});
  EXPECT_EQ(pieces(role::client, wire(text_frame("abcde")), {}, l),
            transcript{"error frame_too_large"});
  // the limit is per frame: a 6-byte message in 4 + 2 is fine
  EXPECT_EQ(
      messages(role::client, wire({text_frame("abcd", false), continuation("ef", true)}), {}, l),
      transcript{"text \"abcdef\""});
  EXPECT_EQ(
      pieces(role::client, wire({text_frame("abcd", false), continuation("efghi", true)}), {}, l),
      (transcript{"text first \"abcd\"", "error frame_too_large"}));
  // control frames are bounded by 125, not by this limit
  EXPECT_EQ(pieces(role::client, wire(control(opcode::ping, "123456789")), {}, l),
            transcript{"ping \"123456789\""});
}

TEST(frame_decoder, max_message_size_counts_across_fragments) {
  const frame_decoder::limits l{.max_message_size = 6};
  //  01 03 "abc" | 00 03 "def" | 80 00       → 6 bytes: fine
  EXPECT_EQ(
      messages(role::client,
               wire({text_frame("abc", false), continuation("def", false), continuation("", true)}),
               {}, l),
      transcript{"text \"abcdef\""});
  //  01 03 "abc" | 00 03 "def" | 80 01 "g"   → the third frame crosses the limit
  EXPECT_EQ(
      pieces(role::client,
             wire({text_frame("abc", false), continuation("def", false), continuation("g", true)}),
             {}, l),
      (transcript{"text first \"abc\"", "text \"def\"", "error message_too_large"}));
  // the count starts again with each message
  EXPECT_EQ(messages(role::client,
                     wire({text_frame("abc", false), continuation("def", true),
                           binary_frame(bytes("ghijkl"))}),
                     {}, l),
            (transcript{"text \"abcdef\"", "binary \"ghijkl\""}));
  EXPECT_EQ(pieces(role::client, wire(binary_frame(bytes("ghijklm"))), {}, l),
            transcript{"error message_too_large"});
}

TEST(frame_decoder, max_fragments) {
  const frame_decoder::limits l{.max_fragments = 3};
  EXPECT_EQ(
      messages(role::client,
               wire({text_frame("a", false), continuation("b", false), continuation("c", true),
                     text_frame("d", false), continuation("e", false), continuation("f", true)}),
               {}, l),
      (transcript{"text \"abc\"", "text \"def\""}));
  EXPECT_EQ(
      pieces(role::client,
             wire({text_frame("a", false), continuation("b", false), continuation("c", false),
                   continuation("d", true)}),
             {}, l),
      (transcript{"text first \"a\"", "text \"b\"", "text \"c\"", "error too_many_fragments"}));
  // control frames in between are not fragments
  EXPECT_EQ(
      messages(role::client,
               wire({text_frame("a", false), control(opcode::ping, ""), continuation("b", false),
                     control(opcode::pong, ""), continuation("c", true)}),
               {}, l),
      (transcript{"ping \"\"", "pong \"\"", "text \"abc\""}));
  EXPECT_EQ(pieces(role::client, wire(text_frame("a")), {}, {.max_fragments = 0}),
            transcript{"error too_many_fragments"});
}

// ---- UTF-8 --------------------------------------------------------------------------------------

TEST(frame_decoder, invalid_utf8_fails_at_the_piece_carrying_it) {
  // 81 04 "ab" FF "c"  → invalid_utf8, no data item
  EXPECT_EQ(pieces(role::client, wire(text_frame("ab\xFF"
                                                 "c"))),
            transcript{"error invalid_utf8"});
  // fed as 81 04 "ab" | FF "c": the valid half is delivered, the rest fails (fail fast)
  EXPECT_EQ(pieces(role::client,
                   wire(text_frame("ab\xFF"
                                   "c")),
                   {4}),
            (transcript{"text first \"ab\"", "error invalid_utf8"}));
  // masked, cut inside the payload
  const auto m = wire(masked(text_frame("hello \xC0\xAF world")));
  EXPECT_EQ(pieces(role::server, m, {6 + 4}),
            (transcript{"text first \"hell\"", "error invalid_utf8"}));
  // an impossible prefix fails at once: F4 90 can never become a code point ≤ U+10FFFF,
  // so the error comes before the frame (or the message) is complete
  EXPECT_EQ(pieces(role::client, wire({text_frame("a\xF4", false), continuation("\x90", false)})),
            (transcript{"text first \"a\\xF4\"", "error invalid_utf8"}));
  // a UTF-16 surrogate half (ED A0 80)
  EXPECT_EQ(pieces(role::client, wire(text_frame("\xED\xA0\x80"))),
            transcript{"error invalid_utf8"});
  // binary messages are not checked
  EXPECT_EQ(pieces(role::client, wire(binary_frame(bytes("\xFF\xFE")))),
            transcript{"binary first last \"\\xFF\\xFE\""});
}

TEST(frame_decoder, code_point_split_across_fragments_and_calls_is_fine) {
  // "€" = E2 82 AC split over three frames; "😀" = F0 9F 98 80 split over two calls
  //  01 01 E2 | 00 01 82 | 80 01 AC  → text "€"
  EXPECT_EQ(messages(role::client, wire({text_frame("\xE2", false), continuation("\x82", false),
                                         continuation("\xAC", true)})),
            transcript{"text \"\\xE2\\x82\\xAC\""});
  const auto w = wire(text_frame("x\xF0\x9F\x98\x80y"));
  //  81 06 "x" F0 9F | 98 80 "y"
  EXPECT_EQ(pieces(role::client, w, {5}),
            (transcript{"text first \"x\\xF0\\x9F\"", "text last \"\\x98\\x80y\""}));
  EXPECT_EQ(messages(role::client, w, byte_at_a_time(w.size())),
            transcript{"text \"x\\xF0\\x9F\\x98\\x80y\""});
}

TEST(frame_decoder, text_message_ending_mid_code_point_is_invalid) {
  //  81 02 "a" E2  → invalid_utf8 (the message ends inside "€")
  EXPECT_EQ(pieces(role::client, wire(text_frame("a\xE2"))), transcript{"error invalid_utf8"});
  //  01 02 "a" E2 | 80 00  → the empty final fragment ends the message mid code point
  EXPECT_EQ(pieces(role::client, wire({text_frame("a\xE2", false), continuation("", true)})),
            (transcript{"text first \"a\\xE2\"", "error invalid_utf8"}));
  //  01 01 E2 | 80 01 82  → two of three bytes
  EXPECT_EQ(pieces(role::client, wire({text_frame("\xE2", false), continuation("\x82", true)})),
            (transcript{"text first \"\\xE2\"", "error invalid_utf8"}));
  // a control frame between fragments does not end the message
  EXPECT_EQ(messages(role::client, wire({text_frame("\xE2\x82", false), control(opcode::ping, ""),
                                         continuation("\xAC", true)})),
            (transcript{"ping \"\"", "text \"\\xE2\\x82\\xAC\""}));
}

TEST(frame_decoder, utf8_state_starts_fresh_with_each_message) {
  // a binary message ending in a lead byte leaves nothing pending for the next text message
  EXPECT_EQ(messages(role::client, wire({binary_frame(bytes("\xE2")), text_frame("\x82\xAC")})),
            (transcript{"binary \"\\xE2\"", "error invalid_utf8"}));
  EXPECT_EQ(messages(role::client, wire({binary_frame(bytes("\xE2")), text_frame("ok")})),
            (transcript{"binary \"\\xE2\"", "text \"ok\""}));
}

// ---- errors are sticky --------------------------------------------------------------------------

TEST(frame_decoder, errors_are_sticky) {
  frame_decoder d{role::client, {}};
  auto bad = bytes({0x83, 0x00});  // reserved opcode 3
  std::size_t consumed = 0;
  EXPECT_EQ(d.next(bad, consumed).type, result::error);
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(name(d.error()), "bad_opcode");
  auto good = wire(text_frame("fine"));
  for (int i = 0; i < 3; ++i) {
    std::size_t c = 5;
    EXPECT_EQ(d.next(good, c).type, result::error);
    EXPECT_EQ(c, 5u) << "a failed decoder consumes nothing";
    EXPECT_EQ(name(d.error()), "bad_opcode");
  }
  EXPECT_EQ(good, wire(text_frame("fine"))) << "and touches nothing";
}

// ---- calling contract ---------------------------------------------------------------------------

TEST(frame_decoder, next_adds_to_consumed) {
  frame_decoder d{role::client, {}};
  auto w = wire({text_frame("ab"), control(opcode::ping, "")});
  std::size_t consumed = 100;
  EXPECT_EQ(d.next(w, consumed).type, result::data);
  EXPECT_EQ(consumed, 104u);
  std::size_t more = 7;
  EXPECT_EQ(d.next(std::span<std::byte>(w).subspan(4), more).type, result::control);
  EXPECT_EQ(more, 9u);
}

TEST(frame_decoder, control_frames_split_across_calls_are_assembled) {
  // masked ping of 125 bytes fed byte by byte → one control item with the whole payload
  frame f = control(opcode::ping, "");
  f.payload = pattern(125, 42);
  const auto w = wire(masked(f));
  EXPECT_EQ(pieces(role::server, w, byte_at_a_time(w.size())), transcript{"ping <125 bytes>"});
  frame_decoder d{role::server, {}};
  auto copy = w;
  std::optional<byte_vector> got;
  transcript breaches;
  feed(d, copy, {10, 1, 60, 0, 1}, breaches, [&](const frame_decoder::item& it) {
    ASSERT_EQ(it.type, result::control);
    got = byte_vector(it.payload.begin(), it.payload.end());
  });
  EXPECT_EQ(got, f.payload);
  EXPECT_EQ(breaches, transcript{});
  // header in one call, payload in the next: still whole
  EXPECT_EQ(pieces(role::client, wire(control(opcode::pong, "pong!")), {2}),
            transcript{"pong \"pong!\""});
  // split between two control frames' pieces, with data in between
  const auto two = wire({control(opcode::ping, "abc"), text_frame("t"),
                         control(opcode::close,
                                 "\x03\xE8"
                                 "bye")});
  for (std::size_t cut = 0; cut <= two.size(); ++cut) {
    SCOPED_TRACE("cut=" + std::to_string(cut));
    EXPECT_EQ(messages(role::client, two, {cut}),
              (transcript{"ping \"abc\"", "text \"t\"", "close \"\\x03\\xE8bye\""}));
  }
}

// A default-constructed span (data() == nullptr) between any two bytes: need_more, nothing used.
// The decoder must not hand that null pointer to memcpy, even for 0 bytes (UB; UBSan reports it).
TEST(frame_decoder, an_empty_call_anywhere_asks_for_more) {
  const auto payload = pattern(200, 8);
  auto w = wire({control(opcode::ping, "abcd"), binary_frame(payload), text_frame("hi")});
  frame_decoder d{role::client, {}};
  transcript out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    std::size_t consumed = 0;
    ASSERT_EQ(d.next({}, consumed).type, result::need_more) << "before byte " << i;
    ASSERT_EQ(consumed, 0u);
    const auto it = d.next(std::span<std::byte>(w).subspan(i, 1), consumed);
    ASSERT_EQ(consumed, 1u);
    if (it.type == result::control || it.type == result::data) out.push_back(describe(it));
  }
  EXPECT_EQ(out.size(), 1u + 200u + 2u);
  EXPECT_EQ(out.front(), "ping \"abcd\"");
  EXPECT_EQ(out.back(), "text last \"i\"");
}

TEST(frame_decoder, header_split_at_every_position) {
  const auto payload = pattern(300, 3);
  const auto w = wire(
      {masked(text_frame("\xC3\xA9t\xC3\xA9", false)),
       masked(continuation("", false), {std::byte{9}, std::byte{8}, std::byte{7}, std::byte{6}}),
       masked(control(opcode::ping, "p")), masked(continuation("!", true)),
       masked(binary_frame(payload))});
  const transcript expected{"ping \"p\"", "text \"\\xC3\\xA9t\\xC3\\xA9!\"", "binary <300 bytes>"};
  for (std::size_t a = 0; a <= w.size(); a += 1) {
    for (std::size_t b = 0; a + b <= w.size(); b += 7) {
      SCOPED_TRACE("cuts " + std::to_string(a) + "," + std::to_string(b));
      ASSERT_EQ(messages(role::server, w, {a, b}), expected);
    }
  }
}

// ---- properties ---------------------------------------------------------------------------------
// A generated stream is a list of frames and the messages/control frames a correct decoder must
// report for it. Payload bytes come from a seeded generator so big payloads stay cheap.

std::uint32_t next_random(std::uint64_t& s) {
  s = s * 6364136223846793005u + 1442695040888963407u;
  return static_cast<std::uint32_t>(s >> 33);
}

// RFC 3629: valid UTF-8 of about `n` bytes, mixing 1- to 4-byte sequences.
byte_vector random_utf8(std::size_t n, std::uint64_t seed) {
  byte_vector out;
  auto put_byte = [&out](std::uint32_t b) { out.push_back(static_cast<std::byte>(b)); };
  while (out.size() < n) {
    const std::uint32_t r = next_random(seed);
    std::uint32_t cp = 0;
    switch (r % 4) {
      case 0:
        cp = r % 0x80;
        break;
      case 1:
        cp = 0x80 + r % (0x800 - 0x80);
        break;
      case 2:
        cp = 0x800 + r % (0x10000 - 0x800);
        break;
      default:
        cp = 0x10000 + r % (0x110000 - 0x10000);
        break;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) cp -= 0x800;  // no surrogates
    if (cp < 0x80) {
      put_byte(cp);
    } else if (cp < 0x800) {
      put_byte(0xC0 | cp >> 6), put_byte(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      put_byte(0xE0 | cp >> 12), put_byte(0x80 | ((cp >> 6) & 0x3F)), put_byte(0x80 | (cp & 0x3F));
    } else {
      put_byte(0xF0 | cp >> 18), put_byte(0x80 | ((cp >> 12) & 0x3F));
      put_byte(0x80 | ((cp >> 6) & 0x3F)), put_byte(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

byte_vector random_bytes(std::size_t n, std::uint64_t seed) {
  byte_vector out(n);
  for (auto& b : out) b = static_cast<std::byte>(next_random(seed) & 0xFF);
  return out;
}

// rapidcheck's inRange narrows with the test size; choices between cases must not.
bool one_in(std::size_t n) { return *rc::gen::weightedElement<bool>({{1, true}, {n - 1, false}}); }

std::size_t gen_payload_size() {
  using size = std::size_t;
  if (one_in(10)) return *rc::gen::element<size>(65535, 65536, 65537, 70000);  // 16/64-bit edge
  if (one_in(6)) return *rc::gen::element<size>(125, 126, 127, 1000);          // 7/16-bit edge
  return *rc::gen::inRange<size>(0, 20);
}

struct generated {
  std::vector<frame> frames;
  // what a decoder reports after each frame (a message when its last frame arrives)
  std::vector<std::optional<std::string>> reports;
  // whether a message (and which kind) is unfinished before each frame, and at the end
  std::vector<std::optional<message_kind>> open_before;
};

// Frames of random messages. The sender masks (with random keys) iff `receiver` is a server.
generated gen_stream(role receiver) {
  generated g;
  std::optional<message_kind> open;
  auto add = [&](frame f, std::optional<std::string> report) {
    if (receiver == role::server) {
      mask_key k;
      const auto v = *rc::gen::arbitrary<std::uint32_t>();
      for (std::size_t i = 0; i < 4; ++i) k[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
      f.key = k;
    }
    g.open_before.push_back(open);
    g.frames.push_back(std::move(f));
    g.reports.push_back(std::move(report));
  };
  auto add_control = [&] {
    const auto op = *rc::gen::element(opcode::ping, opcode::pong, opcode::close);
    const auto n = *rc::gen::inRange<std::size_t>(0, 126);
    auto p = random_bytes(n, *rc::gen::arbitrary<std::uint64_t>());
    const auto report = name(op) + " " + show(p);
    add({true, 0, static_cast<unsigned>(op), {}, std::move(p), {}}, report);
  };

  const int count = *rc::gen::inRange(0, 10);
  for (int m = 0; m < count; ++m) {
    if (one_in(4)) {
      add_control();
      continue;
    }
    const bool text = *rc::gen::arbitrary<bool>();
    const auto kind = text ? message_kind::text : message_kind::binary;
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const std::size_t n = gen_payload_size();
    const auto payload = text ? random_utf8(n, seed) : random_bytes(n, seed);
    // fragment boundaries at any byte, UTF-8 sequences included; repeated cuts give empty frames
    const auto fragments = one_in(3) ? 0 : static_cast<std::size_t>(*rc::gen::inRange(0, 5));
    auto cuts = *rc::gen::container<std::vector<std::size_t>>(
        fragments, rc::gen::inRange<std::size_t>(0, payload.size() + 1));
    std::sort(cuts.begin(), cuts.end());
    cuts.push_back(payload.size());
    std::size_t from = 0;
    for (std::size_t i = 0; i < cuts.size(); ++i) {
      const bool fin = i + 1 == cuts.size();
      frame f{fin,
              0,
              i == 0 ? (text ? 1u : 2u) : 0u,
              {},
              byte_vector(payload.begin() + static_cast<std::ptrdiff_t>(from),
                          payload.begin() + static_cast<std::ptrdiff_t>(cuts[i])),
              {}};
      from = cuts[i];
      std::optional<std::string> report;
      if (fin) report = (text ? "text " : "binary ") + show(payload);
      add(std::move(f), std::move(report));
      open = fin ? std::nullopt : std::optional<message_kind>(kind);
      if (!fin && one_in(3)) add_control();
    }
  }
  g.open_before.push_back(open);
  return g;
}

byte_vector wire_of(const std::vector<frame>& frames, std::size_t from, std::size_t to) {
  byte_vector out;
  for (std::size_t i = from; i < to; ++i) {
    const auto w = wire(frames[i]);
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

// Random chunk sizes covering `n` bytes: mostly small, sometimes empty, sometimes large.
std::vector<std::size_t> random_cuts(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> cuts;
  std::size_t total = 0;
  while (total < n) {
    const std::uint32_t r = next_random(seed);
    std::size_t c = 0;
    switch (r % 4) {
      case 0:
        c = 0;
        break;
      case 1:
        c = 1 + (r >> 2) % 3;
        break;
      case 2:
        c = 1 + (r >> 2) % 20;
        break;
      default:
        c = 1 + (r >> 2) % (n + 1);
        break;
    }
    cuts.push_back(c);
    total += c;
  }
  return cuts;
}

void check_every_chunking(role receiver, const byte_vector& w, const transcript& expected,
                          frame_decoder::limits l = {}) {
  const auto whole = messages(receiver, w, {}, l);
  RC_ASSERT(whole == expected);
  const auto cuts = random_cuts(w.size(), *rc::gen::arbitrary<std::uint64_t>());
  RC_ASSERT(messages(receiver, w, cuts, l) == expected);
  RC_ASSERT(messages(receiver, w, byte_at_a_time(w.size()), l) == expected);
}

void valid_streams_decode_alike(role receiver) {
  const auto g = gen_stream(receiver);
  std::size_t longest = 0, fragmented = 0;
  for (const auto& f : g.frames) {
    longest = std::max(longest, f.payload.size());
    fragmented += f.op == 0;
  }
  RC_CLASSIFY(longest > 0xFFFF, "64-bit length");
  RC_CLASSIFY(longest > 125, "16-bit length");
  RC_CLASSIFY(fragmented > 0, "fragmented");
  transcript expected;
  for (const auto& r : g.reports) {
    if (r) expected.push_back(*r);
  }
  check_every_chunking(receiver, wire_of(g.frames, 0, g.frames.size()), expected);
}

RC_GTEST_PROP(frame_decoder, valid_streams_decode_alike_however_cut_server, ()) {
  valid_streams_decode_alike(role::server);
}

RC_GTEST_PROP(frame_decoder, valid_streams_decode_alike_however_cut_client, ()) {
  valid_streams_decode_alike(role::client);
}

// A bad frame that fails with one specific error wherever it is inserted, given whether a message
// (and which kind) is unfinished at that point. The sender's masking is right unless the fault
// is the masking itself.
std::pair<frame, errc> gen_bad_frame(role receiver, std::optional<message_kind> open) {
  const bool masks = receiver == role::server;
  const unsigned data_op = open ? 0u : 2u;  // a frame that is legal here, apart from its fault
  frame f{true, 0, data_op, {}, bytes("xyz"), {}};
  errc e{};
  switch (*rc::gen::element(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)) {
    case 0:
      f.op = *rc::gen::element(3u, 4u, 5u, 6u, 7u, 11u, 12u, 13u, 14u, 15u);
      e = errc::bad_opcode;
      break;
    case 1:
      f.rsv = *rc::gen::inRange(1u, 8u);
      e = errc::reserved_bits;
      break;
    case 2:
      f.key = masks ? std::nullopt : std::optional<mask_key>(mask_key{});
      return {f, errc::bad_masking};
    case 3:
      f.op = *rc::gen::element(8u, 9u, 10u);
      f.fin = false;
      e = errc::fragmented_control;
      break;
    case 4:
      f.op = *rc::gen::element(8u, 9u, 10u);
      f.payload = random_bytes(*rc::gen::inRange<std::size_t>(126, 300), 5);
      e = errc::control_too_large;
      break;
    case 5:
      f.payload.clear();
      f.declared = (std::uint64_t{1} << 63) | *rc::gen::arbitrary<std::uint32_t>();
      e = errc::bad_length;
      break;
    case 6:
      f.op = open ? *rc::gen::element(1u, 2u) : 0u;
      e = open ? errc::expected_continuation : errc::bad_continuation;
      break;
    case 7:
      // with limits{max_frame_payload = 1 MiB}: a declared length beyond it
      f.payload.clear();
      f.declared = *rc::gen::inRange<std::uint64_t>((1 << 20) + 1, std::uint64_t{1} << 40);
      e = errc::frame_too_large;
      break;
    default:
      // invalid UTF-8: a byte that can never appear, or a text message ending mid code point
      if (open == message_kind::binary) {
        f.op = 1;
        e = errc::expected_continuation;
        break;
      }
      f.op = open ? 0u : 1u;
      f.payload =
          random_utf8(*rc::gen::inRange<std::size_t>(0, 30), *rc::gen::arbitrary<std::uint64_t>());
      if (*rc::gen::arbitrary<bool>()) {
        const auto at = *rc::gen::inRange<std::size_t>(0, f.payload.size() + 1);
        f.payload.insert(f.payload.begin() + static_cast<std::ptrdiff_t>(at),
                         *rc::gen::element(std::byte{0xFF}, std::byte{0xC0}, std::byte{0xF5}));
        f.fin = *rc::gen::arbitrary<bool>();
      } else {
        f.payload.push_back(std::byte{0xE2});
      }
      e = errc::invalid_utf8;
      break;
  }
  if (masks) f.key = mask_key{std::byte{0x5A}, std::byte{0x01}, std::byte{0xC3}, std::byte{0x7E}};
  return {f, e};
}

void streams_with_an_error_fail_alike(role receiver) {
  const auto g = gen_stream(receiver);
  const auto at = *rc::gen::inRange<std::size_t>(0, g.frames.size() + 1);
  const auto [bad, e] = gen_bad_frame(receiver, g.open_before[at]);
  RC_TAG(name(e));
  transcript expected;
  for (std::size_t i = 0; i < at; ++i) {
    if (g.reports[i]) expected.push_back(*g.reports[i]);
  }
  expected.push_back("error " + name(e));
  auto w = wire_of(g.frames, 0, at);
  const auto b = wire(bad);
  w.insert(w.end(), b.begin(), b.end());
  const auto rest = wire_of(g.frames, at, g.frames.size());  // never reported
  w.insert(w.end(), rest.begin(), rest.end());
  check_every_chunking(receiver, w, expected, {.max_frame_payload = 1 << 20});
}

RC_GTEST_PROP(frame_decoder, streams_with_an_error_fail_alike_however_cut_server, ()) {
  streams_with_an_error_fail_alike(role::server);
}

RC_GTEST_PROP(frame_decoder, streams_with_an_error_fail_alike_however_cut_client, ()) {
  streams_with_an_error_fail_alike(role::client);
}

}  // namespace
