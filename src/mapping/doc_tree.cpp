// Configuration documents as one tree (see doc_tree.hpp).
#include "mapping/doc_tree.hpp"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>

namespace tarius::mapping::detail {
namespace {

// Aliases in YAML can make a small text expand enormously; these bound the tree we build.
constexpr size_t MAX_DOC_NODES = 100'000;
constexpr int MAX_DOC_DEPTH = 64;

}  // namespace

error doc_error(const char* document_kind, const std::string& path, const std::string& what) {
    return make_error(errc::INVALID_ARGUMENT,
                      std::string(document_kind) + ": " + (path.empty() ? std::string() : path + ": ") + what);
}

namespace {

// A problem of the tree itself; parse_document names the document kind.
error tree_error(const std::string& what) {
    return make_error(errc::INVALID_ARGUMENT, what);
}

result<doc_node> from_json(simdjson::dom::element elem, int depth, size_t& nodes) {
    if (++nodes > MAX_DOC_NODES || depth > MAX_DOC_DEPTH) return tree_error("document too large or too deep");
    doc_node node;
    switch (elem.type()) {
        case simdjson::dom::element_type::OBJECT: {
            node.type = doc_node::kind::MAP;
            for (auto field : simdjson::dom::object(elem)) {
                TARIUS_ASSIGN_OR_RETURN(doc_node child, from_json(field.value, depth + 1, nodes));
                node.entries.push_back(doc_entry{std::string(field.key), std::move(child)});
            }
            return node;
        }
        case simdjson::dom::element_type::ARRAY:
            node.type = doc_node::kind::SEQUENCE;
            for (auto item : simdjson::dom::array(elem)) {
                TARIUS_ASSIGN_OR_RETURN(doc_node child, from_json(item, depth + 1, nodes));
                node.items.push_back(std::move(child));
            }
            return node;
        case simdjson::dom::element_type::STRING:
            node.type = doc_node::kind::SCALAR;
            node.scalar = std::string(std::string_view(elem));
            node.quoted = true;
            return node;
        case simdjson::dom::element_type::BOOL:
            node.type = doc_node::kind::SCALAR;
            node.scalar = bool(elem) ? "true" : "false";
            return node;
        case simdjson::dom::element_type::NULL_VALUE: return node;
        default:
            // Numbers: kept as their text for fields that take text; no field takes a number today.
            node.type = doc_node::kind::SCALAR;
            node.scalar = simdjson::minify(elem);
            return node;
    }
}

result<doc_node> from_yaml(const YAML::Node& yaml, int depth, size_t& nodes) {
    if (++nodes > MAX_DOC_NODES || depth > MAX_DOC_DEPTH) return tree_error("document too large or too deep");
    doc_node node;
    switch (yaml.Type()) {
        case YAML::NodeType::Map:
            node.type = doc_node::kind::MAP;
            for (const auto& pair : yaml) {
                if (!pair.first.IsScalar()) return tree_error("map keys must be scalars");
                TARIUS_ASSIGN_OR_RETURN(doc_node child, from_yaml(pair.second, depth + 1, nodes));
                node.entries.push_back(doc_entry{pair.first.Scalar(), std::move(child)});
            }
            return node;
        case YAML::NodeType::Sequence:
            node.type = doc_node::kind::SEQUENCE;
            for (const auto& item : yaml) {
                TARIUS_ASSIGN_OR_RETURN(doc_node child, from_yaml(item, depth + 1, nodes));
                node.items.push_back(std::move(child));
            }
            return node;
        case YAML::NodeType::Scalar:
            node.type = doc_node::kind::SCALAR;
            node.scalar = yaml.Scalar();
            // yaml-cpp tags quoted scalars "!" and plain ones "?".
            node.quoted = yaml.Tag() == "!";
            return node;
        default: return node;
    }
}

}  // namespace

std::string join_path(const std::string& path, std::string_view field) {
    return path.empty() ? std::string(field) : path + "." + std::string(field);
}

const char* kind_name(doc_node::kind kind) {
    switch (kind) {
        case doc_node::kind::NUL: return "null";
        case doc_node::kind::SCALAR: return "a scalar";
        case doc_node::kind::SEQUENCE: return "a list";
        case doc_node::kind::MAP: return "an object";
    }
    return "?";
}

result<std::string> get_text(const char* document_kind, const doc_node& node, const std::string& path) {
    if (node.type != doc_node::kind::SCALAR) {
        return doc_error(document_kind, path, std::string("expected a string, got ") + kind_name(node.type));
    }
    return node.scalar;
}

// For `type` and `empty`, whose values include "null": YAML reads a plain `null` (and JSON a literal null) as
// the null node, which here means the word.
result<std::string> get_name(const char* document_kind, const doc_node& node, const std::string& path) {
    if (node.type == doc_node::kind::NUL) return std::string("null");
    return get_text(document_kind, node, path);
}

result<bool> get_bool(const char* document_kind, const doc_node& node, const std::string& path) {
    if (node.type == doc_node::kind::SCALAR && !node.quoted) {
        std::string lower = node.scalar;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](char ch) { return static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch); });
        if (lower == "true" || lower == "yes" || lower == "on") return true;
        if (lower == "false" || lower == "no" || lower == "off") return false;
    }
    return doc_error(document_kind, path, "expected true or false");
}

// Rejects duplicate keys and keys outside `allowed`.
result<void> check_fields(const char* document_kind, const doc_node& node, const std::string& path,
                          std::initializer_list<std::string_view> allowed) {
    for (size_t idx = 0; idx < node.entries.size(); ++idx) {
        const std::string& name = node.entries[idx].first;
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
            std::string list;
            for (auto field : allowed) list += (list.empty() ? "" : ", ") + std::string(field);
            return doc_error(document_kind, join_path(path, name), "unknown field (expected one of " + list + ")");
        }
        for (size_t prev = 0; prev < idx; ++prev) {
            if (node.entries[prev].first == name)
                return doc_error(document_kind, join_path(path, name), "duplicate field");
        }
    }
    return ok();
}

result<doc_node> parse_document(const char* document_kind, std::string_view document) {
    size_t first = 0;
    while (first < document.size() &&
           (document[first] == ' ' || document[first] == '\t' || document[first] == '\n' || document[first] == '\r')) {
        ++first;
    }
    size_t nodes = 0;
    if (first < document.size() && document[first] == '{') {
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (auto code = parser.parse(document.data(), document.size()).get(root)) {
            return doc_error(document_kind, "", std::string("invalid JSON: ") + simdjson::error_message(code));
        }
        auto tree = from_json(root, 0, nodes);
        if (!tree) return doc_error(document_kind, "", tree.err().message);
        return tree;
    }
    try {
        const YAML::Node yaml = YAML::Load(std::string(document));
        auto tree = from_yaml(yaml, 0, nodes);
        if (!tree) return doc_error(document_kind, "", tree.err().message);
        return tree;
    } catch (const std::exception& caught) {
        // yaml-cpp reports syntax errors by throwing; the core turns them into values here.
        return doc_error(document_kind, "", std::string("invalid YAML: ") + caught.what());
    }
}

}  // namespace tarius::mapping::detail
