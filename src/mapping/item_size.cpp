#include "mapping/item_size.hpp"

#include <simdjson.h>

#include <string>

#include "mapping/codec.hpp"
#include "mapping/number.hpp"

namespace tarius::mapping::detail {
namespace {

namespace dom = simdjson::dom;

result<size_t> value_size(dom::element typed, int depth);

result<size_t> number_text_size(dom::element elem) {
    std::string_view text;
    if (elem.get_string().get(text)) return make_error(errc::INVALID_ARGUMENT, "N value must be a JSON string");
    std::string canonical;
    std::string message;
    const size_t size = append_canonical_number(text, canonical, message);
    if (size == 0)
        return make_error(errc::INVALID_ARGUMENT, "invalid number \"" + std::string(text) + "\": " + message);
    return size;
}

result<size_t> binary_size(dom::element elem) {
    std::string_view text;
    if (elem.get_string().get(text)) return make_error(errc::INVALID_ARGUMENT, "B value must be a JSON string");
    const size_t size = base64_decoded_size(text);
    if (size == INVALID_BASE64) return make_error(errc::INVALID_ARGUMENT, "B value is not base64");
    return size;
}

result<size_t> map_size(dom::object obj, int depth) {
    size_t size = 0;
    for (auto field : obj) {
        TARIUS_ASSIGN_OR_RETURN(const size_t inner, value_size(field.value, depth + 1));
        size += field.key.size() + inner;
    }
    return size;
}

// `typed` is one attribute value, an object with exactly one type key.
result<size_t> value_size(dom::element typed, int depth) {
    if (depth > 64) return make_error(errc::INVALID_ARGUMENT, "nesting too deep");
    dom::object obj;
    if (typed.get_object().get(obj) || obj.size() != 1) {
        return make_error(errc::INVALID_ARGUMENT, "an attribute value must be an object with one type key");
    }
    const auto field = *obj.begin();
    const std::string_view type = field.key;
    const dom::element val = field.value;
    if (type == "S") {
        std::string_view text;
        if (val.get_string().get(text)) return make_error(errc::INVALID_ARGUMENT, "S value must be a string");
        return text.size();
    }
    if (type == "N") return number_text_size(val);
    if (type == "B") return binary_size(val);
    if (type == "BOOL" || type == "NULL") return size_t{1};
    if (type == "SS" || type == "NS" || type == "BS") {
        dom::array arr;
        if (val.get_array().get(arr)) return make_error(errc::INVALID_ARGUMENT, "a set must be an array");
        size_t size = 0;
        for (dom::element elem : arr) {
            if (type == "SS") {
                std::string_view text;
                if (elem.get_string().get(text))
                    return make_error(errc::INVALID_ARGUMENT, "SS element must be a string");
                size += text.size();
            } else if (type == "NS") {
                TARIUS_ASSIGN_OR_RETURN(const size_t inner, number_text_size(elem));
                size += inner;
            } else {
                TARIUS_ASSIGN_OR_RETURN(const size_t inner, binary_size(elem));
                size += inner;
            }
        }
        return size;
    }
    if (type == "L") {
        dom::array arr;
        if (val.get_array().get(arr)) return make_error(errc::INVALID_ARGUMENT, "L value must be an array");
        size_t size = 3;
        for (dom::element elem : arr) {
            TARIUS_ASSIGN_OR_RETURN(const size_t inner, value_size(elem, depth + 1));
            size += 1 + inner;
        }
        return size;
    }
    if (type == "M") {
        dom::object inner_obj;
        if (val.get_object().get(inner_obj)) return make_error(errc::INVALID_ARGUMENT, "M value must be an object");
        TARIUS_ASSIGN_OR_RETURN(const size_t inner, map_size(inner_obj, depth));
        return 3 + inner_obj.size() + inner;
    }
    return make_error(errc::INVALID_ARGUMENT, "unknown attribute type \"" + std::string(type) + "\"");
}

}  // namespace

result<size_t> dynamodb_item_size(std::string_view item_json) {
    dom::parser parser;
    dom::element root;
    if (auto error = parser.parse(item_json.data(), item_json.size()).get(root)) {
        return make_error(errc::INVALID_ARGUMENT, std::string("invalid JSON: ") + simdjson::error_message(error));
    }
    dom::object obj;
    if (root.get_object().get(obj)) return make_error(errc::INVALID_ARGUMENT, "an item must be a JSON object");
    return map_size(obj, 0);
}

}  // namespace tarius::mapping::detail
