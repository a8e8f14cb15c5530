// Incremental UTF-8 validation for RFC 6455 §8.1 (text payloads) and §5.5.1 (close reasons).
//
// Theory of operation: a deterministic automaton over byte classes accepts exactly the
// well-formed sequences of RFC 3629 §4. Each byte maps to one of 13 classes; the state remembers
// how many continuation bytes are still owed and, right after a lead byte, which range the next
// one must fall in (that is what makes it fail fast on overlongs, surrogates and > U+10FFFF).
// States are stored pre-multiplied by the row stride so a step is a single table load. `reject`
// absorbs every class, so failure is sticky. Between code points (state `accept`) ASCII runs are
// skipped 64/16 bytes at a time with SSE2, or 8 at a time with a word test elsewhere, because
// most WebSocket text is ASCII.
#include "detail/utf8.hpp"

#include <array>
#include <bit>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace wsx::detail {
namespace {

// Byte classes. Ranges follow the UTF8-octets grammar of RFC 3629 §4.
enum : std::uint8_t {
  c_ascii = 0,  // 00..7F
  c_cont_lo,    // 80..8F
  c_cont_mid,   // 90..9F
  c_cont_hi,    // A0..BF
  c_overlong2,  // C0..C1: would encode U+0000..U+007F in two bytes
  c_lead2,      // C2..DF
  c_e0,         // E0: second byte A0..BF (else overlong)
  c_lead3,      // E1..EC, EE..EF
  c_ed,         // ED: second byte 80..9F (else a UTF-16 surrogate, RFC 3629 §3)
  c_f0,         // F0: second byte 90..BF (else overlong)
  c_lead4,      // F1..F3
  c_f4,         // F4: second byte 80..8F (else beyond U+10FFFF)
  c_invalid,    // F5..FF: never appear in UTF-8
  class_count
};

constexpr std::uint32_t stride = 16;  // row width of the transition table, >= class_count

// States, pre-multiplied by `stride`.
enum : std::uint32_t {
  accept = 0 * stride,    // between code points
  reject = 1 * stride,    // sticky failure
  tail1 = 2 * stride,     // one more continuation byte (80..BF)
  tail2 = 3 * stride,     // two more continuation bytes
  tail3 = 4 * stride,     // three more continuation bytes
  after_e0 = 5 * stride,  // next A0..BF, then tail1
  after_ed = 6 * stride,  // next 80..9F, then tail1
  after_f0 = 7 * stride,  // next 90..BF, then tail2
  after_f4 = 8 * stride,  // next 80..8F, then tail2
};
constexpr std::uint32_t state_count = 9;

struct class_range {
  std::uint8_t first, last, cls;
};

// RFC 3629 §4 (UTF8-octets ABNF), one row per byte range.
constexpr class_range class_ranges[] = {
    {0x00, 0x7F, c_ascii},   {0x80, 0x8F, c_cont_lo},   {0x90, 0x9F, c_cont_mid},
    {0xA0, 0xBF, c_cont_hi}, {0xC0, 0xC1, c_overlong2}, {0xC2, 0xDF, c_lead2},
    {0xE0, 0xE0, c_e0},      {0xE1, 0xEC, c_lead3},     {0xED, 0xED, c_ed},
    {0xEE, 0xEF, c_lead3},   {0xF0, 0xF0, c_f0},        {0xF1, 0xF3, c_lead4},
    {0xF4, 0xF4, c_f4},      {0xF5, 0xFF, c_invalid},
};

constexpr bool ranges_cover_every_byte_once() {
  unsigned next = 0;
  for (const class_range& r : class_ranges) {
    if (r.first != next || r.last < r.first) return false;
    next = r.last + 1u;
  }
  return next == 256;
}
static_assert(ranges_cover_every_byte_once());

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> c{};
  for (const class_range& r : class_ranges) {
    for (unsigned b = r.first; b <= r.last; ++b) c[b] = r.cls;
  }
  return c;
}

constexpr std::array<std::uint8_t, state_count * stride> make_transitions() {
  std::array<std::uint8_t, state_count * stride> t{};
  for (auto& v : t) v = reject;  // anything not listed below is impossible
  auto set = [&t](std::uint32_t from, std::uint8_t cls, std::uint32_t to) {
    t[from + cls] = static_cast<std::uint8_t>(to);
  };
  set(accept, c_ascii, accept);
  set(accept, c_lead2, tail1);
  set(accept, c_e0, after_e0);
  set(accept, c_lead3, tail2);
  set(accept, c_ed, after_ed);
  set(accept, c_f0, after_f0);
  set(accept, c_lead4, tail3);
  set(accept, c_f4, after_f4);
  for (std::uint8_t cont : {c_cont_lo, c_cont_mid, c_cont_hi}) {
    set(tail1, cont, accept);
    set(tail2, cont, tail1);
    set(tail3, cont, tail2);
  }
  set(after_e0, c_cont_hi, tail1);
  set(after_ed, c_cont_lo, tail1);
  set(after_ed, c_cont_mid, tail1);
  set(after_f0, c_cont_mid, tail2);
  set(after_f0, c_cont_hi, tail2);
  set(after_f4, c_cont_lo, tail2);
  return t;
}

constexpr auto byte_class = make_classes();
constexpr auto transition = make_transitions();

static_assert(class_count <= stride);
static_assert(reject <= 0xFF && state_count * stride <= 0x100, "states must fit a uint8_t");

// Returns the first byte in [p, end) with the high bit set, or `end`.
const std::byte* skip_ascii(const std::byte* p, const std::byte* end) noexcept {
#ifdef __SSE2__
  while (end - p >= 64) {
    const auto* v = reinterpret_cast<const __m128i*>(p);
    const __m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
                                     _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));
    if (_mm_movemask_epi8(any) != 0) break;  // the 16-byte loop finds the exact byte
    p += 64;
  }
  while (end - p >= 16) {
    const int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (high != 0) return p + std::countr_zero(static_cast<unsigned>(high));
    p += 16;
  }
#endif
  constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    const std::uint64_t high = word & high_bits;
    if (high != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return p + std::countr_zero(high) / 8;
      } else {
        break;  // the byte loop below finds it
      }
    }
    p += 8;
  }
  while (p != end && std::to_integer<std::uint8_t>(*p) < 0x80) ++p;
  return p;
}

}  // namespace

bool utf8_validator::feed(bytes_view bytes) noexcept {
  std::uint32_t s = state_;
  if (s == reject) return false;
  const std::byte* p = bytes.data();
  const std::byte* const end = p + bytes.size();
  while (p != end) {
    if (s == accept && std::to_integer<std::uint8_t>(*p) < 0x80) {
      p = skip_ascii(p, end);
      continue;
    }
    s = transition[s + byte_class[std::to_integer<std::uint8_t>(*p)]];
    ++p;
    // RFC 6455 §8.1: an endpoint that finds invalid UTF-8 MUST fail the connection; stop at the
    // first impossible byte so the caller learns as early as the bytes allow.
    if (s == reject) break;
  }
  state_ = s;
  return s != reject;
}

bool utf8_validator::failed() const noexcept { return state_ == reject; }

bool is_valid_utf8(bytes_view bytes) noexcept {
  utf8_validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace wsx::detail
