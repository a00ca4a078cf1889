#include <memory>
#include <utility>

#include "tarius/aws/client.hpp"
#include "tarius/aws/retry.hpp"
#include "tarius/aws/sigv4.hpp"

namespace tarius::aws {

result<std::shared_ptr<client_context>> make_client_context(env_lookup env, std::shared_ptr<http_client> http) {
    if (!env) return make_error(errc::INVALID_ARGUMENT, "AWS client context: no environment given");
    TARIUS_ASSIGN_OR_RETURN(shared_config config, load_shared_config(env));
    TARIUS_ASSIGN_OR_RETURN(std::string region, resolve_region(env, config));
    if (!http) http = make_curl_http_client();
    auto context = std::make_shared<client_context>();
    chain_options chain;
    chain.env = env;
    chain.http = http;
    chain.profile = config.profile_name;
    context->credentials = make_default_credentials_chain(std::move(chain));
    context->env = std::move(env);
    context->config = std::move(config);
    context->region = std::move(region);
    context->http = std::move(http);
    context->signer = std::make_shared<sigv4_signer>();
    context->quota = std::make_shared<retry_quota>();
    return context;
}

}  // namespace tarius::aws
