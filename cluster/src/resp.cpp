// The RESP reader and formatter. hiredis's reader does the parsing; we give it our own object
// functions, so every string, array, integer and nil becomes a node of a `reply` tree we own,
// and so the limits are checked before anything is allocated: an array announcing more members
// than max_reply_bytes could hold, or a string longer than it, is refused there (the reader
// then fails with its OOM error, which we report as reply_too_large). The bytes buffered for an
// incomplete reply are bounded by receive(). Children live in their parent's `elements`, sized
// when the array is created, so the pointers hiredis keeps to them stay valid; only the root is
// allocated with new, and only the root is ever freed (by us, or by the reader on an error).
#include "resp.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "wsx/cluster/errors.hpp"

namespace wsx::cluster::detail {
namespace {

struct reader_context {
  std::size_t limit = 0;
  bool too_large = false;
};

reply* place(const redisReadTask* task, reply::kind type) {
  reply* r = nullptr;
  if (task->parent != nullptr) {
    auto* parent = static_cast<reply*>(task->parent->obj);
    if (parent == nullptr || task->idx < 0 ||
        static_cast<std::size_t>(task->idx) >= parent->elements.size()) {
      return nullptr;
    }
    r = &parent->elements[static_cast<std::size_t>(task->idx)];
  } else {
    r = new (std::nothrow) reply;
    if (r == nullptr) return nullptr;
  }
  r->type = type;
  return r;
}

reader_context* context_of(const redisReadTask* task) {
  return static_cast<reader_context*>(task->privdata);
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  reader_context* ctx = context_of(task);
  if (ctx == nullptr || len > ctx->limit) {
    if (ctx != nullptr) ctx->too_large = true;
    return nullptr;
  }
  reply::kind type = reply::kind::string;
  if (task->type == REDIS_REPLY_STATUS) type = reply::kind::status;
  if (task->type == REDIS_REPLY_ERROR) type = reply::kind::error;
  reply* r = place(task, type);
  if (r != nullptr) r->str.assign(str, len);
  return r;
}

void* create_array(const redisReadTask* task, int elements) {
  reader_context* ctx = context_of(task);
  // Every member takes at least 3 bytes on the wire (":1\r\n" is 4, "*0\r\n" 4, "+\r\n" 3).
  if (ctx == nullptr || elements < 0 || static_cast<std::size_t>(elements) > ctx->limit / 3) {
    if (ctx != nullptr) ctx->too_large = true;
    return nullptr;
  }
  reply* r = place(task, reply::kind::array);
  if (r != nullptr) r->elements.resize(static_cast<std::size_t>(elements));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  reply* r = place(task, reply::kind::integer);
  if (r != nullptr) r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) { return place(task, reply::kind::nil); }

void free_object(void* obj) { delete static_cast<reply*>(obj); }

redisReplyObjectFunctions reply_functions = {create_string, create_array, create_integer,
                                             create_nil, free_object};

}  // namespace

std::string_view reply::text(std::size_t i) const noexcept {
  if (i >= elements.size()) return {};
  const reply& e = elements[i];
  if (e.type != kind::string && e.type != kind::status) return {};
  return e.str;
}

resp_reader::resp_reader(std::size_t max_reply_bytes)
    : reader_(redisReaderCreateWithFunctions(&reply_functions)), limit_(max_reply_bytes) {
  if (reader_ != nullptr) reader_->privdata = new reader_context{max_reply_bytes, false};
}

resp_reader::~resp_reader() {
  if (reader_ == nullptr) return;
  delete static_cast<reader_context*>(reader_->privdata);
  redisReaderFree(reader_);
}

std::error_code resp_reader::fail(std::error_code ec) {
  if (!error_) error_ = ec;
  return error_;
}

std::size_t resp_reader::buffered() const noexcept {
  return reader_ == nullptr ? 0 : reader_->len - reader_->pos;
}

std::error_code resp_reader::receive(std::span<const char> in,
                                     const std::function<void(reply&)>& on_reply) {
  if (error_) return error_;
  if (reader_ == nullptr) return fail(errc::protocol_error);
  // Feed no more than the limit can hold, take out the replies that completed, go on: a read
  // holding many small replies is fine, one reply past the limit is not.
  while (!in.empty()) {
    const std::size_t room = limit_ > buffered() ? limit_ - buffered() : 0;
    if (room == 0) return fail(errc::reply_too_large);
    const std::size_t take = std::min(room, in.size());
    if (redisReaderFeed(reader_, in.data(), take) != REDIS_OK) return fail(errc::protocol_error);
    in = in.subspan(take);
    std::error_code ec;
    while (std::optional<reply> r = next(ec)) on_reply(*r);
    if (ec) return ec;
  }
  return {};
}

std::optional<reply> resp_reader::next(std::error_code& ec) {
  ec = error_;
  if (error_ || reader_ == nullptr) return std::nullopt;
  void* obj = nullptr;
  auto* ctx = static_cast<reader_context*>(reader_->privdata);
  if (redisReaderGetReply(reader_, &obj) != REDIS_OK) {
    ec = fail(ctx->too_large ? errc::reply_too_large : errc::protocol_error);
    return std::nullopt;
  }
  if (obj == nullptr) return std::nullopt;
  std::unique_ptr<reply> r(static_cast<reply*>(obj));
  return std::move(*r);
}

void format_command(std::string& out, std::span<const std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  const int n =
      redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (n > 0 && cmd != nullptr) out.append(cmd, static_cast<std::size_t>(n));
  redisFreeCommand(cmd);
}

}  // namespace wsx::cluster::detail
