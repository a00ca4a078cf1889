#pragma once
// Where a snapshot feed keeps its digests and its state: in S3 next to the files it loads (the landing bucket,
// under the feed's digests prefix), or in a local directory for local files (the CLI).

#include <memory>
#include <optional>
#include <string>

#include "tarius/aws/s3.hpp"
#include "tarius/result.hpp"

namespace tarius::loader::snapshot {

/// A feed's digests and state. Names are relative ("state.json", "<load id>.digest").
class digest_store {
public:
    virtual ~digest_store() = default;
    /// The object's text, or none when it does not exist.
    [[nodiscard]] virtual result<std::optional<std::string>> read(const std::string& name) = 0;
    /// Stores a small text object (the state).
    [[nodiscard]] virtual result<void> write(const std::string& name, const std::string& text) = 0;
    /// Stores a local file (a digest) under `name`.
    [[nodiscard]] virtual result<void> upload(const std::string& name, const std::string& path) = 0;
    /// Copies `name` into the local file `path`; errc::NOT_FOUND when it does not exist.
    [[nodiscard]] virtual result<void> download(const std::string& name, const std::string& path) = 0;
    /// Deletes `name` (a missing one is no error).
    [[nodiscard]] virtual result<void> remove(const std::string& name) = 0;
    /// Where it is, for messages and the report ("s3://bucket/prefix/" or a directory).
    [[nodiscard]] virtual std::string where() const = 0;
};

/// In S3: `bucket`, keys under `prefix` (ending in '/'), encrypted with `kms_key_id` when given.
[[nodiscard]] std::unique_ptr<digest_store> s3_digest_store(aws::s3_client& s3, std::string bucket, std::string prefix,
                                                            std::string kms_key_id);
/// In a local directory (created when missing).
[[nodiscard]] std::unique_ptr<digest_store> local_digest_store(std::string directory);

}  // namespace tarius::loader::snapshot
