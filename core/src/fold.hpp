// Case folding for comparing what people type with what is stored (names,
// observation codes): one rule, so "Åse" finds "åse" everywhere alike.
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace tandem::detail {

// Lower case for comparing: ASCII and the Latin-1 capitals (ÆØÅ, É...) of
// UTF-8. Other letters compare as written.
std::string fold_case(std::string_view s);

}  // namespace tandem::detail
