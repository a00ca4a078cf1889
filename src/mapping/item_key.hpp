#pragma once
// The canonical key of an item given as DynamoDB JSON (as DynamoDB returns it, e.g. in UnprocessedItems), in the
// form `encoded_item::key` gives the items Tarius encodes: equal keys ⇔ the same DynamoDB item.

#include <simdjson.h>

#include <string>

#include "tarius/mapping.hpp"

namespace tarius::mapping::detail {

/// Appends the canonical key of `item` ({"ID":{"S":"x"},...}) under `keys` to `out`. False when a key attribute
/// is missing or malformed (`out` then holds a partial key).
[[nodiscard]] bool append_item_key(const key_schema& keys, simdjson::dom::element item, std::string& out);

}  // namespace tarius::mapping::detail
