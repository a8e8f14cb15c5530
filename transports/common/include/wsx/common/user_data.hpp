// Per-session state the application attaches in the upgrade hook: typed user data, and the part
// of the upgrade request it chose to keep (path, query, named headers). Both travel with the
// session handle, so handlers find them with `s->user_data<T>()` and `s->request()` instead of
// a map keyed by session id.
//
// Type safety without RTTI: the holder records, next to the value, the address of a variable
// that exists once per type (user_data_key<T>), and get<T>() compares it. Only the exact type it
// was made with matches, const aside (no base-class conversions: user_data<Base>() on a Derived
// is nullptr; user_data<const T>() reads a T), typeid is never used, and -fno-rtti builds behave
// the same. The key's address is the same in every translation unit of the program (an inline
// variable); across shared libraries that each instantiate it, the usual ELF symbol
// interposition makes it one object as long as it is not hidden.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "wsx/types.hpp"

namespace wsx {

namespace detail {
// One object per type T in the program: its address identifies T.
template <class T>
inline constexpr char user_data_key = 0;
}  // namespace detail

// A value of any one type, or nothing. Copies share the value (it is made once, destroyed when
// the last copy goes). Not synchronised: the value is set before a session is handed out and
// never replaced, which is what makes reading it from any thread safe.
class user_data_holder {
 public:
  user_data_holder() = default;

  // A holder owning a T made from `args`.
  template <class T, class... Args>
  static user_data_holder make(Args&&... args) {
    user_data_holder h;
    h.value_ = std::make_shared<holder<T>>(std::forward<Args>(args)...);
    return h;
  }

  // The value if it is a T (exactly), else nullptr (also when empty). Valid as long as some
  // copy of this holder lives.
  template <class T>
  T* get() const noexcept {
    using V = std::remove_cv_t<T>;  // get<const T>() reads a T
    if (!value_ || value_->key != &detail::user_data_key<V>) return nullptr;
    return &static_cast<holder<V>*>(value_.get())->value;
  }
  bool has_value() const noexcept { return value_ != nullptr; }

 private:
  struct holder_base {
    explicit holder_base(const void* k) noexcept : key(k) {}
    virtual ~holder_base() = default;
    const void* key;
  };
  template <class T>
  struct holder final : holder_base {
    static_assert(std::is_same_v<T, std::remove_cvref_t<T>>, "user data is held by value");
    template <class... Args>
    explicit holder(Args&&... args)
        : holder_base(&detail::user_data_key<T>), value(std::forward<Args>(args)...) {}
    T value;
  };
  std::shared_ptr<holder_base> value_;
};

// What the upgrade hook kept of the request (upgrade_context::keep_request): the path, the
// query (without '?') and the headers it named, in the order the client sent them.
struct kept_request {
  std::string path;
  std::string query;
  std::vector<header_field> headers;

  // The first kept header named `name` (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

}  // namespace wsx
