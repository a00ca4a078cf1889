#include "load_flags.hpp"

#include <fstream>
#include <sstream>
#include <thread>

namespace tarius::cli {

namespace {

result<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(errc::IO, "cannot read mapping file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// DynamoDB's rule for table names is 3 to 255 characters of a-z A-Z 0-9 _ - . (its API also takes a table ARN).
// Shorter names are let through: local emulators accept them and request bodies for tests use them.
result<void> check_table_name(std::string_view name) {
    constexpr std::string_view RULE = "DynamoDB table names are 3-255 characters of a-z A-Z 0-9 _ - . or a table ARN";
    if (name.empty())
        return make_error(errc::INVALID_ARGUMENT, "--table: the table name is empty (" + std::string(RULE) + ")");
    if (name.rfind("arn:", 0) == 0) {
        if (name.size() <= 1024 && name.find(":table/") != std::string_view::npos) return ok();
        return make_error(errc::INVALID_ARGUMENT,
                          "--table: '" + std::string(name) +
                              "' is not a table ARN (arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME)");
    }
    if (name.size() > 255) {
        return make_error(errc::INVALID_ARGUMENT, "--table: the table name is " + std::to_string(name.size()) +
                                                      " characters long (" + std::string(RULE) + ")");
    }
    for (const char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '-' || c == '.';
        if (allowed) continue;
        return make_error(errc::INVALID_ARGUMENT,
                          "--table: '" + std::string(name) + "' is not a table name (" + std::string(RULE) + ")");
    }
    return ok();
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        out.emplace_back(text.substr(start, comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

result<unsigned> threads_flag(const parsed_args& args) {
    const auto flag = args.get("threads");
    if (!flag) return std::thread::hardware_concurrency() >= 2 ? 2U : 1U;
    auto count = parse_count("threads", *flag, "a number of threads", "2");
    if (!count) return count.err();
    if (*count != 1 && *count != 2) return make_error(errc::INVALID_ARGUMENT, "--threads: expected 1 or 2");
    return static_cast<unsigned>(*count);
}

result<pipeline::engine_options> engine_options_from(const parsed_args& args, const std::string& source) {
    pipeline::engine_options options;
    options.source = source;
    if (auto table = args.get("table")) {
        TARIUS_TRY(check_table_name(*table));
        options.table = *table;
    }
    if (auto path = args.get("mapping")) {
        TARIUS_ASSIGN_OR_RETURN(std::string text, read_text_file(*path));
        auto parsed = mapping::parse_mapping(text);
        if (!parsed) return make_error(errc::INVALID_ARGUMENT, *path + ": " + parsed.err().message);
        options.mapping = std::move(parsed).value();
    }
    if (auto key = args.get("key")) {
        TARIUS_ASSIGN_OR_RETURN(auto partition, mapping::parse_key_flag(*key));
        mapping::key_schema keys = options.mapping.keys.value_or(mapping::key_schema{});
        keys.partition = std::move(partition);
        options.mapping.keys = std::move(keys);
    }
    if (auto sort_key = args.get("sort-key")) {
        if (!options.mapping.keys) {
            return make_error(errc::INVALID_ARGUMENT, "--sort-key needs a partition key (--key or the mapping)");
        }
        TARIUS_ASSIGN_OR_RETURN(auto sort, mapping::parse_key_flag(*sort_key));
        options.mapping.keys->sort = std::move(sort);
    }
    if (auto types = args.get("types")) TARIUS_TRY(mapping::apply_types_flag(options.mapping, *types));
    if (auto type = args.get("default-type")) {
        TARIUS_ASSIGN_OR_RETURN(options.mapping.defaults.type, mapping::parse_value_type(*type));
    }
    if (auto empty = args.get("empty")) {
        TARIUS_ASSIGN_OR_RETURN(options.mapping.defaults.empty, mapping::parse_empty_policy(*empty));
        if (options.mapping.defaults.empty == mapping::empty_policy::REMOVE) {
            return make_error(errc::INVALID_ARGUMENT,
                              "--empty remove: only merge feeds remove attributes (a put writes the whole item); "
                              "describe a merge feed with --feeds");
        }
    }
    if (args.has("no-trim")) options.mapping.defaults.trim = false;
    if (auto delimiter = args.get("delimiter")) {
        TARIUS_ASSIGN_OR_RETURN(options.dialect, csv::parse_delimiter(*delimiter, options.dialect));
    }
    if (auto header = args.get("header-list")) {
        options.dialect.has_header = false;
        options.dialect.header_list = split_list(*header);
    }
    if (auto size = args.get("max-field-size")) {
        TARIUS_ASSIGN_OR_RETURN(options.dialect.max_field_size, parse_size("max-field-size", *size));
    }
    if (auto size = args.get("max-row-size")) {
        TARIUS_ASSIGN_OR_RETURN(options.dialect.max_row_size, parse_size("max-row-size", *size));
    }
    if (auto limit = args.get("max-rejects")) {
        TARIUS_ASSIGN_OR_RETURN(options.max_rejects, parse_count("max-rejects", *limit));
    }
    return options;
}

rejects_outputs open_rejects(const parsed_args& args) {
    rejects_outputs out;
    auto path = args.get("rejects");
    if (!path) return out;
    out.csv = std::make_unique<pipeline::file_sink>(*path);
    out.reasons = std::make_unique<pipeline::file_sink>(*path + ".reasons.jsonl");
    out.writer = std::make_unique<pipeline::rejects_writer>(*out.csv, *out.reasons);
    return out;
}

}  // namespace tarius::cli
