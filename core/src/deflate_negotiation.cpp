// permessage-deflate negotiation (RFC 7692 §7.1).
//
// parse_extensions() reads the RFC 6455 §9.1 list grammar (elements split on commas outside
// quotes, parameters on semicolons, values a token or a quoted-string). check_deflate_element()
// applies §7.1's rules to one element. The server walks the offers in order (§5.1: it accepts
// at most one, the first it can honour) and sizes both directions from the memory budget: its own
// compressor's window and memLevel, and the client's window when the offer lets it set one. A
// compressor never runs with a window of 8: zlib's raw deflate refuses it (older versions
// silently used 9), so the server declines server_max_window_bits=8 and a client told
// client_max_window_bits=8 sends every message uncompressed.
#include "detail/deflate_negotiation.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "detail/http_fields.hpp"

namespace wsx::detail {
namespace {

constexpr std::string_view extension_name = "permessage-deflate";
constexpr std::size_t deflate_state_bytes = 5952;  // zlib 1.2.13, x86-64: sizeof(deflate_state)
constexpr std::size_t inflate_state_bytes = 7160;  // sizeof(struct inflate_state)

// Splits on `sep` outside double quotes (a backslash escapes inside them).
std::vector<std::string_view> split_outside_quotes(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size()) {
      if (quoted && s[i] == '\\' && i + 1 < s.size()) {
        ++i;
        continue;
      }
      if (s[i] == '"') quoted = !quoted;
      if (s[i] != sep || quoted) continue;
    }
    out.push_back(trim(s.substr(start, i - start)));
    start = i + 1;
  }
  return out;
}

// A token, or a quoted-string (RFC 9110 §5.6.4) unquoted into `out`.
bool read_value(std::string_view v, std::string& out) {
  if (v.empty()) return false;
  if (v.front() != '"') {
    out.assign(v);
    return valid_header_name(v);
  }
  if (v.size() < 2 || v.back() != '"') return false;
  out.clear();
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '"') return false;
    if (v[i] == '\\' && ++i + 1 >= v.size()) return false;  // a backslash escapes one char
    out += v[i];
  }
  // RFC 7692 §7.1: a quoted value must be a token once unquoted.
  return valid_header_name(out);
}

// RFC 7692 §7.1.2.1: "a decimal integer value without leading zeroes between 8 to 15".
std::optional<std::uint8_t> window_bits(const std::string& v) {
  if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return static_cast<std::uint8_t>(v[0] - '0');
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
    return static_cast<std::uint8_t>(10 + v[1] - '0');
  return std::nullopt;
}

// What a budget buys: this side's compressor window and memLevel, and its decompressor window.
struct sizing {
  std::uint8_t deflate_bits;
  std::uint8_t mem_level;
  std::uint8_t inflate_bits;
};
// Compressor settings from the most to the least memory: window and memLevel shrink together.
constexpr std::array<std::pair<std::uint8_t, std::uint8_t>, 14> candidates{{{15, 8},
                                                                            {15, 7},
                                                                            {14, 7},
                                                                            {14, 6},
                                                                            {13, 6},
                                                                            {13, 5},
                                                                            {12, 5},
                                                                            {12, 4},
                                                                            {11, 4},
                                                                            {11, 3},
                                                                            {10, 3},
                                                                            {10, 2},
                                                                            {9, 2},
                                                                            {9, 1}}};

// The first candidate that fits `budget`. The compressor window is capped by `max_deflate`
// (>= 9); the decompressor's is `max_inflate`, or shrinks with the compressor's when this side
// may choose it (`inflate_adjustable`).
std::optional<sizing> fit(std::size_t budget, std::uint8_t max_deflate, std::uint8_t max_inflate,
                          bool inflate_adjustable) {
  for (const auto& [w, ml] : candidates) {
    const auto wd = std::min(w, max_deflate);
    const auto wi = inflate_adjustable ? std::min(w, max_inflate) : max_inflate;
    if (deflate_memory(wd, ml) + inflate_memory(wi) <= budget) return sizing{wd, ml, wi};
  }
  return std::nullopt;
}

bool is_deflate(const extension_element& e) { return ascii_iequals(e.name, extension_name); }

}  // namespace

std::size_t deflate_memory(unsigned window_bits, unsigned mem_level) noexcept {
  // zconf.h: deflate needs (1 << (windowBits+2)) + (1 << (memLevel+9)) bytes.
  return (std::size_t{1} << (window_bits + 2)) + (std::size_t{1} << (mem_level + 9)) +
         deflate_state_bytes;
}

std::size_t inflate_memory(unsigned window_bits) noexcept {
  // zconf.h: inflate needs 1 << windowBits bytes (allocated with the first output).
  return (std::size_t{1} << window_bits) + inflate_state_bytes;
}

std::optional<std::vector<extension_element>> parse_extensions(std::string_view value) {
  std::vector<extension_element> out;
  for (const auto element : split_outside_quotes(value, ',')) {
    if (element.empty()) continue;  // RFC 9110 §5.6.1: empty list elements are ignored
    const auto parts = split_outside_quotes(element, ';');
    if (!valid_header_name(parts[0])) return std::nullopt;
    extension_element e{std::string(parts[0]), {}};
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const auto eq = parts[i].find('=');
      const auto name = trim(parts[i].substr(0, eq));
      if (!valid_header_name(name)) return std::nullopt;
      extension_param p{std::string(name), std::nullopt};
      if (eq != std::string_view::npos) {
        std::string v;
        if (!read_value(trim(parts[i].substr(eq + 1)), v)) return std::nullopt;
        p.value = std::move(v);
      }
      e.params.push_back(std::move(p));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string check_deflate_element(const extension_element& e, element_kind k,
                                  deflate_element& out) {
  out = {};
  bool seen[4] = {false, false, false, false};
  for (const auto& p : e.params) {
    int which = -1;
    if (p.name == "server_no_context_takeover") which = 0;
    if (p.name == "client_no_context_takeover") which = 1;
    if (p.name == "server_max_window_bits") which = 2;
    if (p.name == "client_max_window_bits") which = 3;
    if (which < 0) return "unknown permessage-deflate parameter " + printable(p.name);
    // RFC 7692 §7.1: an element with a parameter given twice is invalid.
    if (seen[which]) return "permessage-deflate parameter " + p.name + " given twice";
    seen[which] = true;
    if (which < 2) {
      if (p.value) return "permessage-deflate parameter " + p.name + " takes no value";
      (which == 0 ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
      continue;
    }
    auto& bits = which == 2 ? out.server_max_window_bits : out.client_max_window_bits;
    if (!p.value) {
      // §7.1.2.2: only an offer may carry client_max_window_bits without a value.
      if (which == 2 || k == element_kind::answer)
        return "permessage-deflate parameter " + p.name + " needs a value (8-15)";
      bits = 0;
      continue;
    }
    bits = window_bits(*p.value);
    if (!bits)
      return "permessage-deflate parameter " + p.name + "=" + printable(*p.value) +
             " is not a window size 8-15";
  }
  return {};
}

std::optional<server_agreement> negotiate_server(std::string_view offers,
                                                 const deflate_options& opts) {
  const auto elements = parse_extensions(offers);
  if (!elements) return std::nullopt;
  for (const auto& e : *elements) {
    deflate_element offer;
    if (!is_deflate(e) || !check_deflate_element(e, element_kind::offer, offer).empty()) continue;
    const std::uint8_t max_deflate = offer.server_max_window_bits.value_or(15);
    if (max_deflate < 9) continue;  // zlib cannot honour a window of 8: decline this offer
    const bool adjustable = offer.client_max_window_bits.has_value();
    const std::uint8_t max_inflate =
        adjustable && *offer.client_max_window_bits != 0 ? *offer.client_max_window_bits : 15;
    const auto s = fit(opts.memory_budget, max_deflate, max_inflate, adjustable);
    if (!s) continue;
    server_agreement a;
    auto& p = a.params;
    p.server_no_context_takeover = offer.server_no_context_takeover || opts.no_context_takeover;
    p.client_no_context_takeover =
        offer.client_no_context_takeover || opts.peer_no_context_takeover;
    p.server_max_window_bits = offer.server_max_window_bits ? s->deflate_bits : 15;
    p.client_max_window_bits = s->inflate_bits;
    p.deflate_window_bits = s->deflate_bits;
    p.mem_level = s->mem_level;
    p.level = opts.level;
    a.answer = extension_name;
    if (p.server_no_context_takeover) a.answer += "; server_no_context_takeover";
    if (p.client_no_context_takeover) a.answer += "; client_no_context_takeover";
    // §7.1.2.1: an offered server_max_window_bits is accepted by answering a value <= it.
    if (offer.server_max_window_bits)
      a.answer += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
    if (adjustable) a.answer += "; client_max_window_bits=" + std::to_string(s->inflate_bits);
    return a;
  }
  return std::nullopt;
}

std::string client_offer(const deflate_options& opts) {
  const auto s = fit(opts.memory_budget, 15, 15, true);
  if (!s) return {};
  std::string offer{extension_name};
  if (opts.no_context_takeover) offer += "; client_no_context_takeover";
  if (opts.peer_no_context_takeover) offer += "; server_no_context_takeover";
  if (s->inflate_bits < 15) offer += "; server_max_window_bits=" + std::to_string(s->inflate_bits);
  offer += "; client_max_window_bits";
  return offer;
}

std::string check_server_answer(std::string_view value, const deflate_options& opts,
                                deflate_params& out) {
  const auto elements = parse_extensions(value);
  if (!elements) return "Sec-WebSocket-Extensions answer does not parse: " + printable(value);
  if (elements->size() != 1)
    return "Sec-WebSocket-Extensions answer holds " + std::to_string(elements->size()) +
           " extensions; only permessage-deflate was offered, once";
  const auto& e = elements->front();
  if (!is_deflate(e)) return "server chose extension " + printable(e.name) + ", not offered";
  deflate_element answer;
  if (auto why = check_deflate_element(e, element_kind::answer, answer); !why.empty()) return why;
  const auto s = fit(opts.memory_budget, 15, 15, true);
  if (!s) return "permessage-deflate was not offered";
  // §7.1.1.1 and §7.1.2.1: what the offer asked of the server must be acknowledged.
  if (opts.peer_no_context_takeover && !answer.server_no_context_takeover)
    return "the server did not acknowledge server_no_context_takeover";
  if (s->inflate_bits < 15 &&
      (!answer.server_max_window_bits || *answer.server_max_window_bits > s->inflate_bits))
    return "the server did not acknowledge server_max_window_bits=" +
           std::to_string(s->inflate_bits);
  out = {};
  out.server_no_context_takeover = answer.server_no_context_takeover;
  out.client_no_context_takeover = answer.client_no_context_takeover || opts.no_context_takeover;
  out.server_max_window_bits = answer.server_max_window_bits.value_or(15);
  out.client_max_window_bits = answer.client_max_window_bits.value_or(15);
  // A window of 8 cannot be honoured by zlib: then this side sends every message uncompressed.
  out.deflate_window_bits = std::min(out.client_max_window_bits, s->deflate_bits);
  out.mem_level = s->mem_level;
  out.level = opts.level;
  return {};
}

}  // namespace wsx::detail
