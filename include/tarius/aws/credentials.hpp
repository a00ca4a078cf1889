#pragma once
/// AWS credentials and the interface of a credential source.

#include <chrono>
#include <optional>
#include <string>

#include "tarius/result.hpp"

namespace tarius::aws {

/// A set of AWS credentials. Never log or format the secret or the token.
struct credentials {
    std::string access_key_id;                                        ///< e.g. AKIA... or ASIA...
    std::string secret_access_key;                                    ///< secret; never in logs or error messages
    std::string session_token;                                        ///< empty for long-term keys
    std::optional<std::chrono::system_clock::time_point> expiration;  ///< set for temporary credentials
    std::string source;  ///< where they came from: "environment", "profile default", "imds", ...
};

/// A source of credentials (one link of the chain, or the whole chain).
class credentials_provider {
public:
    virtual ~credentials_provider() = default;
    /// Returns current credentials, refreshing them when needed. Thread-safe.
    [[nodiscard]] virtual result<credentials> get() = 0;
};

}  // namespace tarius::aws
