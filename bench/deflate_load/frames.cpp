// Theory of operation. Sending: every message is compressed once, at start-up, by a fresh raw
// deflate stream ending in a sync flush whose 00 00 ff ff is cut (RFC 7692 §7.2.1), then framed
// and masked; frames lie back to back in a ring with the first `depth` repeated at its end, so
// that any k <= depth consecutive messages are one contiguous range: a refill is one send().
// Receiving: a frame header is gathered byte by byte (at most 14), payload bytes are handed on
// as they arrive: a compressed message's to zlib (output in 64 KiB steps), a plain one's
// straight to the comparison, which checks them against the expected message at the position
// reached. At the message's end the tail is inflated (§7.2.2) and the length checked; the
// inflater is reset when the server agreed to no context takeover, and a final block (BFINAL)
// is carried over by re-seeding a fresh stream with the window, as takeover requires.
#include "frames.hpp"

#include <openssl/rand.h>

#include <cstring>

namespace deflate_load {
namespace {

constexpr unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};

// The raw deflate of one message, without the sync flush's tail.
bool compress(const std::string& in, unsigned window, int level, int mem_level,
              std::vector<unsigned char>& out) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, -static_cast<int>(window), mem_level,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  out.resize(deflateBound(&z, in.size()) + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&z, Z_SYNC_FLUSH);
  const std::size_t n = out.size() - z.avail_out;
  deflateEnd(&z);
  if (r != Z_OK || z.avail_in != 0 || n < 4 || std::memcmp(out.data() + n - 4, tail, 4) != 0)
    return false;
  out.resize(n - 4);
  return true;
}

void append_frame(std::vector<unsigned char>& ring, const unsigned char* p, std::size_t n,
                  bool rsv1, const unsigned char mask[4]) {
  ring.push_back(static_cast<unsigned char>(0x80 | (rsv1 ? 0x40 : 0) | 0x1));  // FIN, text
  if (n < 126) {
    ring.push_back(static_cast<unsigned char>(0x80 | n));
  } else if (n < 65536) {
    ring.insert(ring.end(),
                {0x80 | 126, static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)});
  } else {
    ring.push_back(0x80 | 127);
    for (int i = 7; i >= 0; --i) ring.push_back(static_cast<unsigned char>(n >> (8 * i)));
  }
  ring.insert(ring.end(), mask, mask + 4);
  for (std::size_t i = 0; i < n; ++i) ring.push_back(p[i] ^ mask[i & 3]);
}

}  // namespace

std::string build_frames(workload& w, std::size_t depth, int level, int mem_level) {
  unsigned char mask[4];
  if (RAND_bytes(mask, 4) != 1 || (mask[0] | mask[1] | mask[2] | mask[3]) == 0)
    std::memcpy(mask, "\x3a\x91\x5c\x07", 4);
  w.compressed = w.agreed.deflate && w.agreed.client_window_bits >= 9;
  std::vector<std::vector<unsigned char>> bodies(w.count());
  for (std::size_t i = 0; i < w.count(); ++i) {
    const std::string& m = w.messages[i];
    if (!w.compressed) {
      bodies[i].assign(m.begin(), m.end());
    } else if (!compress(m, w.agreed.client_window_bits, level, mem_level, bodies[i])) {
      return "zlib could not compress message " + std::to_string(i);
    }
  }
  w.ring.clear();
  w.offsets.clear();
  w.wire_bytes = 0;
  for (std::size_t i = 0; i < w.count() + depth; ++i) {
    const auto& b = bodies[i % w.count()];
    w.offsets.push_back(w.ring.size());
    append_frame(w.ring, b.data(), b.size(), w.compressed, mask);
    if (i < w.count()) w.wire_bytes += b.size();
  }
  w.offsets.push_back(w.ring.size());
  return {};
}

echo_stream::echo_stream(const workload& w, std::size_t first) : w_(w), expect_(first) {}

echo_stream::~echo_stream() {
  if (z_) inflateEnd(z_.get());
}

std::string echo_stream::feed(const unsigned char* p, std::size_t n, std::size_t& echoes,
                              std::string& control) {
  while (n > 0) {
    if (!in_payload_) {
      hdr_[hdr_have_++] = *p++;
      --n;
      std::size_t need = 2;
      if (hdr_have_ >= 2) need += (hdr_[1] & 0x7f) == 126 ? 2 : (hdr_[1] & 0x7f) == 127 ? 8 : 0;
      if (hdr_have_ < need) continue;
      if (std::string e = on_header(); !e.empty()) return e;
      if (left_ != 0) continue;
    } else {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(left_, n));
      if (std::string e = on_payload(p, k); !e.empty()) return e;
      p += k;
      n -= k;
      left_ -= k;
      if (left_ != 0) continue;
    }
    if (std::string e = on_frame_end(echoes, control); !e.empty()) return e;
  }
  return {};
}

std::string echo_stream::on_header() {
  const unsigned char b0 = hdr_[0], b1 = hdr_[1];
  if (b1 & 0x80) return "masked frame from the server";
  fin_ = b0 & 0x80;
  op_ = b0 & 0x0f;
  const bool rsv1 = b0 & 0x40;
  if (b0 & 0x30) return "RSV2 or RSV3 set";
  std::uint64_t len = b1 & 0x7f;
  if (len == 126) len = std::uint64_t{hdr_[2]} << 8 | hdr_[3];
  if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = len << 8 | hdr_[2 + i];
  }
  hdr_have_ = 0;
  left_ = len;
  in_payload_ = len != 0;
  if (op_ >= 8) {
    if (!fin_ || len > 125 || rsv1) return "bad control frame";
    ctrl_.clear();
    return {};
  }
  if (op_ == 0) {
    if (!in_message_) return "continuation frame outside a message";
    if (rsv1) return "RSV1 on a continuation frame";
  } else {
    if (in_message_) return "new data frame inside a fragmented message";
    if (op_ != 1) return "echo is not a text message (opcode " + std::to_string(op_) + ")";
    if (rsv1 && !w_.agreed.deflate) return "RSV1 without permessage-deflate";
    in_message_ = true;
    message_compressed_ = rsv1;
    message_op_ = op_;
    got_ = 0;
    if (rsv1) ++compressed_echoes;
  }
  return {};
}

std::string echo_stream::on_payload(const unsigned char* p, std::size_t n) {
  if (op_ >= 8) {
    ctrl_.append(reinterpret_cast<const char*>(p), n);
    return {};
  }
  wire_bytes += n;
  return message_compressed_ ? inflate_some(p, n, false) : compare(p, n);
}

std::string echo_stream::on_frame_end(std::size_t& echoes, std::string& control) {
  in_payload_ = false;
  if (op_ == 0x9) {  // ping: a masked pong with the same payload (RFC 6455 §5.5.2)
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    control.push_back(static_cast<char>(0x8A));
    control.push_back(static_cast<char>(0x80 | ctrl_.size()));
    control.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < ctrl_.size(); ++i)
      control.push_back(static_cast<char>(ctrl_[i] ^ mask[i & 3]));
    return {};
  }
  if (op_ == 0x8) {
    const unsigned code =
        ctrl_.size() >= 2
            ? (static_cast<unsigned char>(ctrl_[0]) << 8 | static_cast<unsigned char>(ctrl_[1]))
            : 1005;
    return "server closed with " + std::to_string(code) + " " +
           (ctrl_.size() > 2 ? ctrl_.substr(2) : std::string());
  }
  if (op_ == 0xA) return {};
  if (op_ > 2 && op_ < 8) return "reserved opcode " + std::to_string(op_);
  if (!fin_) return {};
  if (message_compressed_ && !ended_) {
    if (std::string e = inflate_some(tail, 4, true); !e.empty()) return e;
  }
  const std::string& m = w_.messages[expect_];
  if (got_ != m.size() || message_op_ != 1)
    return "echo of message " + std::to_string(expect_) + " has " + std::to_string(got_) +
           " bytes, expected " + std::to_string(m.size());
  if (message_compressed_) {
    if (w_.agreed.server_no_context_takeover) {
      inflateReset(z_.get());
    } else if (ended_) {  // takeover across a final block: keep the window in a fresh stream
      std::vector<Bytef> window(std::size_t{1} << w_.agreed.server_window_bits);
      auto len = static_cast<uInt>(window.size());
      inflateGetDictionary(z_.get(), window.data(), &len);
      inflateReset(z_.get());
      inflateSetDictionary(z_.get(), window.data(), len);
    }
  }
  ended_ = false;
  in_message_ = false;
  expect_ = (expect_ + 1) % w_.count();
  ++echoes;
  return {};
}

std::string echo_stream::inflate_some(const unsigned char* p, std::size_t n, bool is_tail) {
  static thread_local std::vector<unsigned char> out(64 * 1024);
  if (!z_) {
    z_ = std::make_unique<z_stream>();
    if (inflateInit2(z_.get(), -static_cast<int>(w_.agreed.server_window_bits)) != Z_OK) {
      z_.reset();
      return "inflateInit2 failed";
    }
  }
  if (ended_) return "data after the final deflate block";
  z_stream& z = *z_;
  z.next_in = const_cast<Bytef*>(p);
  z.avail_in = static_cast<uInt>(n);
  for (;;) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int r = ::inflate(&z, Z_SYNC_FLUSH);
    if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
      return std::string("inflate: ") + (z.msg ? z.msg : "error");
    if (std::string e = compare(out.data(), out.size() - z.avail_out); !e.empty()) return e;
    if (r == Z_STREAM_END) {
      ended_ = true;
      if (z.avail_in != 0 && !is_tail) return "data after the final deflate block";
      return {};
    }
    if (z.avail_out != 0) return {};  // all input taken, all output given
  }
}

std::string echo_stream::compare(const unsigned char* p, std::size_t n) {
  const std::string& m = w_.messages[expect_];
  if (got_ + n > m.size())
    return "echo of message " + std::to_string(expect_) + " longer than " +
           std::to_string(m.size()) + " bytes";
  if (std::memcmp(m.data() + got_, p, n) != 0)
    return "echo of message " + std::to_string(expect_) + " differs near byte " +
           std::to_string(got_);
  got_ += n;
  return {};
}

}  // namespace deflate_load
