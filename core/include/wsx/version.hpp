// The wsx version this header belongs to. The root meson.build holds the same number and refuses
// to configure when the two disagree; CHANGELOG.md says what changed in each version. Until 1.0,
// a minor version may change the API and the ABI.
#pragma once

#include <string_view>

#define WSX_VERSION_MAJOR 0
#define WSX_VERSION_MINOR 1
#define WSX_VERSION_PATCH 0
#define WSX_VERSION_STRING "0.1.0"
// MAJOR * 10000 + MINOR * 100 + PATCH, for preprocessor tests: #if WSX_VERSION_NUMBER >= 100
#define WSX_VERSION_NUMBER (WSX_VERSION_MAJOR * 10000 + WSX_VERSION_MINOR * 100 + WSX_VERSION_PATCH)

namespace wsx {

inline constexpr int version_major = WSX_VERSION_MAJOR;
inline constexpr int version_minor = WSX_VERSION_MINOR;
inline constexpr int version_patch = WSX_VERSION_PATCH;
inline constexpr std::string_view version_string = WSX_VERSION_STRING;

}  // namespace wsx
