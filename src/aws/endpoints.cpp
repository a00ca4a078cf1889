#include "tarius/aws/endpoints.hpp"

#include <charconv>

namespace tarius::aws {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

uint16_t default_port(std::string_view scheme) {
    return scheme == "http" ? 80 : 443;
}

bool is_ipv4(std::string_view host) {
    int parts = 0;
    size_t pos = 0;
    while (pos <= host.size()) {
        size_t dot = host.find('.', pos);
        if (dot == std::string_view::npos) dot = host.size();
        std::string_view part = host.substr(pos, dot - pos);
        if (part.empty() || part.size() > 3) return false;
        int value = 0;
        auto [stop, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (ec != std::errc() || stop != part.data() + part.size() || value > 255) return false;
        ++parts;
        pos = dot + 1;
    }
    return parts == 4;
}

// The service identifier used in AWS_ENDPOINT_URL_<SERVICE> and in the `services` section
// (SDK reference guide, "Identifiers for service-specific endpoints").
struct service_ids {
    std::string_view service;
    std::string_view env_suffix;
    std::string_view config_key;
};

constexpr service_ids SERVICE_IDS[] = {
    {"s3", "S3", "s3"},    {"dynamodb", "DYNAMODB", "dynamodb"}, {"sns", "SNS", "sns"}, {"sqs", "SQS", "sqs"},
    {"sts", "STS", "sts"}, {"lambda", "LAMBDA", "lambda"},
};

bool truthy(const std::optional<std::string>& value) {
    return value && lower(*value) == "true";
}

}  // namespace

std::string endpoint::host_header() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    if (port != default_port(scheme)) out += ":" + std::to_string(port);
    return out;
}

std::string endpoint::url() const {
    return scheme + "://" + host_header() + base_path;
}

partition_info partition_for_region(std::string_view region) {
    if (region.starts_with("cn-")) return {"aws-cn", "amazonaws.com.cn"};
    if (region.starts_with("us-gov-")) return {"aws-us-gov", "amazonaws.com"};
    return {"aws", "amazonaws.com"};
}

result<endpoint> parse_endpoint_url(std::string_view url, std::string_view origin) {
    auto invalid = [&](std::string_view why) {
        return make_error(errc::INVALID_ARGUMENT, std::string(origin) + ": invalid endpoint URL '" + std::string(url) +
                                                      "': " + std::string(why));
    };
    endpoint out;
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return invalid("missing scheme (http:// or https://)");
    out.scheme = lower(url.substr(0, scheme_end));
    if (out.scheme != "http" && out.scheme != "https") return invalid("scheme must be http or https");
    std::string_view rest = url.substr(scheme_end + 3);
    auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view path = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (!path.empty() && path.front() != '/') return invalid("query or fragment not allowed");
    if (path.find_first_of("?#") != std::string_view::npos) return invalid("query or fragment not allowed");
    if (authority.find('@') != std::string_view::npos) return invalid("user info not allowed");
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return invalid("unterminated IPv6 address");
        out.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return invalid("bad text after IPv6 address");
            port_text = after.substr(1);
        }
    } else {
        auto colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            authority = authority.substr(0, colon);
        }
        out.host = lower(authority);
    }
    if (out.host.empty()) return invalid("missing host");
    out.port = default_port(out.scheme);
    if (!port_text.empty()) {
        unsigned value = 0;
        auto [stop, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc() || stop != port_text.data() + port_text.size() || value == 0 || value > 65535) {
            return invalid("bad port");
        }
        out.port = static_cast<uint16_t>(value);
    }
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    out.base_path = std::string(path);
    out.custom = true;
    return out;
}

result<endpoint> resolve_endpoint(std::string_view service, std::string_view region, const env_lookup& env,
                                  const shared_config& config) {
    if (region.empty()) return make_error(errc::INVALID_ARGUMENT, std::string(service) + ": no region to resolve");
    std::string env_suffix = upper(service);
    std::string config_key = lower(service);
    for (const auto& ids : SERVICE_IDS) {
        if (ids.service == service) {
            env_suffix = std::string(ids.env_suffix);
            config_key = std::string(ids.config_key);
        }
    }
    partition_info partition = partition_for_region(region);

    // Precedence from the SDK reference guide (feature-ss-endpoints): service-specific environment variable,
    // global environment variable, service-specific setting in the profile's `services` section, the profile's
    // global endpoint_url; none of them when configured endpoints are ignored.
    bool ignore = false;
    if (auto flag = env_value(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        ignore = truthy(flag);
    } else {
        ignore = truthy(config.get("ignore_configured_endpoint_urls"));
    }
    if (!ignore) {
        std::optional<std::string> url;
        std::string origin;
        std::string service_var = "AWS_ENDPOINT_URL_" + env_suffix;
        if ((url = env_value(env, service_var))) {
            origin = service_var;
        } else if ((url = env_value(env, "AWS_ENDPOINT_URL"))) {
            origin = "AWS_ENDPOINT_URL";
        } else {
            if (auto services_name = config.get("services")) {
                auto section = config.services.find(*services_name);
                if (section != config.services.end()) {
                    if ((url = section->second.get(config_key, "endpoint_url"))) {
                        origin = "[services " + *services_name + "] " + config_key + ".endpoint_url";
                    }
                }
            }
            if (!url && (url = config.get("endpoint_url"))) {
                origin = "endpoint_url of profile " + config.profile_name;
            }
        }
        if (url) {
            TARIUS_ASSIGN_OR_RETURN(endpoint out, parse_endpoint_url(*url, origin));
            out.signing_region = std::string(region);
            out.signing_name = std::string(service);
            out.partition = std::string(partition.name);
            return out;
        }
    }
    endpoint out;
    out.scheme = "https";
    out.port = 443;
    out.host = std::string(service) + "." + std::string(region) + "." + std::string(partition.dns_suffix);
    out.signing_region = std::string(region);
    out.signing_name = std::string(service);
    out.partition = std::string(partition.name);
    return out;
}

bool s3_bucket_is_dns_compatible(std::string_view bucket, bool for_tls) {
    if (bucket.size() < 3 || bucket.size() > 63) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(bucket.front()) || !alnum(bucket.back())) return false;
    char previous = 0;
    for (char c : bucket) {
        if (!alnum(c) && c != '-' && c != '.') return false;
        if (c == '.' && (for_tls || previous == '.' || previous == '-')) return false;
        if (c == '-' && previous == '.') return false;
        previous = c;
    }
    return !is_ipv4(bucket);
}

result<s3_target> s3_request_target(const endpoint& s3_endpoint, std::string_view bucket, std::string_view encoded_key,
                                    s3_addressing addressing) {
    bool tls = s3_endpoint.scheme == "https";
    bool compatible = s3_bucket_is_dns_compatible(bucket, tls);
    bool use_virtual = false;
    switch (addressing) {
        case s3_addressing::PATH: use_virtual = false; break;
        case s3_addressing::VIRTUAL:
            if (!compatible) {
                return make_error(errc::INVALID_ARGUMENT, "s3: bucket name '" + std::string(bucket) +
                                                              "' cannot be used in a virtual-hosted URL");
            }
            use_virtual = true;
            break;
        case s3_addressing::AUTO: use_virtual = compatible && !s3_endpoint.custom; break;
    }
    s3_target target;
    target.virtual_hosted = use_virtual;
    endpoint host_source = s3_endpoint;
    if (use_virtual) host_source.host = std::string(bucket) + "." + s3_endpoint.host;
    target.host_header = host_source.host_header();
    target.path = s3_endpoint.base_path;
    if (!use_virtual) {
        target.path += "/";
        target.path += bucket;
    }
    target.path += "/";
    target.path += encoded_key;
    target.url = host_source.scheme + "://" + target.host_header + target.path;
    return target;
}

s3_addressing resolve_s3_addressing(const shared_config& config) {
    const config_section* profile = config.profile();
    if (profile == nullptr) return s3_addressing::AUTO;
    auto style = profile->get("s3", "addressing_style");
    if (!style) return s3_addressing::AUTO;
    std::string value = lower(*style);
    if (value == "path") return s3_addressing::PATH;
    if (value == "virtual") return s3_addressing::VIRTUAL;
    return s3_addressing::AUTO;
}

}  // namespace tarius::aws
