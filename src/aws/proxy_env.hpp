#pragma once
/// Whether libcurl would send a request through a proxy named by the environment. The socket transport
/// (src/aws/socket_http.*) speaks to origins directly, so a client whose endpoint is proxied keeps libcurl.

#include <string_view>

#include "tarius/aws/config.hpp"

namespace tarius::aws::detail {

/// True when libcurl, with no proxy options set, would use a proxy for `url`: the scheme's variable
/// (`http_proxy` in lower case only — libcurl ignores HTTP_PROXY on purpose; `https_proxy`, else
/// `HTTPS_PROXY`), else `all_proxy`, else `ALL_PROXY`, is set and not empty, and the host is not excluded by
/// `no_proxy` (else `NO_PROXY`): "*", or a comma- or space-separated list of names matching the host or a domain
/// it is in (a leading '.' is ignored), or IP addresses matching exactly. Errs on the side of "applies": a URL
/// it cannot parse, or a no_proxy entry it does not understand (CIDR), counts as proxied.
[[nodiscard]] bool proxy_applies(std::string_view url, const env_lookup& env);

}  // namespace tarius::aws::detail
