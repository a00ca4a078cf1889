#include "loader/item_requests.hpp"

#include <simdjson.h>

#include "json/writer.hpp"

namespace tarius::loader::detail {
namespace {

constexpr std::string_view CONSUMED = ",\"ReturnConsumedCapacity\":\"TOTAL\"}";

void open_body(std::string& out, std::string_view table) {
    out.clear();
    out += "{\"TableName\":";
    json::append_string(out, table);
}

// The item with the marker attribute added (the encoder's JSON is an object with at least its key).
void append_marked_item(std::string& out, std::string_view item, std::string_view marker_attribute,
                        std::string_view marker) {
    out += ",\"Item\":";
    if (marker_attribute.empty()) {
        out += item;
        return;
    }
    out += item.substr(0, item.size() - 1);  // without its closing brace
    out += ',';
    json::append_string(out, marker_attribute);
    out += ":{\"S\":";
    json::append_string(out, marker);
    out += "}}";
}

void append_marker_value(std::string& out, std::string_view marker) {
    out += "\":m\":{\"S\":";
    json::append_string(out, marker);
    out += '}';
}

// Placeholders in base 36: short, so that wide rows stay under the 4 KB expression limit.
void append_placeholder(std::string& out, char sigil, char kind, size_t index) {
    char digits[16];
    size_t n = 0;
    do {
        digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[index % 36];
        index /= 36;
    } while (index > 0);
    out += sigil;
    out += kind;
    while (n > 0) out += digits[--n];
}

}  // namespace

std::string row_marker(std::string_view load_id, uint64_t line) {
    std::string out(load_id.substr(0, 16));
    out += ':';
    out += std::to_string(line);
    return out;
}

void insert_body(std::string& out, std::string_view table, std::string_view partition_key, std::string_view item,
                 std::string_view marker_attribute, std::string_view marker) {
    open_body(out, table);
    append_marked_item(out, item, marker_attribute, marker);
    out += ",\"ExpressionAttributeNames\":{\"#k\":";
    json::append_string(out, partition_key);
    if (marker_attribute.empty()) {
        out += "},\"ConditionExpression\":\"attribute_not_exists(#k)\"";
    } else {
        out += ",\"#m\":";
        json::append_string(out, marker_attribute);
        out += "},\"ExpressionAttributeValues\":{";
        append_marker_value(out, marker);
        out += "},\"ConditionExpression\":\"attribute_not_exists(#k) OR #m = :m\"";
    }
    out += CONSUMED;
}

void newer_body(std::string& out, std::string_view table, std::string_view item, std::string_view version_attribute,
                std::string_view version, std::string_view marker_attribute, std::string_view marker) {
    open_body(out, table);
    append_marked_item(out, item, marker_attribute, marker);
    out += ",\"ExpressionAttributeNames\":{\"#v\":";
    json::append_string(out, version_attribute);
    if (!marker_attribute.empty()) {
        out += ",\"#m\":";
        json::append_string(out, marker_attribute);
    }
    out += "},\"ExpressionAttributeValues\":{\":v\":";
    out += version;
    if (marker_attribute.empty()) {
        out += "},\"ConditionExpression\":\"attribute_not_exists(#v) OR #v < :v\"";
    } else {
        out += ',';
        append_marker_value(out, marker);
        out += "},\"ConditionExpression\":\"attribute_not_exists(#v) OR #v < :v OR (#v = :v AND #m = :m)\"";
    }
    out += CONSUMED;
}

bool merge_body(std::string& out, std::string_view table, const mapping::key_schema& keys, std::string_view item,
                std::string_view removed, std::string& why) {
    // One per thread: a parser allocates its buffers on first use, and merge rows go one per request.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object attributes;
    if (parser.parse(item.data(), item.size(), true).get_object().get(attributes) != simdjson::SUCCESS) {
        why = "the item is not a JSON object";
        return false;
    }
    auto is_key = [&](std::string_view name) {
        return name == keys.partition.name || (keys.sort && name == keys.sort->name);
    };
    std::string key;
    std::string names;
    std::string values;
    std::string expression;
    size_t set_count = 0;
    for (auto field : attributes) {
        const std::string value = simdjson::minify(field.value);
        if (is_key(field.key)) {
            key += key.empty() ? "{" : ",";
            json::append_string(key, field.key);
            key += ':';
            key += value;
            continue;
        }
        // Key attributes never go in SET: DynamoDB refuses to update a key ("This attribute is part of the key").
        expression += set_count == 0 ? "SET " : ", ";
        append_placeholder(expression, '#', 'a', set_count);
        expression += " = ";
        append_placeholder(expression, ':', 'a', set_count);
        if (!names.empty()) names += ',';
        names += '"';
        append_placeholder(names, '#', 'a', set_count);
        names += "\":";
        json::append_string(names, field.key);
        if (!values.empty()) values += ',';
        values += '"';
        append_placeholder(values, ':', 'a', set_count);
        values += "\":";
        values += value;
        ++set_count;
    }
    if (key.empty()) {
        why = "the item holds no key attribute";
        return false;
    }
    key += '}';
    // `removed` is a list of JSON strings: each becomes a REMOVE placeholder.
    if (!removed.empty()) {
        std::string list = "[";
        list += removed;
        list += ']';
        simdjson::dom::array names_removed;
        if (parser.parse(list).get_array().get(names_removed) != simdjson::SUCCESS) {
            why = "the attributes to remove are not a list of names";
            return false;
        }
        size_t remove_count = 0;
        for (simdjson::dom::element name : names_removed) {
            std::string_view text;
            if (name.get_string().get(text) != simdjson::SUCCESS) continue;
            expression += remove_count == 0 ? (set_count == 0 ? "REMOVE " : " REMOVE ") : ", ";
            append_placeholder(expression, '#', 'r', remove_count);
            if (!names.empty()) names += ',';
            names += '"';
            append_placeholder(names, '#', 'r', remove_count);
            names += "\":";
            json::append_string(names, text);
            ++remove_count;
        }
    }
    if (expression.size() > MAX_EXPRESSION_BYTES) {
        why = "the update expression of this row takes " + std::to_string(expression.size()) +
              " bytes; DynamoDB accepts at most 4096 (too many attributes for one UpdateItem)";
        return false;
    }
    open_body(out, table);
    out += ",\"Key\":";
    out += key;
    if (!expression.empty()) {
        out += ",\"UpdateExpression\":";
        json::append_string(out, expression);
        out += ",\"ExpressionAttributeNames\":{";
        out += names;
        out += '}';
        if (!values.empty()) {
            out += ",\"ExpressionAttributeValues\":{";
            out += values;
            out += '}';
        }
    }
    out += CONSUMED;
    return true;
}

}  // namespace tarius::loader::detail
