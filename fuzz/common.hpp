// What every fuzz target uses: FUZZ_CHECK, an invariant that aborts (so libFuzzer keeps the input
// as a crash artifact) and names the failed condition; `trace`, set by WSX_FUZZ_TRACE=1 to print
// what a replayed input does; text_of, bytes as a string to compare and log.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "wsx/types.hpp"

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace wsx::fuzz {

inline const bool trace = std::getenv("WSX_FUZZ_TRACE") != nullptr;

inline std::string text_of(wsx::bytes_view b) { return std::string(wsx::as_string(b)); }

}  // namespace wsx::fuzz
