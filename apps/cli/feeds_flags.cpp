#include "feeds_flags.hpp"

#include <fstream>
#include <sstream>

#include "tarius/loader/services.hpp"

namespace tarius::cli {

bool parse_s3_uri(const std::string& uri, std::string& bucket, std::string& key) {
    if (uri.rfind("s3://", 0) != 0) return false;
    const size_t slash = uri.find('/', 5);
    if (slash == std::string::npos || slash == 5 || slash + 1 == uri.size()) return false;
    bucket = uri.substr(5, slash - 5);
    key = uri.substr(slash + 1);
    return true;
}

result<void> check_feeds_flags(const parsed_args& args) {
    if (!args.has("feeds")) {
        if (args.has("feed")) return make_error(errc::INVALID_ARGUMENT, "--feed NAME needs --feeds DOC");
        return ok();
    }
    for (const char* flag : {"table", "mapping", "key", "sort-key", "types", "default-type", "empty", "no-trim"}) {
        if (args.has(flag)) {
            return make_error(errc::INVALID_ARGUMENT, std::string("--") + flag +
                                                          " cannot be combined with --feeds: the feed's table and "
                                                          "mapping apply");
        }
    }
    return ok();
}

result<loader::feed_set> read_feeds_flag(const parsed_args& args, aws::s3_client* s3) {
    const std::string value = args.get("feeds").value_or("");
    std::string text;
    if (s3 != nullptr) {
        TARIUS_ASSIGN_OR_RETURN(text, loader::read_document(value, "--feeds", *s3));
    } else if (value.rfind("s3://", 0) == 0) {
        return make_error(errc::INTERNAL, "--feeds: an s3:// document without an S3 client");
    } else if (value.find_first_of("{:\n") == std::string::npos) {
        // As loader::read_document: a one-line value without braces or colons names a file.
        std::ifstream file(value, std::ios::binary);
        if (!file) return make_error(errc::IO, "--feeds: cannot read the file " + value);
        std::ostringstream content;
        content << file.rdbuf();
        text = content.str();
    } else {
        text = value;
    }
    return loader::parse_feeds(text);
}

result<const loader::feed*> choose_feed(const parsed_args& args, const std::string& source,
                                        const loader::feed_set& feeds) {
    std::string bucket, key;
    if (auto name = args.get("feed")) {
        const loader::feed* chosen = feeds.named(*name);
        if (!chosen) return make_error(errc::INVALID_ARGUMENT, "--feed " + *name + ": no such feed in the document");
        return chosen;
    }
    if (parse_s3_uri(source, bucket, key)) {
        loader::object_ref obj;
        obj.bucket = bucket;
        obj.key = key;
        const loader::feed* chosen = feeds.find(obj);
        if (!chosen) return make_error(errc::INVALID_ARGUMENT, source + " matches no feed of the document");
        return chosen;
    }
    if (feeds.feeds.size() == 1) return &feeds.feeds.front();
    std::string names;
    for (const auto& f : feeds.feeds) names += (names.empty() ? "" : ", ") + f.name;
    return make_error(errc::INVALID_ARGUMENT,
                      "name the feed of " + source + " with --feed (the document has " + names + ")");
}

}  // namespace tarius::cli
