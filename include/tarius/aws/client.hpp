#pragma once
/// What every service client shares, resolved once per process (once per Lambda execution environment):
/// region, shared config, the credential chain, the HTTP transport, the signer and the retry quota.

#include <memory>
#include <string>

#include "tarius/aws/config.hpp"
#include "tarius/aws/credentials.hpp"
#include "tarius/aws/http.hpp"
#include "tarius/result.hpp"

namespace tarius::aws {

class sigv4_signer;
class retry_quota;

/// The shared state of all clients of one process. Thread-safe.
struct client_context {
    env_lookup env;                                     ///< the environment the SDK conventions read
    shared_config config;                               ///< ~/.aws/config + credentials, selected profile
    std::string region;                                 ///< resolved region
    std::shared_ptr<http_client> http;                  ///< the transport (connection pool)
    std::shared_ptr<credentials_provider> credentials;  ///< the default chain (or a fixed provider in tests)
    std::shared_ptr<sigv4_signer> signer;               ///< caches derived signing keys
    std::shared_ptr<retry_quota> quota;                 ///< the retry quota shared by the clients
};

/// Builds a context the way the SDKs do: shared files, region (AWS_REGION, AWS_DEFAULT_REGION, profile), the
/// default credential chain (credentials are fetched lazily, on the first call). Fails with a clear message
/// naming what is missing (no region). `http` defaults to the libcurl client.
[[nodiscard]] result<std::shared_ptr<client_context>> make_client_context(env_lookup env = process_environment(),
                                                                          std::shared_ptr<http_client> http = nullptr);

}  // namespace tarius::aws
