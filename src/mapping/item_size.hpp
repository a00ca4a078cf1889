#pragma once
// The size DynamoDB charges for an item given as DynamoDB JSON, by the documented sizing rules.

#include <cstddef>
#include <string_view>

#include "tarius/result.hpp"

namespace tarius::mapping::detail {

/// Parses `item_json` (`{"Name":{"S":"x"},...}`, types S N B BOOL NULL L M SS NS BS) and returns its size:
/// per attribute the UTF-8 bytes of the name plus the value's size (S: UTF-8 bytes; N: `number_size`, by sign
/// and digit pairs; B: decoded bytes; BOOL/NULL: 1; L/M: 3 + per element 1 + the element (map keys count); sets:
/// the sum of their elements). Invalid JSON, unknown types or invalid numbers/base64 are `errc::INVALID_ARGUMENT`.
[[nodiscard]] result<size_t> dynamodb_item_size(std::string_view item_json);

}  // namespace tarius::mapping::detail
