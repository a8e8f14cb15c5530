// Tests for detail::write_frame_header / encode_frame (RFC 6455 §5.2, §5.3): header bytes for
// every length form, masked and not, the RFC's own examples, and a round trip through
// frame_decoder for random frames (clients masking with keys from the real generator).
#include "detail/frame_encoder.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "detail/frame_decoder.hpp"
#include "detail/output_queue.hpp"
#include "detail/random.hpp"
#include "support/test_support.hpp"

namespace {

using wsx::opcode;
using wsx::role;
using wsx::detail::encode_frame;
using wsx::detail::frame_decoder;
using wsx::detail::frame_header_size;
using wsx::detail::mask_key;
using wsx::detail::output_queue;
using wsx::detail::write_frame_header;
using wsx::test::bytes;
using byte_vector = std::vector<std::byte>;

constexpr mask_key rfc_key = {std::byte{0x37}, std::byte{0xFA}, std::byte{0x21}, std::byte{0x3D}};

// The header write_frame_header produces, checked against frame_header_size on the way.
byte_vector header(bool fin, opcode op, std::uint64_t n, const mask_key* key) {
  std::array<std::byte, 14> buf{};
  buf.fill(std::byte{0xEE});
  const std::size_t size = write_frame_header(buf.data(), fin, op, n, key);
  EXPECT_EQ(size, frame_header_size(n, key != nullptr));
  for (std::size_t i = size; i < buf.size(); ++i) {
    EXPECT_EQ(buf[i], std::byte{0xEE}) << "wrote past the header at " << i;
  }
  return byte_vector(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(size));
}

// Everything queued in `q`, in order; empties the queue (pending() lists at most 64 ranges).
byte_vector drain(output_queue& q) {
  byte_vector out;
  while (!q.empty()) {
    std::size_t n = 0;
    for (const auto r : q.pending()) {
      out.insert(out.end(), r.begin(), r.end());
      n += r.size();
    }
    q.consume(n);
  }
  return out;
}

byte_vector encoded(bool fin, opcode op, const byte_vector& payload, const mask_key* key) {
  output_queue q;
  encode_frame(q, fin, op, payload, key);
  EXPECT_EQ(q.size(), frame_header_size(payload.size(), key != nullptr) + payload.size());
  return drain(q);
}

byte_vector pattern(std::size_t n) {
  byte_vector out(n);
  std::uint32_t x = 12345;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::byte>(x >> 24);
  }
  return out;
}

byte_vector concat(byte_vector a, const byte_vector& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

byte_vector xor_with(byte_vector p, const mask_key& k) {
  for (std::size_t i = 0; i < p.size(); ++i) p[i] ^= k[i % 4];
  return p;
}

// ---- header sizes and bytes ---------------------------------------------------------------------

TEST(frame_encoder, header_size_for_every_length_form) {
  EXPECT_EQ(frame_header_size(0, false), 2u);
  EXPECT_EQ(frame_header_size(125, false), 2u);
  EXPECT_EQ(frame_header_size(126, false), 4u);
  EXPECT_EQ(frame_header_size(65535, false), 4u);
  EXPECT_EQ(frame_header_size(65536, false), 10u);
  EXPECT_EQ(frame_header_size(std::uint64_t{1} << 40, false), 10u);
  EXPECT_EQ(frame_header_size(0, true), 6u);
  EXPECT_EQ(frame_header_size(125, true), 6u);
  EXPECT_EQ(frame_header_size(126, true), 8u);
  EXPECT_EQ(frame_header_size(65535, true), 8u);
  EXPECT_EQ(frame_header_size(65536, true), 14u);
  static_assert(frame_header_size(65536, true) == 14);  // usable at compile time
}

TEST(frame_encoder, unmasked_headers) {
  //            fin    opcode              length            wire
  EXPECT_EQ(header(true, opcode::text, 0, nullptr), bytes({0x81, 0x00}));
  EXPECT_EQ(header(true, opcode::text, 5, nullptr), bytes({0x81, 0x05}));
  EXPECT_EQ(header(true, opcode::binary, 125, nullptr), bytes({0x82, 0x7D}));
  EXPECT_EQ(header(true, opcode::binary, 126, nullptr), bytes({0x82, 0x7E, 0x00, 0x7E}));
  EXPECT_EQ(header(true, opcode::binary, 256, nullptr), bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(header(true, opcode::binary, 65535, nullptr), bytes({0x82, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(header(true, opcode::binary, 65536, nullptr),
            bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  EXPECT_EQ(header(true, opcode::binary, (std::uint64_t{1} << 32) + 5, nullptr),
            bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05}));
  EXPECT_EQ(header(true, opcode::binary, 0x0123456789ABCDEF, nullptr),
            bytes({0x82, 0x7F, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF}));
  EXPECT_EQ(header(false, opcode::text, 3, nullptr), bytes({0x01, 0x03}));
  EXPECT_EQ(header(false, opcode::continuation, 2, nullptr), bytes({0x00, 0x02}));
  EXPECT_EQ(header(true, opcode::continuation, 2, nullptr), bytes({0x80, 0x02}));
  EXPECT_EQ(header(true, opcode::close, 2, nullptr), bytes({0x88, 0x02}));
  EXPECT_EQ(header(true, opcode::ping, 0, nullptr), bytes({0x89, 0x00}));
  EXPECT_EQ(header(true, opcode::pong, 125, nullptr), bytes({0x8A, 0x7D}));
}

TEST(frame_encoder, masked_headers) {
  const mask_key k = rfc_key;
  //                                                      len   key
  EXPECT_EQ(header(true, opcode::text, 0, &k), bytes({0x81, 0x80, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(true, opcode::text, 5, &k), bytes({0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(true, opcode::binary, 125, &k), bytes({0x82, 0xFD, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(true, opcode::binary, 126, &k),
            bytes({0x82, 0xFE, 0x00, 0x7E, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(true, opcode::binary, 65535, &k),
            bytes({0x82, 0xFE, 0xFF, 0xFF, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(true, opcode::binary, 65536, &k),
            bytes({0x82, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  //
                   0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(false, opcode::continuation, 1, &k),
            bytes({0x00, 0x81, 0x37, 0xFA, 0x21, 0x3D}));
  // an all-zero key is still a masked header: the bit says so, the key is written
  const mask_key zero{};
  EXPECT_EQ(header(true, opcode::ping, 0, &zero), bytes({0x89, 0x80, 0x00, 0x00, 0x00, 0x00}));
}

// ---- whole frames -------------------------------------------------------------------------------

TEST(frame_encoder, rfc_examples) {
  // RFC 6455 §5.7
  EXPECT_EQ(encoded(true, opcode::text, bytes("Hello"), nullptr),
            bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(true, opcode::text, bytes("Hello"), &rfc_key),
            bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(encoded(false, opcode::text, bytes("Hel"), nullptr),
            bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
  EXPECT_EQ(encoded(true, opcode::continuation, bytes("lo"), nullptr),
            bytes({0x80, 0x02, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(true, opcode::ping, bytes("Hello"), nullptr),
            bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(true, opcode::pong, bytes("Hello"), &rfc_key),
            bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(frame_encoder, every_length_form_masked_and_not) {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126},
                              std::size_t{65535}, std::size_t{65536}, std::size_t{70000}}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const auto p = pattern(n);
    EXPECT_EQ(encoded(true, opcode::binary, p, nullptr),
              concat(header(true, opcode::binary, n, nullptr), p));
    const auto copy = p;
    EXPECT_EQ(encoded(false, opcode::text, p, &rfc_key),
              concat(header(false, opcode::text, n, &rfc_key), xor_with(p, rfc_key)));
    EXPECT_EQ(p, copy) << "masking must not touch the caller's payload";
  }
}

TEST(frame_encoder, frames_queue_in_order_behind_what_is_there) {
  output_queue q;
  q.append(wsx::as_bytes("prefix"));
  encode_frame(q, true, opcode::text, bytes("a"), nullptr);
  encode_frame(q, true, opcode::ping, {}, nullptr);
  encode_frame(q, true, opcode::binary, pattern(20000), nullptr);  // more than one block
  encode_frame(q, true, opcode::close, bytes({0x03, 0xE8}), nullptr);
  byte_vector expected = bytes("prefix");
  expected = concat(expected, bytes({0x81, 0x01, 'a', 0x89, 0x00}));
  expected = concat(expected, concat(header(true, opcode::binary, 20000, nullptr), pattern(20000)));
  expected = concat(expected, bytes({0x88, 0x02, 0x03, 0xE8}));
  EXPECT_EQ(drain(q), expected);
}

TEST(frame_encoder, client_frames_carry_the_generated_key) {
  mask_key k{};
  ASSERT_TRUE(wsx::detail::next_mask_key(k));
  EXPECT_NE(k, mask_key{});
  const auto p = bytes("payload!");
  const auto w = encoded(true, opcode::binary, p, &k);
  ASSERT_EQ(w.size(), 6 + p.size());
  EXPECT_EQ(w[1], std::byte{0x88});
  EXPECT_EQ(byte_vector(w.begin() + 2, w.begin() + 6), byte_vector(k.begin(), k.end()));
  EXPECT_EQ(byte_vector(w.begin() + 6, w.end()), xor_with(p, k));
}

// ---- round trip through the decoder -------------------------------------------------------------

struct planned_frame {
  bool fin;
  opcode op;
  byte_vector payload;
};

std::string kind_name(opcode op) {
  switch (op) {
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
    case opcode::continuation:
      break;
  }
  return "continuation";
}

// A valid random sequence: data messages in 1-4 frames, control frames alone or between the
// fragments of a message. Payloads are printable so failures read well (text must be UTF-8).
std::vector<planned_frame> gen_frames() {
  auto some_bytes = [](std::size_t n) {
    std::uint32_t x = *rc::gen::arbitrary<std::uint32_t>();
    byte_vector p(n);
    for (auto& b : p) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<std::byte>(0x20 + (x >> 24) % 0x5F);
    }
    return p;
  };
  // rapidcheck's inRange narrows with the test size; these choices must not
  auto one_in = [](std::size_t n) {
    return *rc::gen::weightedElement<bool>({{1, true}, {n - 1, false}});
  };
  // every length form and its edges, most frames small
  auto data_size = [&] {
    using size = std::size_t;
    if (one_in(10)) return *rc::gen::element<size>(65535, 65536, 65537, 70000);
    if (one_in(5)) return *rc::gen::element<size>(125, 126, 127, 1000);
    return *rc::gen::inRange<size>(0, 20);
  };
  std::vector<planned_frame> frames;
  const int messages = *rc::gen::inRange(0, 8);
  for (int m = 0; m < messages; ++m) {
    const auto op =
        *rc::gen::element(opcode::text, opcode::binary, opcode::ping, opcode::pong, opcode::close);
    if (op != opcode::text && op != opcode::binary) {
      frames.push_back({true, op, some_bytes(*rc::gen::inRange<std::size_t>(0, 126))});
      continue;
    }
    const int parts = *rc::gen::element(1, 1, 2, 3, 4);
    for (int i = 0; i < parts; ++i) {
      const bool fin = i + 1 == parts;
      frames.push_back({fin, i == 0 ? op : opcode::continuation, some_bytes(data_size())});
      if (!fin && one_in(4)) frames.push_back({true, opcode::ping, some_bytes(4)});
    }
  }
  return frames;
}

// What a decoder must report for `frames`: each control frame, each message when it ends.
std::vector<std::string> expected_reports(const std::vector<planned_frame>& frames) {
  std::vector<std::string> out;
  std::string message;
  opcode kind = opcode::binary;
  for (const auto& f : frames) {
    if (f.op == opcode::ping || f.op == opcode::pong || f.op == opcode::close) {
      out.push_back(kind_name(f.op) + " " + std::string(wsx::as_string(f.payload)));
      continue;
    }
    if (f.op != opcode::continuation) {
      kind = f.op;
      message.clear();
    }
    message += wsx::as_string(f.payload);
    if (f.fin) out.push_back(kind_name(kind) + " " + message);
  }
  return out;
}

// Decodes `w` in chunks of `chunk` bytes; reports like expected_reports, or "error <n>".
std::vector<std::string> decode(role receiver, byte_vector w, std::size_t chunk) {
  frame_decoder d{receiver, {}};
  std::vector<std::string> out;
  std::string message;
  for (std::size_t at = 0; at < w.size();) {
    const std::size_t len = std::min(chunk, w.size() - at);
    const std::span<std::byte> in(w.data() + at, len);
    at += len;
    std::size_t consumed = 0;
    for (;;) {
      const auto it = d.next(in.subspan(consumed), consumed);
      if (it.type == frame_decoder::result::need_more) break;
      if (it.type == frame_decoder::result::error) {
        out.push_back("error " + std::to_string(static_cast<int>(d.error())));
        return out;
      }
      if (it.type == frame_decoder::result::control) {
        out.push_back(kind_name(it.op) + " " + std::string(wsx::as_string(it.payload)));
        continue;
      }
      if (it.first) message.clear();
      message += wsx::as_string(it.payload);
      if (it.last) {
        out.push_back(std::string(it.kind == wsx::message_kind::text ? "text " : "binary ") +
                      message);
      }
    }
  }
  return out;
}

void round_trip(role sender) {
  const auto frames = gen_frames();
  output_queue q;
  std::size_t expected_size = 0;
  for (const auto& f : frames) {
    mask_key k{};
    const mask_key* key = nullptr;
    if (sender == role::client) {
      RC_ASSERT(wsx::detail::next_mask_key(k));
      key = &k;
    }
    encode_frame(q, f.fin, f.op, f.payload, key);
    expected_size += frame_header_size(f.payload.size(), key != nullptr) + f.payload.size();
  }
  const auto longest = std::max_element(
      frames.begin(), frames.end(),
      [](const auto& a, const auto& b) { return a.payload.size() < b.payload.size(); });
  RC_CLASSIFY(longest != frames.end() && longest->payload.size() > 0xFFFF, "64-bit length");
  RC_CLASSIFY(longest != frames.end() && longest->payload.size() > 125, "16-bit length");
  RC_ASSERT(q.size() == expected_size);
  const auto w = drain(q);
  RC_ASSERT(w.size() == expected_size);
  const auto expected = expected_reports(frames);
  const role receiver = sender == role::client ? role::server : role::client;
  RC_ASSERT(decode(receiver, w, w.size() + 1) == expected);
  RC_ASSERT(decode(receiver, w, *rc::gen::inRange<std::size_t>(1, 40)) == expected);
}

RC_GTEST_PROP(frame_encoder, round_trip_through_the_decoder_client_to_server, ()) {
  round_trip(role::client);
}

RC_GTEST_PROP(frame_encoder, round_trip_through_the_decoder_server_to_client, ()) {
  round_trip(role::server);
}

}  // namespace
