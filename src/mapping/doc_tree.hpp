#pragma once
// Configuration documents (JSON or YAML) as one small tree, so that one interpreter per document kind checks the
// fields and names the path of every error: mapping documents, and feeds documents that embed mappings.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tarius/mapping.hpp"
#include "tarius/result.hpp"

namespace tarius::mapping::detail {

struct doc_entry;

/// A node of a document.
struct doc_node {
    enum class kind : uint8_t { NUL, SCALAR, SEQUENCE, MAP };
    kind type = kind::NUL;
    std::string scalar;              ///< SCALAR: its text
    bool quoted = false;             ///< SCALAR: a JSON string or a quoted YAML scalar (so never a bool)
    std::vector<doc_entry> entries;  ///< MAP: in document order, duplicates kept
    std::vector<doc_node> items;     ///< SEQUENCE
};

/// One key of a MAP node.
struct doc_entry {
    std::string first;
    doc_node second;
};

/// Parses a document: JSON when it starts with `{`, YAML otherwise. `document_kind` ("mapping", "feeds") starts
/// the messages of its errors.
[[nodiscard]] result<doc_node> parse_document(const char* document_kind, std::string_view text);

/// An errc::INVALID_ARGUMENT error "<kind>: <path>: <what>".
[[nodiscard]] error doc_error(const char* document_kind, const std::string& path, const std::string& what);

/// `path.field`, or `field` at the root.
[[nodiscard]] std::string join_path(const std::string& path, std::string_view field);

/// "null", "a scalar", "a list", "an object".
[[nodiscard]] const char* kind_name(doc_node::kind kind);

/// The text of a scalar; an error naming `path` for anything else.
[[nodiscard]] result<std::string> get_text(const char* document_kind, const doc_node& node, const std::string& path);

/// As get_text, and a YAML/JSON null reads as the word "null" (for fields whose values include it).
[[nodiscard]] result<std::string> get_name(const char* document_kind, const doc_node& node, const std::string& path);

/// true/yes/on or false/no/off, unquoted.
[[nodiscard]] result<bool> get_bool(const char* document_kind, const doc_node& node, const std::string& path);

/// Rejects duplicate keys and keys outside `allowed`.
[[nodiscard]] result<void> check_fields(const char* document_kind, const doc_node& node, const std::string& path,
                                        std::initializer_list<std::string_view> allowed);

/// The mapping a MAP node describes (a mapping document's root, or a `mapping` field of a feeds document);
/// errors name paths under `path`.
[[nodiscard]] result<mapping> interpret_mapping(const doc_node& node, const std::string& path);

}  // namespace tarius::mapping::detail
