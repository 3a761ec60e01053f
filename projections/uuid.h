#pragma once
// UUIDs for job and event ids: random (v4) for new things, name-based (v5
// style, SHA-256 truncated) where a repeat must map to the same id.
#include <string>
#include <string_view>

namespace jobtrail {

std::string RandomUuid();
std::string NameUuid(std::string_view name_space, std::string_view name);
// 8-4-4-4-12 lowercase or uppercase hex.
bool IsUuid(std::string_view text);

}  // namespace jobtrail
