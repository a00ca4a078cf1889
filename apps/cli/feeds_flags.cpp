#include "feeds_flags.hpp"

#include "tarius/loader/services.hpp"

namespace tarius::cli {
namespace {

// The S3 client of a command that made no AWS clients (validate with a local or inline document):
// loader::read_document calls it only for s3:// values, which read_feeds_flag refuses without a real client. It
// keeps the rule "a file, an inline document or s3://" in one place, loader::read_document.
class no_s3_client final : public aws::s3_client {
public:
    result<aws::s3_object_info> head_object(const std::string&, const std::string&,
                                            const aws::s3_get_options&) override {
        return unused();
    }
    result<aws::s3_object_info> get_object(const std::string&, const std::string&, const aws::s3_get_options&,
                                           byte_sink&) override {
        return unused();
    }
    result<aws::s3_put_result> put_object(const std::string&, const std::string&, std::string,
                                          const aws::s3_put_options&) override {
        return unused();
    }
    result<void> delete_object(const std::string&, const std::string&) override { return unused(); }

private:
    static error unused() { return make_error(errc::INTERNAL, "--feeds: an s3:// document without an S3 client"); }
};

}  // namespace

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
    if (s3 == nullptr && value.rfind("s3://", 0) == 0) {
        return make_error(errc::INTERNAL, "--feeds: an s3:// document without an S3 client");
    }
    no_s3_client none;
    TARIUS_ASSIGN_OR_RETURN(const std::string text, loader::read_document(value, "--feeds", s3 ? *s3 : none));
    return loader::parse_feeds(text);
}

result<csv::dialect> feed_dialect(const parsed_args& args, const loader::feed& feed, csv::dialect base) {
    if (!feed.delimiter) return base;
    TARIUS_ASSIGN_OR_RETURN(const csv::dialect from_feed, csv::parse_delimiter(*feed.delimiter, base));
    if (args.has("delimiter") && (from_feed.sniff_delimiter != base.sniff_delimiter ||
                                  (!from_feed.sniff_delimiter && from_feed.delimiter != base.delimiter))) {
        return make_error(errc::INVALID_ARGUMENT, "--delimiter " + args.get("delimiter").value_or("") +
                                                      " contradicts feeds." + feed.name + ".delimiter (" +
                                                      *feed.delimiter + ")");
    }
    return from_feed;
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
