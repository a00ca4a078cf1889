#pragma once
// --feeds DOC and --feed NAME, shared by tarius load and tarius validate: the flags a feed replaces, reading the
// document, and choosing the feed of a source.

#include <string>

#include "args.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/csv.hpp"
#include "tarius/loader/feeds.hpp"
#include "tarius/result.hpp"

namespace tarius::cli {

/// Splits s3://BUCKET/KEY; false for anything else (an empty bucket or key included).
[[nodiscard]] bool parse_s3_uri(const std::string& uri, std::string& bucket, std::string& key);

/// Refuses --feed without --feeds, and --feeds with a flag the feed replaces (--table, --mapping, --key,
/// --sort-key, --types, --default-type, --empty, --no-trim).
[[nodiscard]] result<void> check_feeds_flags(const parsed_args& args);

/// Reads and parses the --feeds document: a file path, an inline document, or an s3:// URI (loader::read_document
/// with `s3`; without it, files and inline documents only). Precondition: --feeds was given; `s3` is not null
/// when its value is an s3:// URI.
[[nodiscard]] result<loader::feed_set> read_feeds_flag(const parsed_args& args, aws::s3_client* s3);

/// The dialect of the feed's files: its `delimiter` applies; --delimiter may repeat it, not contradict it.
[[nodiscard]] result<csv::dialect> feed_dialect(const parsed_args& args, const loader::feed& feed, csv::dialect base);

/// The feed of `source`: the one --feed names, else the one whose match accepts an s3:// source, else the only
/// one. An error names the feeds to choose from.
[[nodiscard]] result<const loader::feed*> choose_feed(const parsed_args& args, const std::string& source,
                                                      const loader::feed_set& feeds);

}  // namespace tarius::cli
