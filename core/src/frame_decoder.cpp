// Frame decoder. Each call reads a header (straight from the input when all of it is there,
// else byte by byte into hdr_), validates it against RFC 6455 §5 before any payload is touched,
// then hands out payload pieces as they arrive: data pieces are unmasked in place and returned
// as spans into the caller's buffer (no copy); control frames are at most 125 bytes and, when
// split across calls, assembled in ctl_. Text is UTF-8 checked piece by piece, so an invalid
// byte fails the stream in the piece that carries it. Errors are sticky.
#include "detail/frame_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace wsx::detail {
namespace {

constexpr std::uint8_t u8(std::byte b) noexcept { return std::to_integer<std::uint8_t>(b); }

// Total header length once the first two bytes are known.
constexpr std::size_t header_length(std::byte b1) noexcept {
  const auto len7 = u8(b1) & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((u8(b1) & 0x80) ? 4 : 0);
}

// RFC 6455 §5.5: a control frame carries at most 125 bytes of payload.
constexpr std::size_t max_control_payload = 125;

bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 2 || (op >= 8 && op <= 10);
}

}  // namespace

frame_decoder::item frame_decoder::control_item(std::span<std::byte> payload) noexcept {
  item it;
  it.type = result::control;
  it.op = op_;
  it.payload = payload;
  return it;
}

frame_decoder::item frame_decoder::error_item() noexcept {
  item it;
  it.type = result::error;
  return it;
}

frame_decoder::item frame_decoder::fail(errc e) noexcept {
  failed_ = true;
  error_ = e;
  return error_item();
}

frame_decoder::item frame_decoder::next(std::span<std::byte> in, std::size_t& consumed) {
  if (failed_) return error_item();
  std::size_t pos = 0;

  if (!in_frame_) {
    // ---- header ----
    const std::byte* h = nullptr;
    if (hdr_have_ == 0 && in.size() >= 2 && in.size() >= header_length(in[1])) {
      h = in.data();  // fast path: the whole header is in the input
      pos = header_length(in[1]);
    } else {
      while (hdr_have_ < 2 && pos < in.size()) hdr_[hdr_have_++] = in[pos++];
      if (hdr_have_ < 2) {
        consumed += pos;
        return {};
      }
      const std::size_t need = header_length(hdr_[1]);
      const std::size_t take = std::min(need - hdr_have_, in.size() - pos);
      if (take != 0) std::memcpy(hdr_.data() + hdr_have_, in.data() + pos, take);
      hdr_have_ += take;
      pos += take;
      if (hdr_have_ < need) {
        consumed += pos;
        return {};
      }
      h = hdr_.data();
      hdr_have_ = 0;
    }
    consumed += pos;
    in = in.subspan(pos);
    pos = 0;

    const std::uint8_t b0 = u8(h[0]);
    const std::uint8_t b1 = u8(h[1]);
    const bool fin = (b0 & 0x80) != 0;
    const std::uint8_t op = b0 & 0x0F;
    const bool masked = (b1 & 0x80) != 0;
    std::uint64_t len = b1 & 0x7F;
    std::size_t at = 2;
    if (len == 126) {
      len = (std::uint64_t{u8(h[2])} << 8) | u8(h[3]);
      at = 4;
    } else if (len == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | u8(h[2 + i]);
      at = 10;
      // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
      if (len >> 63) return fail(errc::bad_length);
    }
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defining them was negotiated.
    const bool rsv1 = (b0 & 0x40) != 0;
    if ((b0 & 0x30) || (rsv1 && !rsv1_allowed_)) return fail(errc::reserved_bits);
    // RFC 6455 §5.2: reserved opcodes MUST fail the connection.
    if (!is_known_opcode(op)) return fail(errc::bad_opcode);
    // RFC 7692 §6.1: RSV1 is set on the first frame of a compressed message only.
    if (rsv1 && (op == 0 || op >= 8)) return fail(errc::bad_rsv1);
    // RFC 6455 §5.1: clients MUST mask, servers MUST NOT.
    if (masked != (receiver_ == role::server)) return fail(errc::bad_masking);
    const bool control = op >= 8;
    if (control) {
      // RFC 6455 §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
      if (!fin) return fail(errc::fragmented_control);
      if (len > max_control_payload) return fail(errc::control_too_large);
    } else {
      // RFC 6455 §5.4: a continuation needs a message in progress; a new message may not
      // start while one is unfinished.
      if (op == 0 && !in_message_) return fail(errc::bad_continuation);
      if (op != 0 && in_message_) return fail(errc::expected_continuation);
      if (len > limits_.max_frame_payload) return fail(errc::frame_too_large);
      const std::uint64_t total = (op == 0 ? message_size_ : 0) + len;
      if (total > limits_.max_message_size) return fail(errc::message_too_large);
      const std::size_t frags = (op == 0 ? fragments_ : 0) + 1;
      if (frags > limits_.max_fragments) return fail(errc::too_many_fragments);
      if (op != 0) {
        in_message_ = true;
        message_first_piece_ = true;
        kind_ = op == 1 ? message_kind::text : message_kind::binary;
        compressed_ = rsv1;
        utf8_.reset();
      }
      message_size_ = total;
      fragments_ = frags;
    }
    if (masked) std::memcpy(key_.data(), h + at, 4);
    key_phase_ = 0;
    in_frame_ = true;
    fin_ = fin;
    op_ = static_cast<opcode>(op);
    masked_ = masked;
    remaining_ = len;
    ctl_have_ = 0;
  }

  // ---- payload ----
  const std::size_t n = static_cast<std::size_t>(
      std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(in.size())));
  std::byte* p = in.data();
  if (n > 0 && masked_) key_phase_ = apply_mask(p, n, key_, key_phase_);
  remaining_ -= n;
  consumed += n;

  if (static_cast<std::uint8_t>(op_) >= 8) {
    if (remaining_ == 0 && ctl_have_ == 0) {
      in_frame_ = false;
      return control_item({p, n});
    }
    if (!ctl_) ctl_ = std::make_unique_for_overwrite<std::byte[]>(max_control_payload);
    if (n != 0) std::memcpy(ctl_.get() + ctl_have_, p, n);
    ctl_have_ += n;
    if (remaining_ > 0) return {};
    in_frame_ = false;
    return control_item({ctl_.get(), ctl_have_});
  }

  if (n == 0 && remaining_ > 0) return {};  // nothing of this frame's payload yet
  const bool frame_done = remaining_ == 0;
  const bool message_done = frame_done && fin_;
  if (kind_ == message_kind::text && !compressed_) {
    // RFC 6455 §8.1: text MUST be UTF-8; fail as soon as a byte makes that impossible.
    if (!utf8_.feed({p, n})) return fail(errc::invalid_utf8);
    if (message_done && !utf8_.complete()) return fail(errc::invalid_utf8);
  }
  item it{result::data, kind_, message_first_piece_, message_done, compressed_, op_, {p, n}};
  message_first_piece_ = false;
  if (frame_done) in_frame_ = false;
  if (message_done) {
    in_message_ = false;
    message_size_ = 0;
    fragments_ = 0;
  }
  return it;
}

}  // namespace wsx::detail
