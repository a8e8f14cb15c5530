// permessage-deflate codec (RFC 7692 §7.2) over zlib's raw deflate (negative windowBits).
//
// Sending: each piece of a message goes through deflate() with Z_SYNC_FLUSH, so it ends on a
// byte boundary with an empty stored block; the last piece's 00 00 ff ff is cut off (§7.2.1).
// Receiving: pieces go through inflate() and the tail is fed back after the last one (§7.2.2).
// zlib inflates into a 16 KiB chunk per thread, appended to the message once counted against the
// caller's room: the message's buffer holds what it needs, never more than the limit, however
// much a bomb would inflate to. zalloc/zfree count zlib's bytes. A stream is opened on first use,
// reset after every message when its direction has no context takeover, and then freed by
// shrink() between messages.
#include "detail/deflate_codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "detail/frame_encoder.hpp"
#include "wsx/shared_message.hpp"

namespace wsx::detail {
namespace {

constexpr std::byte tail[4] = {std::byte{0x00}, std::byte{0x00}, std::byte{0xff}, std::byte{0xff}};

// zlib's allocations, each with its size in front so zfree can count it back.
struct counted_alloc {
  static voidpf alloc(voidpf opaque, uInt items, uInt size) {
    const std::size_t n = std::size_t{items} * size;
    auto* p = static_cast<std::size_t*>(std::malloc(n + sizeof(std::max_align_t)));
    if (!p) return nullptr;
    *p = n;
    *static_cast<std::size_t*>(opaque) += n;
    return reinterpret_cast<std::byte*>(p) + sizeof(std::max_align_t);
  }
  static void free(voidpf opaque, voidpf address) {
    if (!address) return;
    auto* p =
        reinterpret_cast<std::size_t*>(static_cast<std::byte*>(address) - sizeof(std::max_align_t));
    *static_cast<std::size_t*>(opaque) -= *p;
    std::free(p);
  }
};

}  // namespace

struct deflate_codec::stream {
  z_stream z{};
  bool deflater = false;
  ~stream() {
    if (deflater) {
      deflateEnd(&z);
    } else {
      inflateEnd(&z);
    }
  }
};

deflate_codec::deflate_codec(role self, const deflate_params& p) noexcept
    : params_(p),
      deflate_bits_(p.deflate_window_bits),
      inflate_bits_(self == role::server ? p.client_max_window_bits : p.server_max_window_bits),
      peer_bits_(self == role::server ? p.server_max_window_bits : p.client_max_window_bits),
      reset_deflater_(self == role::server ? p.server_no_context_takeover
                                           : p.client_no_context_takeover),
      reset_inflater_(self == role::server ? p.client_no_context_takeover
                                           : p.server_no_context_takeover) {}

deflate_codec::~deflate_codec() = default;

bool deflate_codec::open_deflater() {
  if (def_) return true;
  auto s = std::make_unique<stream>();
  s->z.zalloc = &counted_alloc::alloc;
  s->z.zfree = &counted_alloc::free;
  s->z.opaque = &zlib_bytes_;
  // Negative windowBits: raw deflate, no zlib header or trailer (RFC 7692 §7.2.1).
  if (deflateInit2(&s->z, params_.level, Z_DEFLATED, -static_cast<int>(deflate_bits_),
                   params_.mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
    return false;
  s->deflater = true;
  def_ = std::move(s);
  return true;
}

bool deflate_codec::open_inflater() {
  if (inf_) return true;
  auto s = std::make_unique<stream>();
  s->z.zalloc = &counted_alloc::alloc;
  s->z.zfree = &counted_alloc::free;
  s->z.opaque = &zlib_bytes_;
  if (inflateInit2(&s->z, -static_cast<int>(inflate_bits_)) != Z_OK) return false;
  inf_ = std::move(s);
  return true;
}

errc deflate_codec::compress(bytes_view in, bool fin, std::vector<std::byte>& out) {
  out.clear();
  if (!open_deflater()) return errc::compression_failed;
  z_stream& z = def_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::size_t used = 0;
  // Room for incompressible input: stored blocks add 5 bytes per 16 KiB, the flush a few more.
  out.resize(in.size() + in.size() / 1024 + 64);
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(out.size() - used);
    const int r = deflate(&z, Z_SYNC_FLUSH);
    used = out.size() - z.avail_out;
    if (r != Z_OK && r != Z_BUF_ERROR) {
      reset_compressor();
      return errc::compression_failed;
    }
    if (z.avail_out != 0) break;  // everything in and flushed
    out.resize(out.size() * 2);
  }
  out.resize(used);
  deflating_ = !fin;
  if (fin) {
    // §7.2.1: remove the 00 00 ff ff the sync flush ended with. With nothing new to flush zlib
    // writes nothing; the stream is byte-aligned after the last flush, so an empty stored block
    // (0x00 and the tail, §7.2.3.6) ends the message.
    if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, tail, 4) == 0) {
      out.resize(out.size() - 4);
    } else {
      out.push_back(std::byte{0x00});
    }
    if (reset_deflater_) deflateReset(&z);
  }
  return errc{};
}

void deflate_codec::reset_compressor() noexcept {
  if (def_) deflateReset(&def_->z);
  deflating_ = false;
}

errc deflate_codec::inflate(bytes_view in, bool fin, std::vector<std::byte>& out,
                            std::size_t room) {
  if (!open_inflater()) return errc::compression_failed;
  inflating_ = true;
  z_stream& z = inf_->z;
  std::vector<std::byte>& chunk = inflate_chunk();
  const std::size_t start = out.size();
  const auto run = [&](bytes_view data, bool is_tail) -> errc {
    // After a final block (BFINAL) only the tail we add may follow, in any piece.
    if (ended_) return data.empty() || is_tail ? errc{} : errc::bad_compressed_data;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    for (;;) {
      z.next_out = reinterpret_cast<Bytef*>(chunk.data());
      z.avail_out = static_cast<uInt>(chunk.size());
      const int r = ::inflate(&z, Z_SYNC_FLUSH);
      if (r == Z_MEM_ERROR) return errc::compression_failed;
      if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END) return errc::bad_compressed_data;
      const std::size_t got = chunk.size() - z.avail_out;
      if (out.size() - start + got > room) return errc::inflated_too_large;
      if (got != 0) {
        // Exactly what the message needs when it comes in one chunk, doubling after that, never
        // past the room: the buffer holds no spare bytes for the connection to keep.
        if (out.capacity() < out.size() + got)
          out.reserve(std::min(std::max(out.capacity() * 2, out.size() + got), start + room));
        out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
      }
      if (r == Z_STREAM_END) {
        ended_ = true;
        return z.avail_in != 0 && !is_tail ? errc::bad_compressed_data : errc{};
      }
      if (z.avail_out != 0) return errc{};  // all input taken and all its output given
    }
  };
  errc e = run(in, false);
  if (e == errc{} && fin) e = run({tail, 4}, true);
  if (e != errc{}) out.resize(start);
  if (e != errc{} || !fin) return e;
  inflating_ = false;
  if (reset_inflater_) {
    inflateReset(&z);
  } else if (ended_) {
    // A final block ended zlib's stream: start a new one that keeps the window (takeover).
    std::vector<Bytef> window(std::size_t{1} << inflate_bits_);
    auto n = static_cast<uInt>(window.size());
    inflateGetDictionary(&z, window.data(), &n);
    inflateReset(&z);
    inflateSetDictionary(&z, window.data(), n);
  }
  ended_ = false;
  return errc{};
}

std::vector<std::byte>& compression_scratch() noexcept {
  thread_local std::vector<std::byte> scratch;
  return scratch;
}

std::vector<std::byte>& inflate_chunk() {
  thread_local std::vector<std::byte> chunk(16 * 1024);
  return chunk;
}

void deflate_codec::shrink() noexcept {
  if (def_ && reset_deflater_ && !deflating_) def_.reset();
  if (inf_ && reset_inflater_ && !inflating_) inf_.reset();
}

}  // namespace wsx::detail

namespace wsx {

// One fresh stream compresses the message once; every receiver's decompressor can read it, since
// it refers to nothing before it (a connection's own compressor is reset after it, see
// connection::send_shared()).
shared_message shared_message::make_compressed(message_kind kind, bytes_view payload, int level,
                                               unsigned window_bits) {
  shared_message m = make(kind, payload);
  detail::deflate_params p;
  p.deflate_window_bits = static_cast<std::uint8_t>(std::clamp(window_bits, 9u, 15u));
  p.level = std::clamp(level, 1, 9);
  detail::deflate_codec codec{role::server, p};
  std::vector<std::byte> body;
  if (codec.compress(payload, true, body) != errc{}) return m;
  const opcode op = kind == message_kind::text ? opcode::text : opcode::binary;
  const std::size_t hs = detail::frame_header_size(body.size(), false);
  auto bytes = std::make_shared<std::vector<std::byte>>(hs + body.size());
  detail::write_frame_header(bytes->data(), true, op, body.size(), nullptr, true);
  std::memcpy(bytes->data() + hs, body.data(), body.size());
  m.compressed_ = std::move(bytes);
  m.window_bits_ = p.deflate_window_bits;
  return m;
}

}  // namespace wsx
