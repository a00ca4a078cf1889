#include "aws/proxy_env.hpp"

#include <optional>
#include <string>

#include "aws/http_url.hpp"
#include "tarius/text.hpp"

namespace tarius::aws::detail {
namespace {

/// The first of `names` that is set (even empty: libcurl stops at a set variable), else nullopt.
std::optional<std::string> first_set(const env_lookup& env, std::initializer_list<std::string_view> names) {
    for (std::string_view name : names) {
        if (std::optional<std::string> value = env(name)) return value;
    }
    return std::nullopt;
}

/// Whether the no_proxy list `list` exempts `host` (lower case, IPv6 without brackets).
bool exempt(std::string_view list, std::string_view host) {
    std::string_view trimmed = list;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
    if (trimmed == "*") return true;
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    while (!list.empty()) {
        const size_t sep = list.find_first_of(", \t");
        std::string_view entry = list.substr(0, sep);
        list = sep == std::string_view::npos ? std::string_view() : list.substr(sep + 1);
        if (entry.empty()) continue;
        if (entry.front() == '[' && entry.back() == ']' && entry.size() >= 2) entry = entry.substr(1, entry.size() - 2);
        if (entry.front() == '.') entry.remove_prefix(1);
        if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
        if (entry.empty()) continue;
        if (equals_ignoring_case(entry, host)) return true;
        // A domain: the host is inside it ("example.com" covers "db.example.com", not "badexample.com").
        if (entry.size() < host.size() && host[host.size() - entry.size() - 1] == '.' &&
            equals_ignoring_case(host.substr(host.size() - entry.size()), entry)) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool proxy_applies(std::string_view url, const env_lookup& env) {
    result<http_url> parsed = parse_http_url(url);
    std::optional<std::string> proxy;
    if (!parsed) {
        proxy = first_set(env, {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"});
        return proxy.has_value() && !proxy->empty();
    }
    if (parsed->https) {
        proxy = first_set(env, {"https_proxy", "HTTPS_PROXY"});
    } else {
        proxy = env("http_proxy");  // never HTTP_PROXY (httpoxy)
    }
    if (!proxy) proxy = first_set(env, {"all_proxy", "ALL_PROXY"});
    if (!proxy || proxy->empty()) return false;
    std::optional<std::string> no_proxy = first_set(env, {"no_proxy", "NO_PROXY"});
    return !(no_proxy && exempt(*no_proxy, parsed->host));
}

}  // namespace tarius::aws::detail
