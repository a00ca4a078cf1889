#pragma once
/// Where a load's rejects and report go in the landing bucket: `<prefix><source key>/<load id>.<suffix>`, with
/// the source key shortened (its head, cut on a UTF-8 boundary, then `~` and a hash of the whole key) when the
/// key would pass S3's 1,024-byte limit. The full source key is in the report and the objects' metadata.

#include <cstddef>
#include <string>

namespace tarius::loader {

/// S3's longest object key, in bytes of UTF-8.
inline constexpr size_t MAX_S3_KEY_BYTES = 1024;

/// The keys of one load's outputs.
struct output_keys {
    std::string rejects_csv;      ///< the rejected rows, as CSV
    std::string rejects_reasons;  ///< their reasons, JSON Lines
    std::string report;           ///< the report
};

/// The output keys of the load `load_id` of the object `source_key`.
[[nodiscard]] output_keys make_output_keys(const std::string& rejects_prefix, const std::string& reports_prefix,
                                           const std::string& source_key, const std::string& load_id);

/// `text` percent-encoded for an S3 user-metadata value (which must be ASCII): unreserved bytes and '/' as is.
[[nodiscard]] std::string metadata_value(const std::string& text);

}  // namespace tarius::loader
