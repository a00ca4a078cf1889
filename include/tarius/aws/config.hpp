#pragma once
/// AWS client configuration as the official SDKs read it: the environment, the shared `config` and
/// `credentials` files, the region and the default credential provider chain.
///
/// Everything that touches the outside world (environment, clock, files, HTTP) is injected so that the
/// resolution rules can be tested with literal tables.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tarius/aws/credentials.hpp"
#include "tarius/aws/http.hpp"
#include "tarius/result.hpp"

namespace tarius::aws {

/// Looks up one environment variable; returns nullopt when it is unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv).
[[nodiscard]] env_lookup process_environment();

/// An environment made of `vars` only, for tests and embedding.
[[nodiscard]] env_lookup map_environment(std::map<std::string, std::string, std::less<>> vars);

/// Returns the value of `name` in `env` when it is set and not empty.
[[nodiscard]] std::optional<std::string> env_value(const env_lookup& env, std::string_view name);

/// The clock used for credential expiry; the system clock unless a test injects another.
using wall_clock = std::function<std::chrono::system_clock::time_point()>;

/// One section of a shared file: `[default]`, `[profile dev]`, `[services local]`, `[dev]` (credentials file).
struct config_section {
    std::string name;  ///< the section name without its kind prefix ("dev" for `[profile dev]`)
    /// Plain `key = value` settings; keys are lower-cased, values trimmed.
    std::map<std::string, std::string, std::less<>> values;
    /// Nested settings: `s3 =` followed by indented `key = value` lines gives sub_sections["s3"]["key"].
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> sub_sections;

    /// The value of `key` when present and not empty.
    [[nodiscard]] std::optional<std::string> get(std::string_view key) const;
    /// The value of `sub_key` in the nested section `key`, when present and not empty.
    [[nodiscard]] std::optional<std::string> get(std::string_view key, std::string_view sub_key) const;
};

/// Which file a text comes from: their section headers differ.
enum class config_file_kind : uint8_t {
    CONFIG,       ///< ~/.aws/config: `[default]`, `[profile x]`, `[services x]`, `[sso-session x]`
    CREDENTIALS,  ///< ~/.aws/credentials: `[x]`
};

/// The parsed sections of one file.
struct parsed_config_file {
    std::map<std::string, config_section, std::less<>> profiles;  ///< by profile name
    std::map<std::string, config_section, std::less<>> services;  ///< `[services x]` sections by name
};

/// Parses the text of a shared file like the SDKs: `#`/`;` comments (whole line, or after whitespace in a
/// value), surrounding spaces ignored, keys case-insensitive, sections with invalid names skipped, indented
/// lines under an empty-valued key form a sub-section. In the config file a `[profile default]` section wins
/// over `[default]`. Fails (errc::INVALID_ARGUMENT, naming `origin` and the line) on a line that is neither a
/// section, a setting nor a comment.
[[nodiscard]] result<parsed_config_file> parse_config_file(std::string_view text, config_file_kind kind,
                                                           std::string_view origin);

/// The shared configuration of one process: both files merged and the selected profile.
struct shared_config {
    std::string profile_name = "default";  ///< AWS_PROFILE or "default"
    /// Merged profiles: the config file's settings, overridden key by key by the credentials file.
    std::map<std::string, config_section, std::less<>> profiles;
    std::map<std::string, config_section, std::less<>> services;  ///< `[services x]` of the config file
    std::string config_path;       ///< the config file that was read (or would have been)
    std::string credentials_path;  ///< the credentials file that was read (or would have been)

    /// The selected profile, or nullptr when neither file defines it.
    [[nodiscard]] const config_section* profile() const;
    /// A setting of the selected profile.
    [[nodiscard]] std::optional<std::string> get(std::string_view key) const;
};

/// Loads both shared files: AWS_CONFIG_FILE (default ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (default
/// ~/.aws/credentials), with `~` from HOME. A missing file is empty; an unreadable or malformed one is an error.
/// `profile_override`, when not empty, wins over AWS_PROFILE.
[[nodiscard]] result<shared_config> load_shared_config(const env_lookup& env, std::string_view profile_override = {});

/// The region: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`. errc::INVALID_ARGUMENT naming
/// every place looked at when none is set.
[[nodiscard]] result<std::string> resolve_region(const env_lookup& env, const shared_config& config);

/// Settings of the default credential provider chain.
struct chain_options {
    env_lookup env;                     ///< the environment; required
    std::shared_ptr<http_client> http;  ///< transport for STS, container and IMDS; null skips those sources
    wall_clock clock;                   ///< defaults to system_clock::now
    std::string profile;                ///< profile override (else AWS_PROFILE, else "default")
    /// Temporary credentials are refreshed by one caller in the background of others once they expire within
    /// this window (botocore's advisory refresh: 15 minutes).
    std::chrono::seconds advisory_refresh{15 * 60};
    /// Within this window every caller waits for fresh credentials (botocore's mandatory refresh: 10 minutes).
    std::chrono::seconds mandatory_refresh{10 * 60};
    std::chrono::milliseconds metadata_timeout{1000};  ///< per request to IMDS and the container endpoint
    std::chrono::milliseconds process_timeout{60000};  ///< limit for a `credential_process` run
};

/// Creates the default chain: environment → shared files (static keys, credential_process) → web identity →
/// container → EC2 IMDSv2. The first source that applies is remembered; temporary credentials are cached and
/// refreshed before expiry, one refresh at a time. When no source applies, get() fails with errc::AUTH and a
/// message naming every source and why it did not apply. No message ever contains a secret.
[[nodiscard]] std::unique_ptr<credentials_provider> make_default_credentials_chain(chain_options options);

}  // namespace tarius::aws
