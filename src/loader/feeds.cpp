#include "tarius/loader/feeds.hpp"

#include <algorithm>
#include <cstdlib>

#include "mapping/doc_tree.hpp"
#include "tarius/csv.hpp"

namespace tarius::loader {
namespace {

using mapping::detail::doc_node;
using mapping::detail::join_path;

constexpr const char* KIND = "feeds";

error feeds_error(const std::string& path, const std::string& what) {
    return mapping::detail::doc_error(KIND, path, what);
}
result<std::string> text_of(const doc_node& node, const std::string& path) {
    return mapping::detail::get_text(KIND, node, path);
}
result<void> fields_of(const doc_node& node, const std::string& path, std::initializer_list<std::string_view> allowed) {
    return mapping::detail::check_fields(KIND, node, path, allowed);
}

result<std::vector<std::string>> texts_of(const doc_node& node, const std::string& path) {
    std::vector<std::string> out;
    if (node.type == doc_node::kind::SCALAR) {
        out.push_back(node.scalar);
        return out;
    }
    if (node.type != doc_node::kind::SEQUENCE) return feeds_error(path, "expected a list of strings");
    for (size_t idx = 0; idx < node.items.size(); ++idx) {
        TARIUS_ASSIGN_OR_RETURN(std::string text, text_of(node.items[idx], path + "[" + std::to_string(idx) + "]"));
        out.push_back(std::move(text));
    }
    return out;
}

result<double> positive_number(const doc_node& node, const std::string& path) {
    TARIUS_ASSIGN_OR_RETURN(const std::string text, text_of(node, path));
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(value > 0)) {
        return feeds_error(path, "expected a number above 0, not \"" + text + "\"");
    }
    return value;
}

result<sync_mode> parse_mode(const doc_node& node, const std::string& path) {
    TARIUS_ASSIGN_OR_RETURN(const std::string text, text_of(node, path));
    for (sync_mode mode : {sync_mode::PUT, sync_mode::MERGE, sync_mode::INSERT, sync_mode::DELETE, sync_mode::NEWER,
                           sync_mode::SNAPSHOT}) {
        if (text == sync_mode_name(mode)) return mode;
    }
    return feeds_error(path, "unknown mode \"" + text + "\" (expected put, merge, insert, delete, newer or snapshot)");
}

result<object_filter> parse_match(const doc_node& node, const std::string& path) {
    if (node.type != doc_node::kind::MAP) return feeds_error(path, "expected an object {bucket, prefix, suffixes}");
    TARIUS_TRY(fields_of(node, path, {"bucket", "prefix", "suffixes"}));
    object_filter out;
    out.suffixes = {".csv", ".csv.gz", ".csv.zst"};
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        if (field == "bucket") {
            TARIUS_ASSIGN_OR_RETURN(out.bucket, text_of(child, child_path));
        } else if (field == "prefix") {
            TARIUS_ASSIGN_OR_RETURN(out.prefix, text_of(child, child_path));
        } else {
            TARIUS_ASSIGN_OR_RETURN(out.suffixes, texts_of(child, child_path));
        }
    }
    return out;
}

result<op_column> parse_op(const doc_node& node, const std::string& path) {
    if (node.type != doc_node::kind::MAP) return feeds_error(path, "expected an object {column, delete, put}");
    TARIUS_TRY(fields_of(node, path, {"column", "delete", "put"}));
    op_column out;
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        if (field == "column") {
            TARIUS_ASSIGN_OR_RETURN(out.column, text_of(child, child_path));
        } else if (field == "delete") {
            TARIUS_ASSIGN_OR_RETURN(out.delete_values, texts_of(child, child_path));
        } else {
            TARIUS_ASSIGN_OR_RETURN(out.put_values, texts_of(child, child_path));
        }
    }
    if (out.column.empty()) return feeds_error(join_path(path, "column"), "missing: name the operation column");
    if (out.delete_values.empty()) {
        return feeds_error(join_path(path, "delete"), "missing: the values that make a row a delete, e.g. [D]");
    }
    for (const std::string& value : out.put_values) {
        if (std::find(out.delete_values.begin(), out.delete_values.end(), value) != out.delete_values.end()) {
            return feeds_error(join_path(path, "put"), "\"" + value + "\" is also a delete value");
        }
    }
    return out;
}

result<version_column> parse_version(const doc_node& node, const std::string& path) {
    if (node.type != doc_node::kind::MAP) return feeds_error(path, "expected an object {column, type}");
    TARIUS_TRY(fields_of(node, path, {"column", "type"}));
    version_column out;
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        TARIUS_ASSIGN_OR_RETURN(const std::string text, text_of(child, child_path));
        if (field == "column") {
            out.column = text;
        } else if (text == "number") {
            out.type = version_column::kind::NUMBER;
        } else if (text == "timestamp") {
            out.type = version_column::kind::TIMESTAMP;
        } else {
            return feeds_error(child_path, "unknown version type \"" + text + "\" (expected number or timestamp)");
        }
    }
    if (out.column.empty()) return feeds_error(join_path(path, "column"), "missing: name the version column");
    return out;
}

result<snapshot_options> parse_snapshot(const doc_node& node, const std::string& path) {
    if (node.type != doc_node::kind::MAP) {
        return feeds_error(path, "expected an object {max_delete_fraction, digests_prefix}");
    }
    TARIUS_TRY(fields_of(node, path, {"max_delete_fraction", "digests_prefix"}));
    snapshot_options out;
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        if (field == "max_delete_fraction") {
            TARIUS_ASSIGN_OR_RETURN(out.max_delete_fraction, positive_number(child, child_path));
            if (out.max_delete_fraction > 1) return feeds_error(child_path, "a share of the items: at most 1");
        } else {
            TARIUS_ASSIGN_OR_RETURN(out.digests_prefix, text_of(child, child_path));
        }
    }
    return out;
}

// The options each mode needs, and those it does not take.
result<void> check_mode_options(const feed& f, const doc_node& node, const std::string& path) {
    auto has = [&node](std::string_view field) {
        return std::any_of(node.entries.begin(), node.entries.end(), [&](const auto& e) { return e.first == field; });
    };
    if (f.mode == sync_mode::DELETE && !f.op) {
        return feeds_error(join_path(path, "op"),
                           "missing: a delete feed names its operation column, e.g. "
                           "{column: op, delete: [D]}");
    }
    if (f.mode != sync_mode::DELETE && f.op) {
        return feeds_error(join_path(path, "op"), std::string("only delete feeds take an operation column (mode is ") +
                                                      sync_mode_name(f.mode) + ")");
    }
    if (f.mode == sync_mode::NEWER && !f.version) {
        return feeds_error(join_path(path, "version"),
                           "missing: a newer feed names its version column, e.g. "
                           "{column: updated_at, type: timestamp}");
    }
    if (f.mode != sync_mode::NEWER && f.version) {
        return feeds_error(join_path(path, "version"), std::string("only newer feeds take a version column (mode is ") +
                                                           sync_mode_name(f.mode) + ")");
    }
    if (f.mode != sync_mode::INSERT && f.mode != sync_mode::NEWER && has("row_marker")) {
        return feeds_error(
            join_path(path, "row_marker"),
            std::string("only insert and newer feeds mark their rows (mode is ") + sync_mode_name(f.mode) + ")");
    }
    if (f.version) {
        // The version is stored as the version's type: a rule giving its column another type contradicts it.
        const mapping::value_type wanted = f.version->type == version_column::kind::TIMESTAMP
                                               ? mapping::value_type::TIMESTAMP
                                               : mapping::value_type::NUMBER;
        for (const mapping::column_rule& rule : f.mapping.columns) {
            if (rule.column != f.version->column) continue;
            if (rule.skip) {
                return feeds_error(join_path(path, "mapping"), "the version column " + rule.column +
                                                                   " is skipped: a newer feed stores its version");
            }
            if (rule.type && *rule.type != wanted) {
                return feeds_error(join_path(path, "mapping"),
                                   "column " + rule.column + " has type " + mapping::value_type_name(*rule.type) +
                                       ", but it is the feed's version of type " + mapping::value_type_name(wanted));
            }
        }
    }
    for (const mapping::column_rule& rule : f.mapping.columns) {
        if (f.mode != sync_mode::MERGE && rule.empty == mapping::empty_policy::REMOVE) {
            return feeds_error(
                join_path(path, "mapping"),
                "column " + rule.column + ": empty: remove is for merge feeds only (a put replaces the whole item)");
        }
    }
    if (f.mode != sync_mode::MERGE && f.mapping.defaults.empty == mapping::empty_policy::REMOVE) {
        return feeds_error(join_path(path, "mapping"),
                           "defaults: empty: remove is for merge feeds only (a put replaces the whole item)");
    }
    if (f.mode != sync_mode::SNAPSHOT && has("snapshot")) {
        return feeds_error(
            join_path(path, "snapshot"),
            std::string("only snapshot feeds take snapshot options (mode is ") + sync_mode_name(f.mode) + ")");
    }
    return ok();
}

result<feed> parse_feed(const std::string& name, const doc_node& node, const std::string& path) {
    if (node.type != doc_node::kind::MAP) return feeds_error(path, "expected an object");
    TARIUS_TRY(fields_of(node, path,
                         {"match", "table", "mapping", "mode", "op", "version", "snapshot", "row_marker", "delimiter",
                          "rejects_prefix", "reports_prefix", "max_wcu", "concurrency"}));
    feed out;
    out.name = name;
    bool matched = false;
    for (const auto& [field, child] : node.entries) {
        const std::string child_path = join_path(path, field);
        if (field == "match") {
            TARIUS_ASSIGN_OR_RETURN(out.match, parse_match(child, child_path));
            matched = true;
        } else if (field == "table") {
            TARIUS_ASSIGN_OR_RETURN(out.table, text_of(child, child_path));
        } else if (field == "mapping") {
            auto parsed = mapping::detail::interpret_mapping(child, child_path);
            if (!parsed) {
                // The mapping's own messages start "mapping: "; here the document is the feeds document.
                std::string message = parsed.err().message;
                if (message.rfind("mapping: ", 0) == 0) message = message.substr(9);
                return make_error(errc::INVALID_ARGUMENT, std::string(KIND) + ": " + message);
            }
            out.mapping = std::move(parsed).value();
        } else if (field == "mode") {
            TARIUS_ASSIGN_OR_RETURN(out.mode, parse_mode(child, child_path));
        } else if (field == "op") {
            TARIUS_ASSIGN_OR_RETURN(out.op, parse_op(child, child_path));
        } else if (field == "version") {
            TARIUS_ASSIGN_OR_RETURN(out.version, parse_version(child, child_path));
        } else if (field == "snapshot") {
            TARIUS_ASSIGN_OR_RETURN(out.snapshot, parse_snapshot(child, child_path));
        } else if (field == "row_marker") {
            TARIUS_ASSIGN_OR_RETURN(const std::string text, text_of(child, child_path));
            if (text == "false") {
                out.row_marker.clear();
            } else if (text != "true") {
                if (text.empty()) return feeds_error(child_path, "expected an attribute name, or false");
                out.row_marker = text;
            }
        } else if (field == "delimiter") {
            TARIUS_ASSIGN_OR_RETURN(out.delimiter, text_of(child, child_path));
            if (auto known = csv::parse_delimiter(*out.delimiter, {}); !known) {
                return feeds_error(child_path, known.err().message);
            }
        } else if (field == "rejects_prefix") {
            TARIUS_ASSIGN_OR_RETURN(out.rejects_prefix, text_of(child, child_path));
        } else if (field == "reports_prefix") {
            TARIUS_ASSIGN_OR_RETURN(out.reports_prefix, text_of(child, child_path));
        } else if (field == "max_wcu") {
            TARIUS_ASSIGN_OR_RETURN(out.max_wcu, positive_number(child, child_path));
        } else {
            TARIUS_ASSIGN_OR_RETURN(const double n, positive_number(child, child_path));
            if (n != static_cast<double>(static_cast<size_t>(n))) return feeds_error(child_path, "expected a count");
            out.concurrency = static_cast<size_t>(n);
        }
    }
    if (!matched) return feeds_error(join_path(path, "match"), "missing: which objects the feed loads");
    if (out.table.empty()) return feeds_error(join_path(path, "table"), "missing: the feed's table");
    TARIUS_TRY(check_mode_options(out, node, path));
    return out;
}

// The shorter of two strings is a prefix of the longer one.
bool nested(std::string_view a, std::string_view b) {
    return a.size() <= b.size() ? b.substr(0, a.size()) == a : a.substr(0, b.size()) == b;
}

bool ends_with(std::string_view text, std::string_view end) {
    return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

}  // namespace

const char* sync_mode_name(sync_mode mode) noexcept {
    switch (mode) {
        case sync_mode::PUT: return "put";
        case sync_mode::MERGE: return "merge";
        case sync_mode::INSERT: return "insert";
        case sync_mode::DELETE: return "delete";
        case sync_mode::NEWER: return "newer";
        case sync_mode::SNAPSHOT: return "snapshot";
    }
    return "unknown";
}

bool filters_overlap(const object_filter& a, const object_filter& b) {
    if (!a.bucket.empty() && !b.bucket.empty() && a.bucket != b.bucket) return false;
    if (!nested(a.prefix, b.prefix)) return false;
    if (a.suffixes.empty() || b.suffixes.empty()) return true;
    // A key ending in ".csv.gz" matches both ".gz" and ".csv.gz": suffixes overlap when one ends the other.
    for (const std::string& x : a.suffixes) {
        for (const std::string& y : b.suffixes) {
            if (ends_with(x, y) || ends_with(y, x)) return true;
        }
    }
    return false;
}

const feed* feed_set::find(const object_ref& obj) const {
    for (const feed& f : feeds) {
        if (f.match.accepts(obj)) return &f;
    }
    return nullptr;
}

const feed* feed_set::named(std::string_view name) const {
    for (const feed& f : feeds) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

result<feed_set> parse_feeds(std::string_view document) {
    TARIUS_ASSIGN_OR_RETURN(const doc_node root, mapping::detail::parse_document(KIND, document));
    if (root.type != doc_node::kind::MAP) return feeds_error("", "the document must be an object {feeds: {...}}");
    TARIUS_TRY(fields_of(root, "", {"feeds"}));
    if (root.entries.empty()) return feeds_error("feeds", "missing");
    const doc_node& feeds_node = root.entries.front().second;
    if (feeds_node.type != doc_node::kind::MAP || feeds_node.entries.empty()) {
        return feeds_error("feeds", "expected an object of feeds by name, with at least one feed");
    }
    feed_set out;
    for (size_t idx = 0; idx < feeds_node.entries.size(); ++idx) {
        const auto& [name, node] = feeds_node.entries[idx];
        const std::string path = join_path("feeds", name);
        if (name.empty()) return feeds_error(path, "empty feed name");
        for (size_t prev = 0; prev < idx; ++prev) {
            if (feeds_node.entries[prev].first == name) return feeds_error(path, "duplicate feed");
        }
        TARIUS_ASSIGN_OR_RETURN(feed f, parse_feed(name, node, path));
        for (const feed& other : out.feeds) {
            if (filters_overlap(other.match, f.match)) {
                return feeds_error(join_path(path, "match"), "overlaps feed " + other.name +
                                                                 " (an object key could match both: give them "
                                                                 "prefixes that do not nest, or disjoint suffixes)");
            }
            // A snapshot deletes the items of its table that its file lacks: another feed's items would go too.
            const bool snapshot = f.mode == sync_mode::SNAPSHOT || other.mode == sync_mode::SNAPSHOT;
            if (snapshot && other.table == f.table) {
                return feeds_error(join_path(path, "table"),
                                   "feed " + other.name + " writes table " + f.table +
                                       " too: a snapshot feed must own its table (it deletes what its file lacks)");
            }
        }
        out.feeds.push_back(std::move(f));
    }
    return out;
}

}  // namespace tarius::loader
