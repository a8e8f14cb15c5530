// wsx::user_data_holder and wsx::kept_request (wsx/common/user_data.hpp): a holder reads back
// only as the exact type it was made with (const aside), copies share one value that dies with
// the last copy, and a kept request finds its headers whatever their case. The transports' side
// (attached in the hook, destroyed on every close path) is tested over real sockets in
// tests/transports/asio/user_data_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "wsx/common/user_data.hpp"

namespace {

struct base {
  int b = 1;
};
struct derived : base {
  int d = 2;
};
struct counted {
  explicit counted(int& live) : live_(live) { ++live_; }
  ~counted() { --live_; }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  int& live_;
};

TEST(user_data_holder, reads_back_only_as_the_type_it_was_made_with) {
  const wsx::user_data_holder empty;
  EXPECT_FALSE(empty.has_value());
  EXPECT_EQ(empty.get<int>(), nullptr);

  const auto h = wsx::user_data_holder::make<long>(7L);
  ASSERT_TRUE(h.has_value());
  ASSERT_NE(h.get<long>(), nullptr);
  EXPECT_EQ(*h.get<long>(), 7L);
  EXPECT_EQ(h.get<int>(), nullptr);  // no conversions
  EXPECT_EQ(h.get<unsigned long>(), nullptr);
  EXPECT_EQ(h.get<const long>(), h.get<long>());  // const aside
  *h.get<long>() = 8;                             // the value is the application's to change
  EXPECT_EQ(*h.get<const long>(), 8L);

  const auto d = wsx::user_data_holder::make<derived>();
  EXPECT_NE(d.get<derived>(), nullptr);
  EXPECT_EQ(d.get<base>(), nullptr);  // exact type only
  const auto s = wsx::user_data_holder::make<std::string>(3, 'x');
  EXPECT_EQ(*s.get<std::string>(), "xxx");
}

TEST(user_data_holder, copies_share_one_value_that_dies_with_the_last_copy) {
  int live = 0;
  {
    wsx::user_data_holder a = wsx::user_data_holder::make<counted>(live);
    EXPECT_EQ(live, 1);
    wsx::user_data_holder b = a;
    EXPECT_EQ(a.get<counted>(), b.get<counted>());
    a = wsx::user_data_holder();
    EXPECT_EQ(live, 1);
    EXPECT_EQ(a.get<counted>(), nullptr);
    EXPECT_NE(b.get<counted>(), nullptr);
  }
  EXPECT_EQ(live, 0);
}

TEST(kept_request, finds_headers_case_insensitively_and_in_order) {
  wsx::kept_request r;
  r.path = "/chat";
  r.headers = {{"X-Trace", "one"}, {"x-trace", "two"}, {"User-Agent", "ua"}};
  EXPECT_EQ(r.header("x-TRACE"), "one");
  EXPECT_EQ(r.header("user-agent"), "ua");
  EXPECT_FALSE(r.header("Host"));
  EXPECT_FALSE(r.header("X-Trac"));
}

}  // namespace
