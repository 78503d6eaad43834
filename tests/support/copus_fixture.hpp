// Shared by the summary tests: a lesson start, minutes, an exact percentage
// matcher and the shipped COPUS scheme (parsed once).
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>

#include "tandem/core/summary.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::test {

inline constexpr std::int64_t kT0 = 1'700'000'000'000;  // a lesson start, Unix ms
inline constexpr std::int64_t kMin = 60'000;

inline Approx pct(double v) { return Approx(v).epsilon(1e-12).margin(1e-12); }

inline const summary::CodingScheme& copus() {
  static const summary::CodingScheme scheme =
      parse_coding_scheme(find_builtin_template(kTemplateCopus)->definition).value();
  return scheme;
}

}  // namespace tandem::test
