// The permessage-deflate codec (RFC 7692 §7.2): the RFC's own examples, round trips in both
// roles with and without context takeover, fragmented messages, invalid data, the bomb limit
// (memory bounded by the limit, not by the ratio), lazy streams and what shrink() frees.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "detail/deflate_codec.hpp"

using wsx::errc;
using wsx::role;
using wsx::detail::deflate_codec;
using wsx::detail::deflate_params;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}
std::string str(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}
wsx::bytes_view view(std::string_view s) { return wsx::as_bytes(s); }
wsx::bytes_view view(const std::vector<std::byte>& v) { return {v.data(), v.size()}; }

deflate_params takeover(bool no_context_takeover) {
  deflate_params p;
  p.server_no_context_takeover = no_context_takeover;
  p.client_no_context_takeover = no_context_takeover;
  return p;
}

std::string inflate_all(deflate_codec& c, const std::vector<std::byte>& in) {
  std::vector<std::byte> out;
  EXPECT_EQ(c.inflate(view(in), true, out, 1 << 20), errc{});
  return str(out);
}

}  // namespace

TEST(deflate_codec, inflates_the_rfc_examples) {
  deflate_codec c{role::client, deflate_params{}};
  // RFC 7692 §7.2.3.1: "Hello" compressed, tail removed.
  EXPECT_EQ(inflate_all(c, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
  // §7.2.3.2: the same again, referring back into the previous message (context takeover).
  EXPECT_EQ(inflate_all(c, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
  // §7.2.3.3: a stored block.
  EXPECT_EQ(
      inflate_all(c, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
      "Hello");
  // §7.2.3.5: two blocks in one message.
  EXPECT_EQ(inflate_all(c, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9,
                                  0x07, 0x00})),
            "Hello");
  // §7.2.3.6: an empty message may be a single 0x00.
  EXPECT_EQ(inflate_all(c, bytes({0x00})), "");
}

TEST(deflate_codec, compresses_with_the_tail_removed) {
  deflate_codec c{role::server, deflate_params{}};
  std::vector<std::byte> out;
  ASSERT_EQ(c.compress(view("Hello"), true, out), errc{});
  EXPECT_EQ(out, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));  // §7.2.3.1 exactly
  ASSERT_EQ(c.compress(view("Hello"), true, out), errc{});
  EXPECT_LT(out.size(), 7u);  // context takeover: the second one refers back
  deflate_codec fresh{role::server, takeover(true)};
  ASSERT_EQ(fresh.compress(view("Hello"), true, out), errc{});
  ASSERT_EQ(fresh.compress(view("Hello"), true, out), errc{});
  EXPECT_EQ(out, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));  // reset per message
}

// Every message through a sender and a receiver of either role, both takeover modes, as several
// fragments or one.
RC_GTEST_PROP(deflate_codec, round_trips_any_messages_in_pieces, ()) {
  const bool no_takeover = *rc::gen::arbitrary<bool>();
  const bool server_sends = *rc::gen::arbitrary<bool>();
  const auto messages = *rc::gen::container<std::vector<std::vector<std::string>>>(rc::gen::resize(
      4, rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
             rc::gen::arbitrary<std::string>(), rc::gen::just(std::string(3000, 'a')))))));
  deflate_params p = takeover(no_takeover);
  deflate_codec sender{server_sends ? role::server : role::client, p};
  deflate_codec receiver{server_sends ? role::client : role::server, p};
  for (const auto& pieces : messages) {
    std::string whole, got;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const bool fin = i + 1 == pieces.size();
      std::vector<std::byte> wire, out;
      RC_ASSERT(sender.compress(view(pieces[i]), fin, wire) == errc{});
      RC_ASSERT(receiver.inflate(view(wire), fin, out, 1 << 24) == errc{});
      whole += pieces[i];
      got += str(out);
    }
    RC_ASSERT(got == whole);
  }
}

TEST(deflate_codec, invalid_data_is_bad_compressed_data) {
  deflate_codec c{role::server, deflate_params{}};
  std::vector<std::byte> out;
  // BTYPE 11 is reserved (RFC 1951 §3.2.3).
  EXPECT_EQ(c.inflate(view(bytes({0xff, 0xff, 0xff})), true, out, 1024), errc::bad_compressed_data);
  EXPECT_TRUE(out.empty());
}

TEST(deflate_codec, an_empty_last_piece_still_ends_the_message_properly) {
  deflate_codec sender{role::client, deflate_params{}};
  deflate_codec receiver{role::server, deflate_params{}};
  std::vector<std::byte> wire, out;
  ASSERT_EQ(sender.compress(view("abc"), false, wire), errc{});
  ASSERT_EQ(receiver.inflate(view(wire), false, out, 1024), errc{});
  // Nothing new to flush: the last frame is the empty stored block's first byte (§7.2.3.6).
  ASSERT_EQ(sender.compress({}, true, wire), errc{});
  EXPECT_EQ(wire, bytes({0x00}));
  ASSERT_EQ(receiver.inflate(view(wire), true, out, 1024), errc{});
  EXPECT_EQ(str(out), "abc");
  ASSERT_EQ(sender.compress(view("abc"), true, wire), errc{});
  EXPECT_EQ(inflate_all(receiver, wire), "abc");
}

// Deflate's best ratio is about 1030:1, so ~1 KiB inflates to ~1 MiB and a 1 GiB bomb is ~1 MiB
// on the wire. Both stop at the limit, having allocated no more than the limit + 1 byte.
TEST(deflate_codec, bombs_stop_at_the_limit_with_memory_bounded_by_it) {
  const auto bomb = [](std::size_t inflated) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_RLE), Z_OK);
    std::vector<std::byte> zeros(1 << 20), out(deflateBound(&z, inflated) + 64);
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    for (std::size_t done = 0; done < inflated; done += zeros.size()) {
      z.next_in = reinterpret_cast<Bytef*>(zeros.data());
      z.avail_in = static_cast<uInt>(zeros.size());
      deflate(&z, done + zeros.size() >= inflated ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    }
    const std::size_t used = out.size() - z.avail_out;
    out.resize(used >= 4 ? used - 4 : 0);  // the sync flush's 00 00 ff ff
    deflateEnd(&z);
    return out;
  };
  const auto small = bomb(std::size_t{1} << 20);  // 1 MiB of zeros
  EXPECT_LT(small.size(), 1100u);
  {
    deflate_codec c{role::server, deflate_params{}};
    std::vector<std::byte> out;
    EXPECT_EQ(c.inflate(view(small), true, out, 64 * 1024), errc::inflated_too_large);
    EXPECT_LE(out.capacity(), 64u * 1024 + 1);
  }
  const auto big = bomb(std::size_t{1} << 30);  // 1 GiB of zeros
  EXPECT_LT(big.size(), 1100u * 1024);
  deflate_codec c{role::server, deflate_params{}};
  std::vector<std::byte> out;
  EXPECT_EQ(c.inflate(view(big), true, out, 1 << 20), errc::inflated_too_large);
  EXPECT_LE(out.capacity(), (std::size_t{1} << 20) + 1);
  EXPECT_LE(c.zlib_bytes(), wsx::detail::inflate_memory(15));
}

TEST(deflate_codec, streams_are_lazy_and_measured_by_zlibs_formula) {
  deflate_params p;
  p.deflate_window_bits = 12;
  p.mem_level = 5;
  p.client_max_window_bits = 11;  // what the server inflates with
  deflate_codec c{role::server, p};
  EXPECT_EQ(c.zlib_bytes(), 0u);  // nothing until the first message
  std::vector<std::byte> wire, out;
  ASSERT_EQ(c.compress(view(std::string(5000, 'z')), true, wire), errc{});
  EXPECT_EQ(c.zlib_bytes(), wsx::detail::deflate_memory(12, 5));
  deflate_codec client{role::client, deflate_params{}};
  ASSERT_EQ(client.compress(view(std::string(5000, 'q')), true, wire), errc{});
  ASSERT_EQ(c.inflate(view(wire), true, out, 1 << 20), errc{});
  EXPECT_EQ(c.zlib_bytes(), wsx::detail::deflate_memory(12, 5) + wsx::detail::inflate_memory(11));
  c.shrink();  // context takeover both ways: the windows are kept
  EXPECT_EQ(c.zlib_bytes(), wsx::detail::deflate_memory(12, 5) + wsx::detail::inflate_memory(11));
}

TEST(deflate_codec, shrink_frees_streams_without_context_takeover_between_messages) {
  deflate_codec c{role::server, takeover(true)};
  deflate_codec client{role::client, takeover(true)};
  std::vector<std::byte> wire, out;
  ASSERT_EQ(client.compress(view("half"), false, wire), errc{});
  ASSERT_EQ(c.inflate(view(wire), false, out, 1 << 20), errc{});
  ASSERT_EQ(c.compress(view("half"), false, wire), errc{});
  c.shrink();  // both halfway through a message: nothing freed
  EXPECT_GT(c.zlib_bytes(), 0u);
  ASSERT_EQ(client.compress(view(" done"), true, wire), errc{});
  out.clear();
  ASSERT_EQ(c.inflate(view(wire), true, out, 1 << 20), errc{});
  EXPECT_EQ(str(out), " done");
  ASSERT_EQ(c.compress(view(" done"), true, wire), errc{});
  c.shrink();
  EXPECT_EQ(c.zlib_bytes(), 0u);
  ASSERT_EQ(client.compress(view("again"), true, wire), errc{});  // reopened on demand
  EXPECT_EQ(inflate_all(c, wire), "again");
}

TEST(deflate_codec, a_reset_compressor_still_talks_to_a_receiver_with_context) {
  deflate_codec sender{role::server, deflate_params{}};
  deflate_codec receiver{role::client, deflate_params{}};
  std::vector<std::byte> wire;
  ASSERT_EQ(sender.compress(view("context context context"), true, wire), errc{});
  EXPECT_EQ(inflate_all(receiver, wire), "context context context");
  sender.reset_compressor();
  ASSERT_EQ(sender.compress(view("context again"), true, wire), errc{});
  EXPECT_EQ(inflate_all(receiver, wire), "context again");
}

TEST(deflate_codec, a_window_of_8_is_never_compressed_with) {
  deflate_params p;
  p.deflate_window_bits = 8;
  EXPECT_FALSE((deflate_codec{role::client, p}.can_compress()));
  p.deflate_window_bits = 9;
  EXPECT_TRUE((deflate_codec{role::client, p}.can_compress()));
}
