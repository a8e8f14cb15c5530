// permessage-deflate's codec (RFC 7692 §7.2): one connection's compressor and decompressor over
// zlib raw deflate, each allocated when first needed, reset per message when the agreement says
// "no context takeover", and dropped by shrink() when they hold no context.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "detail/deflate_negotiation.hpp"
#include "wsx/errors.hpp"
#include "wsx/types.hpp"

namespace wsx::detail {

class deflate_codec {
 public:
  // `self` is this side's role: it decides which half of `p` is ours.
  deflate_codec(role self, const deflate_params& p) noexcept;
  ~deflate_codec();
  deflate_codec(const deflate_codec&) = delete;
  deflate_codec& operator=(const deflate_codec&) = delete;

  const deflate_params& params() const noexcept { return params_; }
  // False when this side may not compress at all (the peer allows a window of 8 only, which
  // zlib cannot honour): every message leaves uncompressed then.
  bool can_compress() const noexcept { return deflate_bits_ >= 9; }
  // The window this side's compressor uses.
  unsigned compress_window_bits() const noexcept { return deflate_bits_; }
  // The largest window the peer agreed to read this side's messages with (RFC 7692 §7.1.2).
  unsigned peer_window_bits() const noexcept { return peer_bits_; }

  // Compresses `in`, the next piece of the message being sent; `fin` ends the message, whose
  // 00 00 ff ff tail is then removed (§7.2.1). The result replaces `out`'s contents.
  // errc::compression_failed when zlib cannot allocate its stream.
  errc compress(bytes_view in, bool fin, std::vector<std::byte>& out);
  // Forgets the compressor's history. Always safe between two compress() calls: the peer keeps a
  // window the next output never refers to. Used after a send that queued nothing.
  void reset_compressor() noexcept;

  // Inflates `in`, the next piece of a compressed message, appending to `out`; `fin` ends the
  // message (the tail is put back, §7.2.2). At most `room` bytes are appended: one more is
  // errc::inflated_too_large, and `out` never reserves more than room bytes for them (zlib
  // writes into inflate_chunk() first, so `out` grows to what the message holds, not to a guess).
  // errc::bad_compressed_data for input zlib rejects, errc::compression_failed when it cannot
  // allocate. After an error the codec must not be used again.
  errc inflate(bytes_view in, bool fin, std::vector<std::byte>& out, std::size_t room);

  // Frees a stream that holds no context: one reset per message (no context takeover) between
  // two messages. A stream with context takeover keeps its window.
  void shrink() noexcept;
  // Bytes zlib holds now for both streams.
  std::size_t zlib_bytes() const noexcept { return zlib_bytes_; }

 private:
  struct stream;
  bool open_deflater();
  bool open_inflater();

  deflate_params params_;
  std::size_t zlib_bytes_ = 0;  // before the streams: their zfree counts into it to the end
  std::unique_ptr<stream> def_;
  std::unique_ptr<stream> inf_;
  std::uint8_t deflate_bits_;
  std::uint8_t inflate_bits_;
  std::uint8_t peer_bits_;
  bool reset_deflater_;     // our side: no context takeover
  bool reset_inflater_;     // the peer's side: no context takeover
  bool deflating_ = false;  // a message is half sent
  bool inflating_ = false;  // a message is half received
  bool ended_ = false;      // ... and its data had a final block (BFINAL)
};

// A buffer for compress()'s output, one per thread: a connection frames what it compressed at
// once, so the buffer is never needed by two connections at the same time.
std::vector<std::byte>& compression_scratch() noexcept;
// inflate()'s output buffer, 16 KiB, one per thread: its bytes are appended to the message before
// inflate() returns.
std::vector<std::byte>& inflate_chunk();

}  // namespace wsx::detail
