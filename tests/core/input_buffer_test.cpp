// Tests for detail::input_buffer: the owned copy (append, advance, compaction), a lent buffer
// (lend, give_back with each keep, the relocation of spans into it), discard and shrink_to_fit,
// and a rapidcheck model test: any mix of appends, lends and advances leaves the same unread
// bytes as a plain std::deque<std::byte> of everything received minus everything decoded.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detail/input_buffer.hpp"

namespace {

using wsx::bytes_view;
using wsx::detail::input_buffer;
using keep = input_buffer::keep;

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}

std::string text(std::span<const std::byte> s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

TEST(input_buffer, starts_empty) {
  input_buffer in;
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(in.lent());
  EXPECT_TRUE(in.unread().empty());
}

TEST(input_buffer, appended_bytes_are_unread_until_advanced_past) {
  input_buffer in;
  const auto a = bytes("hello ");
  const auto b = bytes("world");
  in.append(a);
  in.append(b);
  EXPECT_EQ(text(in.unread()), "hello world");
  in.advance(6);
  EXPECT_EQ(text(in.unread()), "world");
  EXPECT_FALSE(in.empty());
  in.advance(5);
  EXPECT_TRUE(in.empty());
  EXPECT_TRUE(in.unread().empty());
}

TEST(input_buffer, append_keeps_the_undecoded_rest_when_it_compacts) {
  input_buffer in;
  const auto a = bytes("0123456789");
  in.append(a);
  in.advance(8);  // more than half decoded: the next append drops the front
  const auto b = bytes("ab");
  in.append(b);
  EXPECT_EQ(text(in.unread()), "89ab");
  in.advance(1);  // less than half decoded now: appended behind, nothing moves
  const auto c = bytes("c");
  in.append(c);
  EXPECT_EQ(text(in.unread()), "9abc");
}

TEST(input_buffer, a_lent_buffer_is_read_where_it_lies) {
  input_buffer in;
  auto buf = bytes("frame bytes");
  in.lend(buf);
  EXPECT_TRUE(in.lent());
  EXPECT_EQ(in.unread().data(), buf.data());  // no copy
  in.advance(6);
  EXPECT_EQ(in.unread().data(), buf.data() + 6);
  EXPECT_EQ(text(in.unread()), "bytes");
}

TEST(input_buffer, give_back_keep_unread_copies_the_rest_only) {
  input_buffer in;
  auto buf = bytes("done|rest");
  in.lend(buf);
  in.advance(5);
  const auto moved = in.give_back(keep::unread);
  EXPECT_FALSE(in.lent());
  buf.assign(buf.size(), std::byte{'x'});  // the caller reuses its buffer
  EXPECT_EQ(text(in.unread()), "rest");
  std::span<const std::byte> view{buf.data() + 5, 4};
  moved.apply(view);  // keep::unread moves no span
  EXPECT_EQ(view.data(), buf.data() + 5);
  const auto more = bytes("+more");
  in.append(more);
  EXPECT_EQ(text(in.unread()), "rest+more");
}

TEST(input_buffer, give_back_keep_all_relocates_spans_into_the_lent_buffer) {
  input_buffer in;
  auto buf = bytes("payload|rest");
  in.lend(buf);
  in.advance(8);
  std::span<const std::byte> payload{buf.data(), 7};  // an event not pulled yet
  std::string_view reason{reinterpret_cast<const char*>(buf.data() + 2), 3};
  const auto other = bytes("elsewhere");
  std::span<const std::byte> owned{other.data(), other.size()};
  std::span<const std::byte> none;
  const auto moved = in.give_back(keep::all);
  buf.assign(buf.size(), std::byte{'x'});
  moved.apply(payload);
  moved.apply(reason);
  moved.apply(owned);
  moved.apply(none);
  EXPECT_EQ(text(payload), "payload");
  EXPECT_EQ(reason, "ylo");
  EXPECT_EQ(owned.data(), other.data());  // not in the lent buffer: left alone
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(text(in.unread()), "rest");  // the decoding position moves along
}

TEST(input_buffer, a_span_just_past_the_lent_buffer_is_not_relocated) {
  input_buffer in;
  auto storage = bytes("abcdef");
  const std::span<std::byte> lent{storage.data(), 3};
  in.lend(lent);
  std::span<const std::byte> after{storage.data() + 3, 3};
  const auto moved = in.give_back(keep::all);
  moved.apply(after);
  EXPECT_EQ(after.data(), storage.data() + 3);
}

TEST(input_buffer, give_back_keep_nothing_drops_the_input) {
  input_buffer in;
  auto buf = bytes("ignored");
  in.lend(buf);
  in.advance(2);
  in.give_back(keep::nothing);
  EXPECT_FALSE(in.lent());
  EXPECT_TRUE(in.empty());
}

TEST(input_buffer, give_back_without_a_lend_changes_nothing) {
  input_buffer in;
  const auto a = bytes("abc");
  in.append(a);
  in.advance(1);
  const auto moved = in.give_back(keep::all);
  EXPECT_EQ(text(in.unread()), "bc");
  std::span<const std::byte> view{a.data(), a.size()};
  moved.apply(view);
  EXPECT_EQ(view.data(), a.data());
}

TEST(input_buffer, discard_drops_unread_bytes_of_either_source) {
  input_buffer owned;
  const auto a = bytes("abc");
  owned.append(a);
  owned.discard();
  EXPECT_TRUE(owned.empty());

  input_buffer lent;
  auto buf = bytes("xyz");
  lent.lend(buf);
  lent.discard();
  EXPECT_TRUE(lent.empty());
  EXPECT_TRUE(lent.unread().empty());
}

TEST(input_buffer, shrink_to_fit_keeps_unread_and_lent_bytes) {
  input_buffer in;
  const auto a = bytes("abcd");
  in.append(a);
  in.advance(2);
  in.shrink_to_fit();
  EXPECT_EQ(text(in.unread()), "cd");
  in.advance(2);
  in.shrink_to_fit();
  EXPECT_TRUE(in.empty());
  in.append(a);
  EXPECT_EQ(text(in.unread()), "abcd");

  input_buffer l;
  auto buf = bytes("lent");
  l.lend(buf);
  l.advance(4);
  l.shrink_to_fit();
  EXPECT_TRUE(l.lent());
}

// Any sequence of appends, lends (given back with keep::unread or keep::all) and advances leaves
// unread() equal to the model: everything received, minus everything decoded.
RC_GTEST_PROP(input_buffer, agrees_with_a_deque_model, ()) {
  input_buffer in;
  std::deque<std::byte> model;
  std::vector<std::vector<std::byte>> lent_buffers;
  int next = 0;
  const auto fresh = [&](std::size_t n) {
    std::vector<std::byte> v(n);
    for (auto& b : v) b = static_cast<std::byte>(next++ & 0xFF);
    return v;
  };
  const auto steps = *rc::gen::inRange(1, 60);
  for (int s = 0; s < steps; ++s) {
    const auto n = static_cast<std::size_t>(*rc::gen::inRange(0, 40));
    switch (*rc::gen::inRange(0, 3)) {
      case 0: {  // receive(): a copy
        const auto v = fresh(n);
        in.append(v);
        model.insert(model.end(), v.begin(), v.end());
        break;
      }
      case 1: {  // receive_in_place(): only when nothing is left over, as the connection does
        if (!in.empty() || n == 0) break;
        lent_buffers.push_back(fresh(n));
        auto& buf = lent_buffers.back();
        in.lend(buf);
        model.assign(buf.begin(), buf.end());
        const auto k = static_cast<std::size_t>(*rc::gen::inRange<std::size_t>(0, n + 1));
        in.advance(k);
        model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(k));
        in.give_back(*rc::gen::element(keep::unread, keep::all));
        buf.assign(buf.size(), std::byte{0xEE});  // the caller reuses its buffer
        break;
      }
      case 2: {  // the decoder used some of the input
        const auto k = std::min(n, model.size());
        in.advance(k);
        model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(k));
        break;
      }
    }
    const auto u = in.unread();
    RC_ASSERT(std::vector<std::byte>(u.begin(), u.end()) ==
              std::vector<std::byte>(model.begin(), model.end()));
    RC_ASSERT(in.empty() == model.empty());
  }
}

}  // namespace
