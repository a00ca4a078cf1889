// Mapping documents (JSON or YAML) and the --key / --types flags.
#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "mapping/doc_tree.hpp"
#include "tarius/mapping.hpp"

namespace tarius::mapping {
namespace {

using detail::doc_node;
using detail::join_path;

constexpr const char* KIND = "mapping";

result<void> check_fields(const doc_node& node, const std::string& path,
                          std::initializer_list<std::string_view> allowed) {
    return detail::check_fields(KIND, node, path, allowed);
}
result<std::string> get_text(const doc_node& node, const std::string& path) {
    return detail::get_text(KIND, node, path);
}
result<std::string> get_name(const doc_node& node, const std::string& path) {
    return detail::get_name(KIND, node, path);
}
result<bool> get_bool(const doc_node& node, const std::string& path) {
    return detail::get_bool(KIND, node, path);
}

error doc_error(const std::string& path, const std::string& what) {
    return detail::doc_error(KIND, path, what);
}

result<key_type> parse_key_type(std::string_view text, const std::string& path) {
    if (text == "S") return key_type::S;
    if (text == "N") return key_type::N;
    if (text == "B") return key_type::B;
    return doc_error(path, "unknown key type \"" + std::string(text) + "\" (expected S, N or B)");
}

result<key_attribute> parse_key_node(const doc_node& node, const std::string& path) {
    if (node.type == doc_node::kind::SCALAR) {
        auto parsed = parse_key_flag(node.scalar);
        if (!parsed) return doc_error(path, parsed.err().message);
        return std::move(parsed).value();
    }
    if (node.type != doc_node::kind::MAP) return doc_error(path, "expected NAME:TYPE or {name, type}");
    TARIUS_TRY(check_fields(node, path, {"name", "type"}));
    key_attribute key;
    bool has_name = false;
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        TARIUS_ASSIGN_OR_RETURN(std::string text, get_text(child, child_path));
        if (field == "name") {
            if (text.empty()) return doc_error(child_path, "empty key name");
            key.name = std::move(text);
            has_name = true;
        } else {
            TARIUS_ASSIGN_OR_RETURN(key.type, parse_key_type(text, child_path));
        }
    }
    if (!has_name) return doc_error(join_path(path, "name"), "missing");
    return key;
}

template <class T>
result<T> with_path(result<T> parsed, const std::string& path) {
    if (!parsed) return doc_error(path, parsed.err().message);
    return parsed;
}

result<column_rule> parse_rule(const std::string& column, const doc_node& node, const std::string& path) {
    column_rule rule;
    rule.column = column;
    if (node.type == doc_node::kind::NUL) return rule;
    if (node.type == doc_node::kind::SCALAR) {  // shorthand `Price: number`
        TARIUS_ASSIGN_OR_RETURN(rule.type, with_path(parse_value_type(node.scalar), join_path(path, "type")));
        return rule;
    }
    if (node.type != doc_node::kind::MAP) return doc_error(path, "expected an object");
    TARIUS_TRY(check_fields(node, path, {"attribute", "skip", "type", "empty", "trim", "currency", "separator"}));
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        if (field == "attribute") {
            TARIUS_ASSIGN_OR_RETURN(rule.attribute, get_text(child, child_path));
            if (rule.attribute.empty()) return doc_error(child_path, "empty attribute name");
        } else if (field == "skip") {
            TARIUS_ASSIGN_OR_RETURN(rule.skip, get_bool(child, child_path));
        } else if (field == "type") {
            TARIUS_ASSIGN_OR_RETURN(const std::string text, get_name(child, child_path));
            TARIUS_ASSIGN_OR_RETURN(rule.type, with_path(parse_value_type(text), child_path));
        } else if (field == "empty") {
            TARIUS_ASSIGN_OR_RETURN(const std::string text, get_name(child, child_path));
            TARIUS_ASSIGN_OR_RETURN(rule.empty, with_path(parse_empty_policy(text), child_path));
        } else if (field == "trim") {
            TARIUS_ASSIGN_OR_RETURN(rule.trim, get_bool(child, child_path));
        } else if (field == "currency") {
            TARIUS_ASSIGN_OR_RETURN(rule.currency, get_bool(child, child_path));
        } else {
            TARIUS_ASSIGN_OR_RETURN(rule.separator, get_text(child, child_path));
            if (rule.separator.empty()) return doc_error(child_path, "empty separator");
        }
    }
    return rule;
}

result<mapping> interpret(const doc_node& root, const std::string& base) {
    mapping result_mapping;
    if (root.type == doc_node::kind::NUL) return result_mapping;
    if (root.type != doc_node::kind::MAP) return doc_error(base, "the document must be an object");
    TARIUS_TRY(check_fields(root, base, {"partition_key", "sort_key", "defaults", "columns"}));
    std::optional<key_attribute> partition;
    std::optional<key_attribute> sort;
    for (const auto& [name_in_doc, child] : root.entries) {
        const std::string& field = name_in_doc;
        const std::string field_path = join_path(base, field);
        if (field == "partition_key") {
            TARIUS_ASSIGN_OR_RETURN(partition, parse_key_node(child, field_path));
        } else if (field == "sort_key") {
            TARIUS_ASSIGN_OR_RETURN(sort, parse_key_node(child, field_path));
        } else if (field == "defaults") {
            if (child.type == doc_node::kind::NUL) continue;
            if (child.type != doc_node::kind::MAP) return doc_error(field_path, "expected an object");
            TARIUS_TRY(check_fields(child, field_path, {"type", "empty", "trim"}));
            for (const auto& [name, value] : child.entries) {
                const std::string path = join_path(field_path, name);
                if (name == "trim") {
                    TARIUS_ASSIGN_OR_RETURN(result_mapping.defaults.trim, get_bool(value, path));
                    continue;
                }
                TARIUS_ASSIGN_OR_RETURN(const std::string text, get_name(value, path));
                if (name == "type") {
                    TARIUS_ASSIGN_OR_RETURN(result_mapping.defaults.type, with_path(parse_value_type(text), path));
                } else {
                    TARIUS_ASSIGN_OR_RETURN(result_mapping.defaults.empty, with_path(parse_empty_policy(text), path));
                }
            }
        } else {
            if (child.type == doc_node::kind::NUL) continue;
            if (child.type != doc_node::kind::MAP) return doc_error(field_path, "expected an object of column rules");
            for (size_t idx = 0; idx < child.entries.size(); ++idx) {
                const auto& [column, rule_node] = child.entries[idx];
                const std::string path = join_path(field_path, column);
                if (column.empty()) return doc_error(path, "empty column name");
                for (size_t prev = 0; prev < idx; ++prev) {
                    if (child.entries[prev].first == column) return doc_error(path, "duplicate column rule");
                }
                TARIUS_ASSIGN_OR_RETURN(column_rule rule, parse_rule(column, rule_node, path));
                result_mapping.columns.push_back(std::move(rule));
            }
        }
    }
    if (sort && !partition) return doc_error(join_path(base, "sort_key"), "a sort key needs a partition_key");
    if (partition) {
        if (sort && sort->name == partition->name) {
            return doc_error(join_path(base, "sort_key"), "same attribute as the partition key");
        }
        result_mapping.keys = key_schema{std::move(*partition), std::move(sort)};
    }
    return result_mapping;
}

std::string_view trim_spaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

result<value_type> parse_value_type(std::string_view text) {
    static constexpr value_type ALL[] = {value_type::STRING,     value_type::NUMBER, value_type::BOOL,
                                         value_type::NULL_VALUE, value_type::JSON,   value_type::STRING_SET,
                                         value_type::NUMBER_SET, value_type::LIST,   value_type::AUTO,
                                         value_type::TIMESTAMP};
    for (value_type type : ALL) {
        if (text == value_type_name(type)) return type;
    }
    return make_error(
        errc::INVALID_ARGUMENT,
        "unknown type \"" + std::string(text) +
            "\" (expected string, number, bool, null, json, string_set, number_set, list, auto or timestamp)");
}

const char* value_type_name(value_type type) noexcept {
    switch (type) {
        case value_type::STRING: return "string";
        case value_type::NUMBER: return "number";
        case value_type::BOOL: return "bool";
        case value_type::NULL_VALUE: return "null";
        case value_type::JSON: return "json";
        case value_type::STRING_SET: return "string_set";
        case value_type::NUMBER_SET: return "number_set";
        case value_type::LIST: return "list";
        case value_type::AUTO: return "auto";
        case value_type::TIMESTAMP: return "timestamp";
    }
    return "unknown";
}

result<empty_policy> parse_empty_policy(std::string_view text) {
    if (text == "omit") return empty_policy::OMIT;
    if (text == "keep") return empty_policy::KEEP;
    if (text == "null") return empty_policy::NULL_VALUE;
    if (text == "remove") return empty_policy::REMOVE;
    return make_error(errc::INVALID_ARGUMENT,
                      "unknown empty policy \"" + std::string(text) + "\" (expected omit, keep, null or remove)");
}

result<mapping> parse_mapping(std::string_view document) {
    TARIUS_ASSIGN_OR_RETURN(const doc_node tree, detail::parse_document(KIND, document));
    return interpret(tree, "");
}

result<mapping> detail::interpret_mapping(const doc_node& node, const std::string& path) {
    return interpret(node, path);
}

result<key_attribute> parse_key_flag(std::string_view text) {
    key_attribute key;
    const size_t colon = text.rfind(':');
    std::string_view name = text;
    if (colon != std::string_view::npos) {
        name = text.substr(0, colon);
        const std::string_view type = text.substr(colon + 1);
        if (type == "S") {
            key.type = key_type::S;
        } else if (type == "N") {
            key.type = key_type::N;
        } else if (type == "B") {
            key.type = key_type::B;
        } else {
            return make_error(errc::INVALID_ARGUMENT, "key \"" + std::string(text) + "\": unknown type \"" +
                                                          std::string(type) + "\" (expected NAME:S, NAME:N or NAME:B)");
        }
    }
    if (name.empty()) return make_error(errc::INVALID_ARGUMENT, "key \"" + std::string(text) + "\": empty name");
    key.name = std::string(name);
    return key;
}

result<void> apply_types_flag(mapping& m, std::string_view text) {
    std::vector<std::string_view> named;  // columns this flag has typed so far
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        const std::string_view entry = text.substr(pos, comma - pos);
        pos = comma + 1;
        const size_t equals = entry.find('=');
        if (equals == std::string_view::npos) {
            return make_error(errc::INVALID_ARGUMENT,
                              "--types entry \"" + std::string(entry) + "\": expected Column=type");
        }
        const std::string_view column = trim_spaces(entry.substr(0, equals));
        const std::string_view type_text = trim_spaces(entry.substr(equals + 1));
        if (column.empty()) {
            return make_error(errc::INVALID_ARGUMENT,
                              "--types entry \"" + std::string(entry) + "\": empty column name");
        }
        auto type = parse_value_type(type_text);
        if (!type) {
            return make_error(errc::INVALID_ARGUMENT,
                              "--types entry \"" + std::string(entry) + "\": " + type.err().message);
        }
        if (std::find(named.begin(), named.end(), column) != named.end()) {
            return make_error(errc::INVALID_ARGUMENT,
                              "--types names column \"" + std::string(column) + "\" twice: give each column one type");
        }
        named.push_back(column);
        auto found = std::find_if(m.columns.begin(), m.columns.end(),
                                  [&](const column_rule& rule) { return rule.column == column; });
        if (found == m.columns.end()) {
            column_rule rule;
            rule.column = std::string(column);
            m.columns.push_back(std::move(rule));
            found = m.columns.end() - 1;
        }
        found->type = *type;
    }
    return ok();
}

}  // namespace tarius::mapping
