#include <simdjson.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "aws/credentials_providers.hpp"
#include "aws/xml.hpp"
#include "tarius/aws/config.hpp"
#include "tarius/aws/endpoints.hpp"
#include "tarius/aws/errors.hpp"

namespace tarius::aws {

namespace {

using time_point = std::chrono::system_clock::time_point;

// What one source of the chain made of the environment.
struct source_result {
    enum class state : uint8_t { NOT_APPLICABLE, FOUND, FAILED } outcome = state::NOT_APPLICABLE;
    credentials creds;
    std::string reason;  // why it did not apply
    error failure;       // why it failed, when it applied
};

source_result not_applicable(std::string reason) {
    source_result out;
    out.reason = std::move(reason);
    return out;
}

source_result failed(error err) {
    source_result out;
    out.outcome = source_result::state::FAILED;
    out.failure = std::move(err);
    return out;
}

source_result found(credentials creds) {
    source_result out;
    out.outcome = source_result::state::FOUND;
    out.creds = std::move(creds);
    return out;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string trim_copy(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

result<std::string> read_file(const std::string& path, std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(errc::AUTH, std::string(what) + " " + path + " cannot be read");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Parses {"AccessKeyId", "SecretAccessKey", "Token"/"SessionToken", "Expiration"} as served by the container
// endpoint, IMDS and credential_process. Error messages name fields, never values.
result<credentials> parse_credentials_json(std::string_view body, std::string_view source, bool process_format) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    auto bad = [&](std::string_view why) {
        return make_error(errc::AUTH, std::string(source) + ": " + std::string(why));
    };
    if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS) {
        return bad("response is not valid JSON");
    }
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return bad("response is not a JSON object");
    credentials creds;
    creds.source = std::string(source);
    std::string_view text;
    if (process_format) {
        int64_t version = 0;
        if (object["Version"].get_int64().get(version) != simdjson::SUCCESS || version != 1) {
            return bad("output must have \"Version\": 1");
        }
    } else if (object["Code"].get_string().get(text) == simdjson::SUCCESS && text != "Success") {
        return bad("credentials endpoint answered Code " + std::string(text));
    }
    if (object["AccessKeyId"].get_string().get(text) != simdjson::SUCCESS || text.empty()) {
        return bad("response has no AccessKeyId");
    }
    creds.access_key_id = std::string(text);
    if (object["SecretAccessKey"].get_string().get(text) != simdjson::SUCCESS || text.empty()) {
        return bad("response has no SecretAccessKey");
    }
    creds.secret_access_key = std::string(text);
    if (object[process_format ? "SessionToken" : "Token"].get_string().get(text) == simdjson::SUCCESS) {
        creds.session_token = std::string(text);
    }
    if (object["Expiration"].get_string().get(text) == simdjson::SUCCESS) {
        auto expiration = detail::parse_iso8601(text);
        if (!expiration) return bad("Expiration is not an ISO 8601 timestamp");
        creds.expiration = *expiration;
    } else if (!process_format) {
        return bad("response has no Expiration");
    }
    return creds;
}

bool truthy(const std::optional<std::string>& value) {
    return value && lower(*value) == "true";
}

// Hosts that may serve container credentials over plain http (botocore ContainerMetadataFetcher and the Rust
// SDK): loopback, the ECS task metadata address and the EKS Pod Identity agent addresses.
bool allowed_container_host(const std::string& host) {
    if (host == "localhost" || host == "::1" || host == "169.254.170.2" || host == "169.254.170.23" ||
        host == "fd00:ec2::23") {
        return true;
    }
    return host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string::npos;
}

class default_chain final : public credentials_provider {
public:
    explicit default_chain(chain_options options) : options_(std::move(options)) {
        if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
        if (!options_.env) options_.env = process_environment();
    }

    result<credentials> get() override {
        std::unique_lock lock(mutex_);
        while (true) {
            time_point now = options_.clock();
            if (cached_ && !needs_refresh(*cached_, now, options_.advisory_refresh)) return *cached_;
            bool cached_usable = cached_ && !needs_refresh(*cached_, now, options_.mandatory_refresh);
            if (refreshing_) {
                // Someone else is refreshing: inside the advisory window keep using what we have, inside the
                // mandatory window wait for the outcome.
                if (cached_usable) return *cached_;
                refreshed_.wait(lock);
                continue;
            }
            refreshing_ = true;
            lock.unlock();
            result<credentials> fetched = fetch();
            lock.lock();
            refreshing_ = false;
            refreshed_.notify_all();
            if (fetched) {
                cached_ = *fetched;
                return *cached_;
            }
            if (cached_usable) return *cached_;  // an advisory refresh may fail; the old credentials still hold
            return std::move(fetched).err();
        }
    }

private:
    static bool needs_refresh(const credentials& creds, time_point now, std::chrono::seconds window) {
        return creds.expiration && *creds.expiration - now <= window;
    }

    // Loads the shared files once; a malformed file is an error of every call (it will not fix itself).
    result<const shared_config*> config() {
        std::lock_guard lock(config_mutex_);
        if (!config_) {
            auto loaded = load_shared_config(options_.env, options_.profile);
            if (!loaded) return std::move(loaded).err();
            config_ = std::move(*loaded);
        }
        return &*config_;
    }

    result<credentials> fetch() {
        TARIUS_ASSIGN_OR_RETURN(const shared_config* shared, config());
        static constexpr std::string_view SOURCE_NAMES[] = {"environment", "shared files", "web identity", "container",
                                                            "imds"};
        std::string tried;
        size_t first = chosen_ < 0 ? 0 : static_cast<size_t>(chosen_);
        size_t last = chosen_ < 0 ? std::size(SOURCE_NAMES) : first + 1;
        for (size_t idx = first; idx < last; ++idx) {
            source_result got = run_source(idx, *shared);
            if (got.outcome == source_result::state::FOUND) {
                chosen_ = static_cast<int>(idx);
                return std::move(got.creds);
            }
            if (got.outcome == source_result::state::FAILED) {
                got.failure.message = detail::redact(std::move(got.failure.message), secrets_);
                return std::move(got.failure);
            }
            if (!tried.empty()) tried += "; ";
            tried += std::string(SOURCE_NAMES[idx]) + ": " + got.reason;
        }
        return make_error(errc::AUTH, detail::redact("no AWS credentials found (tried " + tried + ")", secrets_));
    }

    // The sources in the SDKs' order; indices match SOURCE_NAMES.
    source_result run_source(size_t idx, const shared_config& shared) {
        switch (idx) {
            case 0: return from_environment(shared);
            case 1: return from_profile(shared);
            case 2: return from_web_identity(shared);
            case 3: return from_container(shared);
            default: return from_imds(shared);
        }
    }

    // Remembers values that must never reach a message.
    void note_secret(const std::string& secret) {
        if (secret.empty()) return;
        std::lock_guard lock(config_mutex_);
        secrets_.push_back(secret);
    }

    source_result from_environment(const shared_config&) {
        auto key = env_value(options_.env, "AWS_ACCESS_KEY_ID");
        auto secret = env_value(options_.env, "AWS_SECRET_ACCESS_KEY");
        if (!key && !secret) return not_applicable("AWS_ACCESS_KEY_ID is not set");
        if (secret) note_secret(*secret);
        auto token = env_value(options_.env, "AWS_SESSION_TOKEN");
        if (token) note_secret(*token);
        if (!key)
            return failed(
                make_error(errc::AUTH, "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"));
        if (!secret)
            return failed(
                make_error(errc::AUTH, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
        credentials creds;
        creds.access_key_id = *key;
        creds.secret_access_key = *secret;
        creds.session_token = token.value_or("");
        creds.source = "environment";
        return found(std::move(creds));
    }

    source_result from_profile(const shared_config& shared) {
        const config_section* profile = shared.profile();
        if (profile == nullptr) {
            return not_applicable("profile '" + shared.profile_name + "' is not in " + shared.credentials_path +
                                  " or " + shared.config_path);
        }
        auto key = profile->get("aws_access_key_id");
        auto secret = profile->get("aws_secret_access_key");
        std::string label = "profile " + shared.profile_name;
        if (key || secret) {
            if (secret) note_secret(*secret);
            auto token = profile->get("aws_session_token");
            if (token) note_secret(*token);
            if (!key || !secret) {
                return failed(
                    make_error(errc::AUTH, label + ": needs both aws_access_key_id and aws_secret_access_key"));
            }
            credentials creds;
            creds.access_key_id = *key;
            creds.secret_access_key = *secret;
            creds.session_token = token.value_or("");
            creds.source = label;
            return found(std::move(creds));
        }
        if (auto command = profile->get("credential_process")) return from_process(*command, label);
        return not_applicable(label + " has no aws_access_key_id or credential_process");
    }

    source_result from_process(const std::string& command, const std::string& label) {
        std::string source = "credential_process of " + label;
        auto argv = detail::split_command_line(command);
        if (!argv) return failed(make_error(errc::AUTH, source + ": " + argv.err().message));
        auto output = detail::run_process(*argv, options_.process_timeout);
        if (!output)
            return failed(make_error(errc::AUTH, source + ": " + output.err().message, output.err().retryable));
        auto creds = parse_credentials_json(*output, source, true);
        if (!creds) return failed(std::move(creds).err());
        note_secret(creds->secret_access_key);
        note_secret(creds->session_token);
        return found(std::move(*creds));
    }

    source_result from_web_identity(const shared_config& shared) {
        std::optional<std::string> token_file = env_value(options_.env, "AWS_WEB_IDENTITY_TOKEN_FILE");
        std::optional<std::string> role_arn;
        std::optional<std::string> session_name;
        if (token_file) {
            role_arn = env_value(options_.env, "AWS_ROLE_ARN");
            session_name = env_value(options_.env, "AWS_ROLE_SESSION_NAME");
            if (!role_arn) {
                return failed(
                    make_error(errc::AUTH, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"));
            }
        } else if (const config_section* profile = shared.profile();
                   profile != nullptr && profile->get("web_identity_token_file")) {
            token_file = profile->get("web_identity_token_file");
            role_arn = profile->get("role_arn");
            session_name = profile->get("role_session_name");
            if (!role_arn) {
                return failed(make_error(errc::AUTH, "web identity: profile " + shared.profile_name +
                                                         " has web_identity_token_file but no role_arn"));
            }
        } else {
            return not_applicable(
                "AWS_WEB_IDENTITY_TOKEN_FILE is not set and the profile has no web_identity_token_file");
        }
        if (!options_.http) return not_applicable("no HTTP client to call STS");
        auto token = read_file(*token_file, "web identity: token file");
        if (!token) return failed(std::move(token).err());
        std::string token_text = trim_copy(*token);
        note_secret(token_text);
        if (token_text.empty())
            return failed(make_error(errc::AUTH, "web identity: token file " + *token_file + " is empty"));
        if (!session_name) {
            auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.clock().time_since_epoch());
            session_name = "tarius-session-" + std::to_string(seconds.count());
        }
        std::string region = "us-east-1";
        if (auto resolved = resolve_region(options_.env, shared)) region = *resolved;
        auto sts = resolve_endpoint("sts", region, options_.env, shared);
        if (!sts) return failed(std::move(sts).err());

        http_request request;
        request.method = "POST";
        request.url = sts->url() + "/";
        request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
        request.body = "Action=AssumeRoleWithWebIdentity&RoleArn=" + detail::form_encode(*role_arn) +
                       "&RoleSessionName=" + detail::form_encode(*session_name) +
                       "&Version=2011-06-15&WebIdentityToken=" + detail::form_encode(token_text);
        auto response = options_.http->perform(std::move(request));
        if (!response) {
            return failed(make_error(errc::AUTH, "web identity: STS request failed: " + response.err().message,
                                     response.err().retryable));
        }
        if (response->status != 200) {
            service_error err = parse_service_error("sts", "AssumeRoleWithWebIdentity", *response);
            return failed(make_error(errc::AUTH, "web identity: " + err.describe(),
                                     err.retryable || err.code == "IDPCommunicationError"));
        }
        auto document = detail::parse_xml(response->body);
        if (!document) return failed(make_error(errc::AUTH, "web identity: STS response: " + document.err().message));
        const auto* node = document->descendant("Credentials");
        const auto* key = node != nullptr ? node->child("AccessKeyId") : nullptr;
        const auto* secret = node != nullptr ? node->child("SecretAccessKey") : nullptr;
        const auto* session = node != nullptr ? node->child("SessionToken") : nullptr;
        const auto* expiration = node != nullptr ? node->child("Expiration") : nullptr;
        if (key == nullptr || secret == nullptr || session == nullptr || expiration == nullptr) {
            return failed(make_error(errc::AUTH, "web identity: STS response lacks Credentials"));
        }
        credentials creds;
        creds.access_key_id = trim_copy(key->text);
        creds.secret_access_key = trim_copy(secret->text);
        creds.session_token = trim_copy(session->text);
        note_secret(creds.secret_access_key);
        note_secret(creds.session_token);
        auto when = detail::parse_iso8601(trim_copy(expiration->text));
        if (!when) return failed(make_error(errc::AUTH, "web identity: STS Expiration is not a timestamp"));
        creds.expiration = *when;
        creds.source = "web identity";
        return found(std::move(creds));
    }

    source_result from_container(const shared_config&) {
        std::string url;
        if (auto relative = env_value(options_.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
            url = "http://169.254.170.2" + (relative->starts_with("/") ? *relative : "/" + *relative);
        } else if (auto full = env_value(options_.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
            auto parsed = parse_endpoint_url(*full, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
            if (!parsed) {
                // A query string is legal here; only the scheme and host matter for the check.
                auto query = full->find('?');
                parsed = parse_endpoint_url(full->substr(0, query), "AWS_CONTAINER_CREDENTIALS_FULL_URI");
                if (!parsed) return failed(make_error(errc::AUTH, "container: " + parsed.err().message));
            }
            if (parsed->scheme == "http" && !allowed_container_host(parsed->host)) {
                return failed(make_error(errc::AUTH, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI host '" +
                                                         parsed->host +
                                                         "' is not allowed over http (only loopback, 169.254.170.2, "
                                                         "169.254.170.23 and fd00:ec2::23; use https)"));
            }
            url = *full;
        } else {
            return not_applicable("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
        }
        if (!options_.http) return not_applicable("no HTTP client");
        http_request request;
        request.method = "GET";
        request.url = url;
        request.timeout = options_.metadata_timeout;
        std::optional<std::string> authorization;
        if (auto token_file = env_value(options_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
            auto token = read_file(*token_file, "container: authorization token file");
            if (!token) return failed(std::move(token).err());
            authorization = trim_copy(*token);
        } else if (auto token = env_value(options_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
            authorization = *token;
        }
        if (authorization) {
            note_secret(*authorization);
            if (authorization->find_first_of("\r\n") != std::string::npos) {
                return failed(make_error(errc::AUTH, "container: authorization token contains a line break"));
            }
            request.headers.push_back({"Authorization", *authorization});
        }
        request.headers.push_back({"Accept", "application/json"});
        auto response = options_.http->perform(std::move(request));
        if (!response) {
            return failed(make_error(errc::AUTH,
                                     "container: credentials endpoint unreachable: " + response.err().message,
                                     response.err().retryable));
        }
        if (response->status != 200) {
            return failed(make_error(
                errc::AUTH, "container: credentials endpoint answered HTTP " + std::to_string(response->status),
                response->status >= 500));
        }
        auto creds = parse_credentials_json(response->body, "container", false);
        if (!creds) return failed(std::move(creds).err());
        note_secret(creds->secret_access_key);
        note_secret(creds->session_token);
        return found(std::move(*creds));
    }

    source_result from_imds(const shared_config& shared) {
        if (truthy(env_value(options_.env, "AWS_EC2_METADATA_DISABLED"))) {
            return not_applicable("AWS_EC2_METADATA_DISABLED is true");
        }
        if (!options_.http) return not_applicable("no HTTP client");
        // Endpoint: explicit setting, else the IPv4 or IPv6 address chosen by the endpoint mode.
        std::optional<std::string> mode = env_value(options_.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        if (!mode) mode = shared.get("ec2_metadata_service_endpoint_mode");
        std::string base = lower(mode.value_or("")) == "ipv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
        if (auto configured = env_value(options_.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
            base = *configured;
        } else if (auto from_profile = shared.get("ec2_metadata_service_endpoint")) {
            base = *from_profile;
        }
        while (base.ends_with("/")) base.pop_back();

        http_request token_request;
        token_request.method = "PUT";
        token_request.url = base + "/latest/api/token";
        token_request.timeout = options_.metadata_timeout;
        token_request.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "21600"});
        auto token_response = options_.http->perform(std::move(token_request));
        if (!token_response)
            return not_applicable("instance metadata not reachable (" + token_response.err().message + ")");
        std::optional<std::string> token;
        if (token_response->status == 200) {
            token = trim_copy(token_response->body);
            note_secret(*token);
        } else if (token_response->status == 403 || token_response->status == 404 || token_response->status == 405) {
            // IMDSv1 fallback, as the SDKs do unless v1 is disabled.
            if (truthy(env_value(options_.env, "AWS_EC2_METADATA_V1_DISABLED"))) {
                return not_applicable("IMDSv2 token refused (HTTP " + std::to_string(token_response->status) +
                                      ") and AWS_EC2_METADATA_V1_DISABLED is true");
            }
        } else {
            return not_applicable("IMDSv2 token request answered HTTP " + std::to_string(token_response->status));
        }
        auto metadata_get = [&](const std::string& path) {
            http_request request;
            request.method = "GET";
            request.url = base + path;
            request.timeout = options_.metadata_timeout;
            if (token) request.headers.push_back({"X-aws-ec2-metadata-token", *token});
            return options_.http->perform(std::move(request));
        };
        const std::string prefix = "/latest/meta-data/iam/security-credentials/";
        auto roles = metadata_get(prefix);
        if (!roles) return not_applicable("instance metadata not reachable (" + roles.err().message + ")");
        if (roles->status == 404) return not_applicable("the instance has no IAM instance profile");
        if (roles->status != 200) {
            return not_applicable("instance profile listing answered HTTP " + std::to_string(roles->status));
        }
        std::string role = trim_copy(std::string_view(roles->body).substr(0, roles->body.find('\n')));
        if (role.empty()) return not_applicable("the instance has no IAM role");
        auto response = metadata_get(prefix + role);
        if (!response) {
            return failed(make_error(errc::AUTH, "imds: credentials request failed: " + response.err().message,
                                     response.err().retryable));
        }
        if (response->status != 200) {
            return failed(make_error(
                errc::AUTH, "imds: credentials of role " + role + " answered HTTP " + std::to_string(response->status),
                response->status >= 500));
        }
        auto creds = parse_credentials_json(response->body, "imds", false);
        if (!creds) return failed(std::move(creds).err());
        note_secret(creds->secret_access_key);
        note_secret(creds->session_token);
        return found(std::move(*creds));
    }

    chain_options options_;
    std::mutex mutex_;
    std::condition_variable refreshed_;
    bool refreshing_ = false;
    std::optional<credentials> cached_;
    int chosen_ = -1;  // index of the source that answered; only touched by the refreshing thread
    std::mutex config_mutex_;
    std::optional<shared_config> config_;
    std::vector<std::string> secrets_;
};

}  // namespace

std::unique_ptr<credentials_provider> make_default_credentials_chain(chain_options options) {
    return std::make_unique<default_chain>(std::move(options));
}

}  // namespace tarius::aws
