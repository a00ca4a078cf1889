#include "tarius/reject.hpp"

namespace tarius {

const char* reject_reason_name(reject_reason reason) noexcept {
    switch (reason) {
        case reject_reason::FIELD_COUNT: return "field_count";
        case reject_reason::FIELD_TOO_LARGE: return "field_too_large";
        case reject_reason::ROW_TOO_LARGE: return "row_too_large";
        case reject_reason::UNTERMINATED_QUOTE: return "unterminated_quote";
        case reject_reason::INVALID_UTF8: return "invalid_utf8";
        case reject_reason::EMPTY_KEY: return "empty_key";
        case reject_reason::KEY_TOO_LARGE: return "key_too_large";
        case reject_reason::INVALID_NUMBER: return "invalid_number";
        case reject_reason::INVALID_BOOL: return "invalid_bool";
        case reject_reason::INVALID_NULL: return "invalid_null";
        case reject_reason::INVALID_JSON: return "invalid_json";
        case reject_reason::INVALID_BINARY: return "invalid_binary";
        case reject_reason::ITEM_TOO_LARGE: return "item_too_large";
        case reject_reason::REFUSED_BY_DYNAMODB: return "refused_by_dynamodb";
        case reject_reason::INVALID_OPERATION: return "invalid_operation";
        case reject_reason::INVALID_VERSION: return "invalid_version";
        case reject_reason::INVALID_TIMESTAMP: return "invalid_timestamp";
        case reject_reason::COUNT_: break;
    }
    return "unknown";
}

}  // namespace tarius
