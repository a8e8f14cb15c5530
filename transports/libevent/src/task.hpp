// A move-only `void()` callable: what the loops' mailboxes carry between threads (a new
// connection's socket, a server's stop, a resolver's answer). std::function needs copyable
// targets, and some of these own a file descriptor.
#pragma once

#include <memory>
#include <utility>

namespace wsx::libevent::detail {

class task {
 public:
  task() = default;
  template <class F>
  task(F f)  // NOLINT: implicit, like std::function
      : impl_(std::make_unique<model<F>>(std::move(f))) {}

  void operator()() { impl_->run(); }
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  struct base {
    virtual ~base() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct model final : base {
    explicit model(F fn) : f(std::move(fn)) {}
    void run() override { f(); }
    F f;
  };
  std::unique_ptr<base> impl_;
};

}  // namespace wsx::libevent::detail
