#include "mapping/item_key.hpp"

#include "mapping/codec.hpp"
#include "mapping/number.hpp"

namespace tarius::mapping::detail {
namespace {

// One key attribute: its type letter, its value's canonical bytes and their length (two bytes, big-endian), as
// item_encoder writes them.
bool append_attribute(const key_attribute& attribute, simdjson::dom::element item, std::string& out) {
    const char tag = attribute.type == key_type::S ? 'S' : attribute.type == key_type::N ? 'N' : 'B';
    std::string_view text;
    if (item[attribute.name][std::string_view(&tag, 1)].get_string().get(text) != simdjson::SUCCESS) return false;
    out.push_back(tag);
    const size_t value_begin = out.size();
    switch (attribute.type) {
        case key_type::S: out.append(text); break;
        case key_type::N: {
            std::string message;
            if (append_canonical_number(text, out, message) == 0) return false;
            break;
        }
        case key_type::B:
            if (base64_decoded_size(text) == INVALID_BASE64) return false;
            append_base64_decoded(text, out);
            break;
    }
    const size_t value_length = out.size() - value_begin;
    out.push_back(static_cast<char>((value_length >> 8) & 0xff));
    out.push_back(static_cast<char>(value_length & 0xff));
    return true;
}

}  // namespace

bool append_item_key(const key_schema& keys, simdjson::dom::element item, std::string& out) {
    if (!append_attribute(keys.partition, item, out)) return false;
    return !keys.sort || append_attribute(*keys.sort, item, out);
}

}  // namespace tarius::mapping::detail
