// The default credential provider chain: order, every source through a fake HTTP client, caching and refresh,
// the "nothing found" message, and secrets kept out of messages.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "aws/credentials_providers.hpp"
#include "tarius/aws/config.hpp"

namespace tarius::aws {
namespace {

namespace fs = std::filesystem;
using env_map = std::map<std::string, std::string, std::less<>>;
using namespace std::chrono_literals;

// Secrets used throughout: none may ever appear in an error message.
constexpr const char* ENV_SECRET = "envSECRETenvSECRETenvSECRETenvSECRET0001";
constexpr const char* ENV_TOKEN = "envTOKENenvTOKENenvTOKEN0001";
constexpr const char* PROFILE_SECRET = "profileSECRETprofileSECRETprofile0002";
constexpr const char* WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.webIDENTITYtoken.signature0003";
constexpr const char* STS_SECRET = "stsSECRETstsSECRETstsSECRETsts0004";
constexpr const char* STS_TOKEN = "stsSESSIONtokenSTS0005";
constexpr const char* CONTAINER_SECRET = "containerSECRETcontainer0006";
constexpr const char* CONTAINER_AUTH = "containerAUTHtoken0007";
constexpr const char* IMDS_SECRET = "imdsSECRETimdsSECRET0008";
constexpr const char* IMDS_TOKEN = "imdsSESSIONtoken0009";
constexpr const char* IMDS_API_TOKEN = "imdsAPItoken0010";
constexpr const char* PROCESS_SECRET = "processSECRETprocess0011";

const std::vector<std::string> all_secrets = {ENV_SECRET,  ENV_TOKEN,  PROFILE_SECRET,   WEB_TOKEN,
                                              STS_SECRET,  STS_TOKEN,  CONTAINER_SECRET, CONTAINER_AUTH,
                                              IMDS_SECRET, IMDS_TOKEN, IMDS_API_TOKEN,   PROCESS_SECRET};

void expect_no_secret(const std::string& message) {
    for (const auto& secret : all_secrets) {
        EXPECT_EQ(message.find(secret), std::string::npos) << "secret leaked: " << message;
    }
}

// 2026-01-01T00:00:00Z, the fake "now" all tests start at.
constexpr auto T0 = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));

class fake_clock {
public:
    [[nodiscard]] wall_clock fn() const {
        auto offset = offset_;
        return [offset] { return T0 + std::chrono::seconds(offset->load()); };
    }
    void set(std::chrono::seconds since_t0) const { offset_->store(since_t0.count()); }

private:
    std::shared_ptr<std::atomic<int64_t>> offset_ = std::make_shared<std::atomic<int64_t>>(0);
};

// An http_client that records every request and answers from a handler.
class fake_http final : public http_client {
public:
    using handler_fn = std::function<result<http_response>(const http_request&)>;
    explicit fake_http(handler_fn handler) : handler_(std::move(handler)) {}

    result<http_response> perform(http_request request) override {
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
        }
        return handler_(request);
    }
    void submit(http_request request, http_callback done) override { done(perform(std::move(request))); }
    size_t poll(std::chrono::milliseconds) override { return 0; }

    std::vector<http_request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    handler_fn handler_;
    mutable std::mutex mutex_;
    std::vector<http_request> requests_;
};

http_response respond(long status, std::string body) {
    http_response response;
    response.status = status;
    response.body = std::move(body);
    response.body_bytes = response.body.size();
    return response;
}

std::optional<std::string> header_of(const http_request& request, const std::string& name) {
    for (const auto& header : request.headers) {
        if (header.name == name) return header.value;
    }
    return std::nullopt;
}

std::string iso(std::chrono::system_clock::time_point when) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string sts_body(std::chrono::system_clock::time_point expiration) {
    return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
           "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIASTS</AccessKeyId>"
           "<SecretAccessKey>" +
           std::string(STS_SECRET) + "</SecretAccessKey><SessionToken>" + STS_TOKEN + "</SessionToken><Expiration>" +
           iso(expiration) +
           "</Expiration></Credentials>"
           "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
           "</AssumeRoleWithWebIdentityResponse>";
}

std::string json_credentials(const char* key, const char* secret, const char* token,
                             std::chrono::system_clock::time_point expiration) {
    return std::string(
               "{\"Code\":\"Success\",\"LastUpdated\":\"2025-12-31T23:00:00Z\",\"Type\":\"AWS-HMAC\","
               "\"AccessKeyId\":\"") +
           key + "\",\"SecretAccessKey\":\"" + secret + "\",\"Token\":\"" + token + "\",\"Expiration\":\"" +
           iso(expiration) + "\"}";
}

// A fake of every metadata/STS endpoint the chain may call.
fake_http::handler_fn all_endpoints(std::chrono::system_clock::time_point expiration) {
    return [expiration](const http_request& request) -> result<http_response> {
        if (request.url.find("/latest/api/token") != std::string::npos) return respond(200, IMDS_API_TOKEN);
        if (request.url.ends_with("/latest/meta-data/iam/security-credentials/")) return respond(200, "my-role\n");
        if (request.url.ends_with("/latest/meta-data/iam/security-credentials/my-role")) {
            return respond(200, json_credentials("ASIAIMDS", IMDS_SECRET, IMDS_TOKEN, expiration));
        }
        if (request.url.find("sts.") != std::string::npos || request.method == "POST") {
            return respond(200, sts_body(expiration));
        }
        if (request.method == "GET") {
            return respond(200, json_credentials("ASIACONTAINER", CONTAINER_SECRET, "ctoken", expiration));
        }
        return make_error(errc::NETWORK, "no route to " + request.url, true);
    };
}

class temp_dir {
public:
    explicit temp_dir(const std::string& name) : path_(fs::path(TARIUS_BINARY_DIR) / "tmp" / ("awscfg_" + name)) {
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::string write(const std::string& name, const std::string& text, bool executable = false) const {
        auto file = path_ / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        if (executable) fs::permissions(file, fs::perms::owner_all, fs::perm_options::add);
        return file.string();
    }
    [[nodiscard]] std::string path() const { return path_.string(); }

private:
    fs::path path_;
};

struct chain_fixture {
    std::shared_ptr<fake_http> http;
    fake_clock clock;
    std::unique_ptr<credentials_provider> chain;
};

chain_fixture make_chain(env_map env, fake_http::handler_fn handler) {
    chain_fixture out;
    out.http = std::make_shared<fake_http>(std::move(handler));
    chain_options options;
    options.env = map_environment(std::move(env));
    options.http = out.http;
    options.clock = out.clock.fn();
    out.chain = make_default_credentials_chain(std::move(options));
    return out;
}

TEST(aws_credentials, chain_order_each_source_shadows_the_next) {
    temp_dir dir("chain_order");
    auto expiration = T0 + 6h;
    auto token_file = dir.write("web-token", std::string(WEB_TOKEN) + "\n");
    dir.write(
        "home/.aws/credentials",
        std::string("[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = ") + PROFILE_SECRET + "\n");
    const std::string home = dir.path() + "/home";
    const env_map env_keys = {
        {"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", ENV_SECRET}, {"AWS_SESSION_TOKEN", ENV_TOKEN}};
    const env_map web = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                         {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web"}};
    const env_map container = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}};

    auto merge = [](std::initializer_list<env_map> parts) {
        env_map out;
        for (const auto& part : parts) out.insert(part.begin(), part.end());
        return out;
    };
    struct case_t {
        const char* label;
        env_map env;
        std::string key;
        std::string source;
        size_t requests;
    };
    const std::vector<case_t> cases = {
        {"environment first", merge({env_keys, web, container, {{"HOME", home}}}), "AKIAENV", "environment", 0},
        {"then shared files", merge({web, container, {{"HOME", home}}}), "AKIAPROFILE", "profile default", 0},
        {"then web identity", merge({web, container, {{"HOME", dir.path()}}}), "ASIASTS", "web identity", 1},
        {"then container", merge({container, {{"HOME", dir.path()}}}), "ASIACONTAINER", "container", 1},
        {"then imds", {{"HOME", dir.path()}}, "ASIAIMDS", "imds", 3},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto fixture = make_chain(c.env, all_endpoints(expiration));
        auto creds = fixture.chain->get();
        ASSERT_TRUE(creds) << creds.err().message;
        EXPECT_EQ(creds->access_key_id, c.key);
        EXPECT_EQ(creds->source, c.source);
        EXPECT_EQ(fixture.http->requests().size(), c.requests);
    }
    // Environment credentials carry the session token and no expiration.
    auto fixture = make_chain(merge({env_keys, {{"HOME", home}}}), all_endpoints(expiration));
    auto creds = fixture.chain->get();
    ASSERT_TRUE(creds);
    EXPECT_EQ(creds->secret_access_key, ENV_SECRET);
    EXPECT_EQ(creds->session_token, ENV_TOKEN);
    EXPECT_FALSE(creds->expiration.has_value());
}

TEST(aws_credentials, profile_static_keys_and_selection) {
    temp_dir dir("profile");
    auto config = dir.write("config",
                            "[profile dev]\naws_access_key_id = AKIACONFIGDEV\naws_secret_access_key = fromconfig\n"
                            "[profile tokened]\naws_access_key_id = AKIATOK\n");
    auto creds_file = dir.write("credentials", std::string("[dev]\naws_secret_access_key = ") + PROFILE_SECRET +
                                                   "\n[tokened]\naws_secret_access_key = s\naws_session_token = tok\n"
                                                   "[half]\naws_access_key_id = AKIAHALF\n");
    env_map base = {{"AWS_CONFIG_FILE", config},
                    {"AWS_SHARED_CREDENTIALS_FILE", creds_file},
                    {"AWS_EC2_METADATA_DISABLED", "true"}};
    struct case_t {
        const char* profile;
        bool ok;
        std::string key;
        std::string secret;
        std::string token;
        std::string error;
    };
    const std::vector<case_t> cases = {
        {"dev", true, "AKIACONFIGDEV", PROFILE_SECRET, "", ""},  // the credentials file's secret wins
        {"tokened", true, "AKIATOK", "s", "tok", ""},
        {"half", false, "", "", "", "profile half: needs both aws_access_key_id and aws_secret_access_key"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.profile);
        env_map env = base;
        env["AWS_PROFILE"] = c.profile;
        auto fixture = make_chain(env, all_endpoints(T0 + 1h));
        auto creds = fixture.chain->get();
        ASSERT_EQ(creds.has_value(), c.ok);
        if (!creds) {
            EXPECT_EQ(creds.err().code, errc::AUTH);
            EXPECT_EQ(creds.err().message, c.error);
            continue;
        }
        EXPECT_EQ(creds->access_key_id, c.key);
        EXPECT_EQ(creds->secret_access_key, c.secret);
        EXPECT_EQ(creds->session_token, c.token);
        EXPECT_EQ(creds->source, std::string("profile ") + c.profile);
    }
}

TEST(aws_credentials, credential_process) {
    temp_dir dir("process");
    // The script echoes its arguments into the key id so the test sees they were passed without a shell.
    auto script =
        dir.write("creds.sh",
                  "#!/bin/sh\n"
                  "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC-%s-%s\", \"SecretAccessKey\": \"" +
                      std::string(PROCESS_SECRET) +
                      "\", \"SessionToken\": \"ptok\", \"Expiration\": \"2026-01-01T01:00:00Z\"}' \"$1\" \"$2\"\n",
                  true);
    auto static_script = dir.write("static.sh",
                                   "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIASTATIC\", "
                                   "\"SecretAccessKey\": \"x\"}'\n",
                                   true);
    auto failing = dir.write("fail.sh", "#!/bin/sh\necho 'oops " + std::string(PROCESS_SECRET) + "'\nexit 3\n", true);
    auto bad_version = dir.write("v2.sh",
                                 "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" +
                                     std::string(PROCESS_SECRET) + "\"}'\n",
                                 true);
    auto not_json =
        dir.write("text.sh", "#!/bin/sh\necho 'SecretAccessKey=" + std::string(PROCESS_SECRET) + "'\n", true);
    auto config = dir.write("config", "[profile ok]\ncredential_process = " + script +
                                          " 'two words' \"$HOME\"\n"
                                          "[profile static]\ncredential_process = " +
                                          static_script +
                                          "\n"
                                          "[profile failing]\ncredential_process = " +
                                          failing +
                                          "\n"
                                          "[profile version]\ncredential_process = " +
                                          bad_version +
                                          "\n"
                                          "[profile text]\ncredential_process = " +
                                          not_json +
                                          "\n"
                                          "[profile missing]\ncredential_process = " +
                                          dir.path() + "/does-not-exist\n");
    struct case_t {
        const char* profile;
        bool ok;
        std::string key;
        std::string error_start;
    };
    const std::vector<case_t> cases = {
        {"ok", true, "AKIAPROC-two words-$HOME", ""},
        {"static", true, "AKIASTATIC", ""},
        {"failing", false, "", "credential_process of profile failing: '" + failing + "' exited with status 3"},
        {"version", false, "", "credential_process of profile version: output must have \"Version\": 1"},
        {"text", false, "", "credential_process of profile text: response is not valid JSON"},
        {"missing", false, "", "credential_process of profile missing: cannot run"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.profile);
        auto fixture = make_chain({{"AWS_CONFIG_FILE", config},
                                   {"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/none"},
                                   {"AWS_PROFILE", c.profile},
                                   {"HOME", dir.path()}},
                                  all_endpoints(T0 + 1h));
        auto creds = fixture.chain->get();
        ASSERT_EQ(creds.has_value(), c.ok) << (creds ? "" : creds.err().message);
        if (!creds) {
            EXPECT_EQ(creds.err().code, errc::AUTH);
            EXPECT_TRUE(creds.err().message.starts_with(c.error_start)) << creds.err().message;
            expect_no_secret(creds.err().message);
            continue;
        }
        EXPECT_EQ(creds->access_key_id, c.key);
    }
    auto fixture =
        make_chain({{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "ok"}, {"HOME", dir.path()}}, all_endpoints(T0 + 1h));
    auto creds = fixture.chain->get();
    ASSERT_TRUE(creds);
    EXPECT_EQ(creds->secret_access_key, PROCESS_SECRET);
    EXPECT_EQ(creds->session_token, "ptok");
    ASSERT_TRUE(creds->expiration.has_value());
    EXPECT_EQ(*creds->expiration, T0 + 1h);
    EXPECT_EQ(creds->source, "credential_process of profile ok");
}

TEST(aws_credentials, web_identity_request) {
    temp_dir dir("web");
    auto token_file = dir.write("token", std::string(WEB_TOKEN) + "\n");
    auto config = dir.write("config", "[profile web]\nweb_identity_token_file = " + token_file +
                                          "\nrole_arn = arn:aws:iam::123456789012:role/from-profile\n"
                                          "role_session_name = prof-session\nregion = eu-west-1\n");
    struct case_t {
        const char* label;
        env_map env;
        std::string url;
        std::string body;
    };
    const std::string encoded_token = detail::form_encode(WEB_TOKEN);
    const std::vector<case_t> cases = {
        {"environment, regional endpoint",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
          {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/my role"},
          {"AWS_ROLE_SESSION_NAME", "sess@1"},
          {"AWS_REGION", "eu-central-1"}},
         "https://sts.eu-central-1.amazonaws.com/",
         "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmy%20role"
         "&RoleSessionName=sess%401&Version=2011-06-15&WebIdentityToken=" +
             encoded_token},
        {"default session name, us-east-1 without region",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}},
         "https://sts.us-east-1.amazonaws.com/",
         "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
         "&RoleSessionName=tarius-session-1767225600&Version=2011-06-15&WebIdentityToken=" +
             encoded_token},
        {"AWS_ENDPOINT_URL_STS",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
          {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
          {"AWS_ROLE_SESSION_NAME", "s"},
          {"AWS_REGION", "us-west-2"},
          {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000"}},
         "http://127.0.0.1:5000/",
         "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
         "&RoleSessionName=s&Version=2011-06-15&WebIdentityToken=" +
             encoded_token},
        {"profile settings",
         {{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "web"}},
         "https://sts.eu-west-1.amazonaws.com/",
         "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffrom-profile"
         "&RoleSessionName=prof-session&Version=2011-06-15&WebIdentityToken=" +
             encoded_token},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        env_map env = c.env;
        env["HOME"] = dir.path();
        auto fixture = make_chain(env, all_endpoints(T0 + 1h));
        auto creds = fixture.chain->get();
        ASSERT_TRUE(creds) << creds.err().message;
        EXPECT_EQ(creds->access_key_id, "ASIASTS");
        EXPECT_EQ(creds->secret_access_key, STS_SECRET);
        EXPECT_EQ(creds->session_token, STS_TOKEN);
        EXPECT_EQ(creds->expiration, T0 + 1h);
        auto requests = fixture.http->requests();
        ASSERT_EQ(requests.size(), 1U);
        EXPECT_EQ(requests[0].method, "POST");
        EXPECT_EQ(requests[0].url, c.url);
        EXPECT_EQ(requests[0].body, c.body);
        EXPECT_EQ(header_of(requests[0], "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
        // Unsigned: no Authorization or X-Amz-* headers.
        EXPECT_EQ(header_of(requests[0], "Authorization"), std::nullopt);
        EXPECT_EQ(requests[0].headers.size(), 1U);
    }
}

TEST(aws_credentials, web_identity_errors) {
    temp_dir dir("web_errors");
    auto token_file = dir.write("token", WEB_TOKEN);
    const std::string sts_error =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
        "<Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key from your identity provider"
        "</Message></Error><RequestId>rid-1</RequestId></ErrorResponse>";
    struct case_t {
        const char* label;
        env_map env;
        fake_http::handler_fn handler;
        std::string message;
        bool retryable;
    };
    const std::vector<case_t> cases = {
        {"STS refuses",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}},
         [&](const http_request&) -> result<http_response> { return respond(400, sts_error); },
         "web identity: sts AssumeRoleWithWebIdentity: InvalidIdentityToken (HTTP 400): Couldn't retrieve "
         "verification key from your identity provider [request id rid-1]",
         false},
        {"STS echoes the token back (it must be redacted)",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}},
         [&](const http_request&) -> result<http_response> {
             return respond(400, "<ErrorResponse><Error><Code>IDPCommunicationError</Code><Message>bad " +
                                     std::string(WEB_TOKEN) + "</Message></Error></ErrorResponse>");
         },
         "web identity: sts AssumeRoleWithWebIdentity: IDPCommunicationError (HTTP 400): bad <redacted>",
         true},
        {"network down",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}},
         [&](const http_request&) -> result<http_response> {
             return make_error(errc::NETWORK, "connect timeout", true);
         },
         "web identity: STS request failed: connect timeout",
         true},
        {"missing role arn",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}},
         all_endpoints(T0 + 1h),
         "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not",
         false},
        {"unreadable token file",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", dir.path() + "/nope"}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}},
         all_endpoints(T0 + 1h),
         "web identity: token file " + dir.path() + "/nope cannot be read",
         false},
        {"garbage response",
         {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}},
         [&](const http_request&) -> result<http_response> { return respond(200, "<Other/>"); },
         "web identity: STS response lacks Credentials",
         false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        env_map env = c.env;
        env["HOME"] = dir.path();
        auto fixture = make_chain(env, c.handler);
        auto creds = fixture.chain->get();
        ASSERT_FALSE(creds);
        EXPECT_EQ(creds.err().code, errc::AUTH);
        EXPECT_EQ(creds.err().message, c.message);
        EXPECT_EQ(creds.err().retryable, c.retryable);
        expect_no_secret(creds.err().message);
    }
}

TEST(aws_credentials, container_requests) {
    temp_dir dir("container");
    auto auth_file = dir.write("auth", std::string(CONTAINER_AUTH) + "\n");
    struct case_t {
        const char* label;
        env_map env;
        bool ok;
        std::string url;
        std::optional<std::string> authorization;
        std::string error;
    };
    const std::vector<case_t> cases = {
        {"relative uri",
         {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}},
         true,
         "http://169.254.170.2/v2/credentials/abc",
         std::nullopt,
         ""},
        {"relative wins over full",
         {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/rel"},
          {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x"}},
         true,
         "http://169.254.170.2/rel",
         std::nullopt,
         ""},
        {"full uri loopback with token",
         {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/creds?x=1"},
          {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic abc"}},
         true,
         "http://127.0.0.1:8080/creds?x=1",
         "Basic abc",
         ""},
        {"EKS pod identity with token file (file beats variable)",
         {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
          {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", auth_file},
          {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"}},
         true,
         "http://169.254.170.23/v1/credentials",
         CONTAINER_AUTH,
         ""},
        {"EKS IPv6",
         {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[fd00:ec2::23]/v1/credentials"}},
         true,
         "http://[fd00:ec2::23]/v1/credentials",
         std::nullopt,
         ""},
        {"https anywhere",
         {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/c"}},
         true,
         "https://creds.example.com/c",
         std::nullopt,
         ""},
        {"http to another host refused",
         {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/c"}},
         false,
         "",
         std::nullopt,
         "container: AWS_CONTAINER_CREDENTIALS_FULL_URI host 'evil.example.com' is not allowed over http (only "
         "loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23; use https)"},
        {"http to a private address refused",
         {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/c"}},
         false,
         "",
         std::nullopt,
         "container: AWS_CONTAINER_CREDENTIALS_FULL_URI host '10.0.0.1' is not allowed over http (only loopback, "
         "169.254.170.2, 169.254.170.23 and fd00:ec2::23; use https)"},
        {"token with newline refused",
         {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1"}},
         false,
         "",
         std::nullopt,
         "container: authorization token contains a line break"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        env_map env = c.env;
        env["HOME"] = dir.path();
        auto fixture = make_chain(env, all_endpoints(T0 + 1h));
        auto creds = fixture.chain->get();
        ASSERT_EQ(creds.has_value(), c.ok) << (creds ? "" : creds.err().message);
        auto requests = fixture.http->requests();
        if (!creds) {
            EXPECT_EQ(creds.err().message, c.error);
            EXPECT_TRUE(requests.empty());
            continue;
        }
        EXPECT_EQ(creds->access_key_id, "ASIACONTAINER");
        EXPECT_EQ(creds->secret_access_key, CONTAINER_SECRET);
        EXPECT_EQ(creds->session_token, "ctoken");
        EXPECT_EQ(creds->expiration, T0 + 1h);
        ASSERT_EQ(requests.size(), 1U);
        EXPECT_EQ(requests[0].method, "GET");
        EXPECT_EQ(requests[0].url, c.url);
        EXPECT_EQ(header_of(requests[0], "Authorization"), c.authorization);
        EXPECT_EQ(requests[0].timeout, 1000ms);
    }
}

TEST(aws_credentials, imds_v2_requests) {
    struct case_t {
        const char* label;
        env_map env;
        std::string base;
    };
    const std::vector<case_t> cases = {
        {"default endpoint", {}, "http://169.254.169.254"},
        {"endpoint override",
         {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/"}},
         "http://127.0.0.1:1338"},
        {"ipv6 endpoint", {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://[fd00:ec2::254]"}}, "http://[fd00:ec2::254]"},
        {"ipv6 endpoint mode", {{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}}, "http://[fd00:ec2::254]"},
        {"endpoint beats mode",
         {{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"},
          {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"}},
         "http://127.0.0.1:1"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        env_map env = c.env;
        env["HOME"] = "/nonexistent";
        auto fixture = make_chain(env, all_endpoints(T0 + 6h));
        auto creds = fixture.chain->get();
        ASSERT_TRUE(creds) << creds.err().message;
        EXPECT_EQ(creds->access_key_id, "ASIAIMDS");
        EXPECT_EQ(creds->secret_access_key, IMDS_SECRET);
        EXPECT_EQ(creds->session_token, IMDS_TOKEN);
        EXPECT_EQ(creds->source, "imds");
        auto requests = fixture.http->requests();
        ASSERT_EQ(requests.size(), 3U);
        EXPECT_EQ(requests[0].method, "PUT");
        EXPECT_EQ(requests[0].url, c.base + "/latest/api/token");
        EXPECT_EQ(header_of(requests[0], "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
        EXPECT_EQ(requests[1].method, "GET");
        EXPECT_EQ(requests[1].url, c.base + "/latest/meta-data/iam/security-credentials/");
        EXPECT_EQ(header_of(requests[1], "X-aws-ec2-metadata-token"), IMDS_API_TOKEN);
        EXPECT_EQ(requests[2].method, "GET");
        EXPECT_EQ(requests[2].url, c.base + "/latest/meta-data/iam/security-credentials/my-role");
        EXPECT_EQ(header_of(requests[2], "X-aws-ec2-metadata-token"), IMDS_API_TOKEN);
        for (const auto& request : requests) EXPECT_EQ(request.timeout, 1000ms);
    }
}

TEST(aws_credentials, imds_v1_fallback_and_failures) {
    auto v1_only = [](const http_request& request) -> result<http_response> {
        if (request.method == "PUT") return respond(403, "");
        return all_endpoints(T0 + 6h)(request);
    };
    auto fixture = make_chain({}, v1_only);
    auto creds = fixture.chain->get();
    ASSERT_TRUE(creds) << creds.err().message;
    auto requests = fixture.http->requests();
    ASSERT_EQ(requests.size(), 3U);
    EXPECT_EQ(header_of(requests[1], "X-aws-ec2-metadata-token"), std::nullopt);

    auto refused = make_chain({{"AWS_EC2_METADATA_V1_DISABLED", "true"}}, v1_only);
    auto none = refused.chain->get();
    ASSERT_FALSE(none);
    EXPECT_NE(none.err().message.find("imds: IMDSv2 token refused (HTTP 403) and AWS_EC2_METADATA_V1_DISABLED is true"),
              std::string::npos)
        << none.err().message;

    auto bad_code = make_chain({}, [](const http_request& request) -> result<http_response> {
        if (request.url.ends_with("/my-role")) return respond(200, "{\"Code\":\"AssumeRoleUnauthorizedAccess\"}");
        return all_endpoints(T0 + 6h)(request);
    });
    auto failed = bad_code.chain->get();
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.err().message, "imds: credentials endpoint answered Code AssumeRoleUnauthorizedAccess");
}

TEST(aws_credentials, nothing_found_lists_every_source) {
    temp_dir dir("nothing");
    const std::string home = dir.path();
    auto fixture = make_chain({{"HOME", home}}, [](const http_request&) -> result<http_response> {
        return make_error(errc::NETWORK, "connection refused", true);
    });
    auto creds = fixture.chain->get();
    ASSERT_FALSE(creds);
    EXPECT_EQ(creds.err().code, errc::AUTH);
    EXPECT_FALSE(creds.err().retryable);
    EXPECT_EQ(creds.err().message,
              "no AWS credentials found (tried environment: AWS_ACCESS_KEY_ID is not set; shared files: profile "
              "'default' is not in " +
                  home + "/.aws/credentials or " + home +
                  "/.aws/config; web identity: "
                  "AWS_WEB_IDENTITY_TOKEN_FILE is not set and the profile has no web_identity_token_file; container: "
                  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set; imds: instance metadata not "
                  "reachable (connection refused))");

    dir.write(".aws/config", "[default]\nregion = eu-west-1\n");
    auto disabled = make_chain({{"HOME", home}, {"AWS_EC2_METADATA_DISABLED", "true"}}, all_endpoints(T0 + 1h));
    auto none = disabled.chain->get();
    ASSERT_FALSE(none);
    EXPECT_NE(none.err().message.find("shared files: profile default has no aws_access_key_id or credential_process"),
              std::string::npos)
        << none.err().message;
    EXPECT_TRUE(none.err().message.ends_with("imds: AWS_EC2_METADATA_DISABLED is true)")) << none.err().message;
    EXPECT_TRUE(disabled.http->requests().empty());
}

TEST(aws_credentials, secrets_never_in_messages) {
    temp_dir dir("secrets");
    auto token_file = dir.write("token", WEB_TOKEN);
    auto config = dir.write("config", std::string("[default]\naws_secret_access_key = ") + PROFILE_SECRET + "\n");
    std::vector<env_map> envs = {
        {{"AWS_SECRET_ACCESS_KEY", ENV_SECRET}, {"AWS_SESSION_TOKEN", ENV_TOKEN}},  // key id missing
        {{"AWS_CONFIG_FILE", config}},                                              // profile key id missing
        {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}},                              // role missing
        {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH}},
        {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil/"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH}},
        {},
    };
    // Every endpoint answers with an error page quoting the whole request it received.
    auto echo_secrets = [](const http_request& request) -> result<http_response> {
        std::string all = request.url + " " + request.body;
        for (const auto& header : request.headers) all += " " + header.value;
        if (request.method == "PUT") return respond(200, IMDS_API_TOKEN);
        std::string escaped;
        for (char c : all) {
            if (c == '&') {
                escaped += "&amp;";
            } else if (c == '<') {
                escaped += "&lt;";
            } else {
                escaped.push_back(c);
            }
        }
        return respond(500, "<Error><Code>InternalError</Code><Message>" + escaped + "</Message></Error>");
    };
    for (const auto& env : envs) {
        env_map with_home = env;
        with_home["HOME"] = dir.path();
        auto fixture = make_chain(with_home, echo_secrets);
        auto creds = fixture.chain->get();
        ASSERT_FALSE(creds);
        SCOPED_TRACE(creds.err().message);
        expect_no_secret(creds.err().message);
    }
    // Web identity with an STS that quotes the whole request body.
    auto fixture = make_chain(
        {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}, {"HOME", dir.path()}},
        echo_secrets);
    auto creds = fixture.chain->get();
    ASSERT_FALSE(creds);
    expect_no_secret(creds.err().message);
    EXPECT_NE(creds.err().message.find("<redacted>"), std::string::npos) << creds.err().message;
}

TEST(aws_credentials, refresh_before_expiry) {
    // IMDS credentials expiring one hour after T0; each fetch hands out a new key id.
    auto fetches = std::make_shared<std::atomic<int>>(0);
    auto expiry = std::make_shared<std::atomic<int64_t>>(3600);
    auto fail = std::make_shared<std::atomic<bool>>(false);
    auto handler = [fetches, expiry, fail](const http_request& request) -> result<http_response> {
        if (fail->load()) return make_error(errc::NETWORK, "connection refused", true);
        if (request.url.ends_with("/my-role")) {
            int n = ++*fetches;
            std::string key = "ASIA" + std::to_string(n);
            return respond(
                200, json_credentials(key.c_str(), IMDS_SECRET, IMDS_TOKEN, T0 + std::chrono::seconds(expiry->load())));
        }
        return all_endpoints(T0)(request);
    };
    auto fixture = make_chain({}, handler);
    struct step {
        const char* label;
        std::chrono::seconds now;
        bool fail;
        int64_t next_expiry;  // seconds after T0 for the next fetch
        bool ok;
        std::string key;
        int fetches;
    };
    const std::vector<step> steps = {
        {"first call fetches", 0s, false, 3600, true, "ASIA1", 1},
        {"cached while far from expiry", 40min, false, 7200, true, "ASIA1", 1},
        {"advisory window (13 min left): refresh", 47min, false, 7200, true, "ASIA2", 2},
        {"new credentials cached", 60min, false, 7200, true, "ASIA2", 2},
        {"advisory refresh fails: old credentials kept", 107min, true, 0, true, "ASIA2", 2},
        {"mandatory window (5 min left) and failing: error", 115min, true, 0, false, "", 2},
        {"recovered", 116min, false, 20000, true, "ASIA3", 3},
    };
    for (const auto& s : steps) {
        SCOPED_TRACE(s.label);
        fixture.clock.set(s.now);
        fail->store(s.fail);
        expiry->store(s.next_expiry);
        auto creds = fixture.chain->get();
        ASSERT_EQ(creds.has_value(), s.ok);
        if (creds) {
            EXPECT_EQ(creds->access_key_id, s.key);
        } else {
            EXPECT_EQ(creds.err().code, errc::AUTH);
        }
        EXPECT_EQ(fetches->load(), s.fetches);
    }
}

TEST(aws_credentials, one_refresh_under_concurrency) {
    auto fetches = std::make_shared<std::atomic<int>>(0);
    auto handler = [fetches](const http_request& request) -> result<http_response> {
        if (request.url.ends_with("/my-role")) {
            ++*fetches;
            std::this_thread::sleep_for(100ms);  // slow enough for every thread to pile up
            int n = fetches->load();
            return respond(200, json_credentials(("ASIA" + std::to_string(n)).c_str(), IMDS_SECRET, IMDS_TOKEN,
                                                 n == 1 ? T0 + 1h : T0 + 3h));
        }
        return all_endpoints(T0)(request);
    };
    auto fixture = make_chain({}, handler);
    constexpr int THREADS = 8;
    auto run_all = [&](std::vector<std::string>& keys) {
        std::vector<std::thread> threads;
        threads.reserve(THREADS);
        std::mutex keys_mutex;
        for (int i = 0; i < THREADS; ++i) {
            threads.emplace_back([&] {
                auto creds = fixture.chain->get();
                std::lock_guard lock(keys_mutex);
                keys.push_back(creds ? creds->access_key_id : creds.err().message);
            });
        }
        for (auto& thread : threads) thread.join();
    };
    // Cold start: every caller waits for the single fetch.
    std::vector<std::string> cold;
    run_all(cold);
    EXPECT_EQ(fetches->load(), 1);
    EXPECT_EQ(cold, std::vector<std::string>(THREADS, "ASIA1"));
    EXPECT_EQ(fixture.http->requests().size(), 3U);

    // Advisory window (12 minutes left): one caller refreshes, the others keep the still-valid credentials.
    fixture.clock.set(48min);
    std::vector<std::string> warm;
    run_all(warm);
    EXPECT_EQ(fetches->load(), 2);
    for (const auto& key : warm) EXPECT_TRUE(key == "ASIA1" || key == "ASIA2") << key;
    EXPECT_EQ(fixture.chain->get()->access_key_id, "ASIA2");
}

TEST(aws_credentials, helpers) {
    struct time_case {
        std::string text;
        bool ok;
        int64_t epoch_seconds;
    };
    const std::vector<time_case> times = {
        {"2026-01-01T00:00:00Z", true, 1767225600},
        {"2016-02-25T06:03:31Z", true, 1456380211},
        {"2016-02-25T06:03:31.123Z", true, 1456380211},
        {"2016-02-25T08:03:31+02:00", true, 1456380211},
        {"2016-02-25T01:03:31-05:00", true, 1456380211},
        {"2000-02-29T00:00:00Z", true, 951782400},
        {"2016-02-25 06:03:31Z", true, 1456380211},
        {"2016-02-25T06:03:31", false, 0},
        {"2016-13-25T06:03:31Z", false, 0},
        {"garbage", false, 0},
        {"2016-02-25T06:03:31Zjunk", false, 0},
    };
    for (const auto& c : times) {
        SCOPED_TRACE(c.text);
        auto parsed = detail::parse_iso8601(c.text);
        ASSERT_EQ(parsed.has_value(), c.ok);
        if (parsed) {
            EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(parsed->time_since_epoch()).count(),
                      c.epoch_seconds);
        }
    }
    EXPECT_EQ(detail::form_encode("a b+c/d=e&f~g_h.i-j\xC3\xA9"), "a%20b%2Bc%2Fd%3De%26f~g_h.i-j%C3%A9");

    struct split_case {
        std::string command;
        std::vector<std::string> argv;
    };
    const std::vector<split_case> splits = {
        {"/bin/tool --flag value", {"/bin/tool", "--flag", "value"}},
        {"  tool   'a b'  \"c d\" e\\ f", {"tool", "a b", "c d", "e f"}},
        {"tool \"q\\\"uote\" '$HOME' a'b'c", {"tool", "q\"uote", "$HOME", "abc"}},
        {"tool ''", {"tool", ""}},
    };
    for (const auto& c : splits) {
        SCOPED_TRACE(c.command);
        auto argv = detail::split_command_line(c.command);
        ASSERT_TRUE(argv);
        EXPECT_EQ(*argv, c.argv);
    }
    EXPECT_FALSE(detail::split_command_line("tool 'open"));
    EXPECT_FALSE(detail::split_command_line("   "));

    auto slow = detail::run_process({"/bin/sh", "-c", "sleep 5"}, 200ms);
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.err().message, "'/bin/sh' timed out after 200 ms");
    // Closing stdout does not end the wait: the time limit still applies to the process itself.
    auto lingering = detail::run_process({"/bin/sh", "-c", "exec >&-; sleep 5"}, 200ms);
    ASSERT_FALSE(lingering);
    EXPECT_EQ(lingering.err().message, "'/bin/sh' timed out after 200 ms");
    auto failing = detail::run_process({"/bin/sh", "-c", "exit 7"}, 5000ms);
    ASSERT_FALSE(failing);
    EXPECT_EQ(failing.err().message, "'/bin/sh' exited with status 7");
    auto echo = detail::run_process({"/bin/echo", "hi there"}, 5000ms);
    ASSERT_TRUE(echo);
    EXPECT_EQ(*echo, "hi there\n");

    EXPECT_EQ(detail::redact("a SECRET b SECRET", {"SECRET", ""}), "a <redacted> b <redacted>");
}

}  // namespace
}  // namespace tarius::aws
