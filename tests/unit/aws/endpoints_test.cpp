// Endpoint resolution: configured endpoint URLs and their precedence, partitions, S3 addressing.

#include <gtest/gtest.h>

#include "tarius/aws/endpoints.hpp"

namespace tarius::aws {
namespace {

shared_config make_config(std::map<std::string, std::string, std::less<>> profile_values,
                          const std::map<std::string, std::string, std::less<>>& service_endpoints = {}) {
    shared_config config;
    auto& profile = config.profiles["default"];
    profile.name = "default";
    profile.values = std::move(profile_values);
    if (!service_endpoints.empty()) {
        auto& services = config.services["local"];
        services.name = "local";
        for (const auto& [service, url] : service_endpoints) services.sub_sections[service]["endpoint_url"] = url;
    }
    return config;
}

TEST(aws_endpoints, resolution_table) {
    using env_map = std::map<std::string, std::string, std::less<>>;
    const shared_config plain = make_config({});
    const shared_config global_profile = make_config({{"endpoint_url", "http://profile-global:1000"}});
    const shared_config services_profile =
        make_config({{"endpoint_url", "http://profile-global:1000"}, {"services", "local"}},
                    {{"dynamodb", "http://localhost:8000"}, {"s3", "https://minio.local:9000/base/"}});
    const shared_config ignore_profile =
        make_config({{"endpoint_url", "http://profile-global:1000"}, {"ignore_configured_endpoint_urls", "true"}});

    struct case_t {
        const char* label;
        std::string service;
        std::string region;
        env_map env;
        const shared_config* config;
        std::string url;
        std::string signing_region;
        std::string partition;
        bool custom;
    };
    const std::vector<case_t> cases = {
        {"default aws",
         "dynamodb",
         "eu-west-1",
         {},
         &plain,
         "https://dynamodb.eu-west-1.amazonaws.com",
         "eu-west-1",
         "aws",
         false},
        {"default s3", "s3", "us-east-1", {}, &plain, "https://s3.us-east-1.amazonaws.com", "us-east-1", "aws", false},
        {"china",
         "sqs",
         "cn-north-1",
         {},
         &plain,
         "https://sqs.cn-north-1.amazonaws.com.cn",
         "cn-north-1",
         "aws-cn",
         false},
        {"govcloud",
         "sns",
         "us-gov-west-1",
         {},
         &plain,
         "https://sns.us-gov-west-1.amazonaws.com",
         "us-gov-west-1",
         "aws-us-gov",
         false},
        {"sts regional",
         "sts",
         "ap-southeast-2",
         {},
         &plain,
         "https://sts.ap-southeast-2.amazonaws.com",
         "ap-southeast-2",
         "aws",
         false},
        {"lambda",
         "lambda",
         "eu-north-1",
         {},
         &plain,
         "https://lambda.eu-north-1.amazonaws.com",
         "eu-north-1",
         "aws",
         false},
        {"service env var",
         "dynamodb",
         "us-east-1",
         {{"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:4566"}, {"AWS_ENDPOINT_URL", "http://global:1"}},
         &services_profile,
         "http://localhost:4566",
         "us-east-1",
         "aws",
         true},
        {"other service's env var does not apply",
         "sqs",
         "us-east-1",
         {{"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:4566"}},
         &plain,
         "https://sqs.us-east-1.amazonaws.com",
         "us-east-1",
         "aws",
         false},
        {"global env var over config",
         "dynamodb",
         "us-east-1",
         {{"AWS_ENDPOINT_URL", "http://global:1"}},
         &services_profile,
         "http://global:1",
         "us-east-1",
         "aws",
         true},
        {"services section over profile endpoint_url",
         "dynamodb",
         "us-east-1",
         {},
         &services_profile,
         "http://localhost:8000",
         "us-east-1",
         "aws",
         true},
        {"services section with path, trailing slash dropped",
         "s3",
         "us-east-1",
         {},
         &services_profile,
         "https://minio.local:9000/base",
         "us-east-1",
         "aws",
         true},
        {"profile endpoint_url for services not in section",
         "sns",
         "eu-west-1",
         {},
         &services_profile,
         "http://profile-global:1000",
         "eu-west-1",
         "aws",
         true},
        {"profile endpoint_url",
         "sqs",
         "us-west-2",
         {},
         &global_profile,
         "http://profile-global:1000",
         "us-west-2",
         "aws",
         true},
        {"ignore env var",
         "dynamodb",
         "us-east-1",
         {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}, {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:4566"}},
         &services_profile,
         "https://dynamodb.us-east-1.amazonaws.com",
         "us-east-1",
         "aws",
         false},
        {"ignore env var, case-insensitive",
         "dynamodb",
         "us-east-1",
         {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}, {"AWS_ENDPOINT_URL", "http://localhost:4566"}},
         &plain,
         "https://dynamodb.us-east-1.amazonaws.com",
         "us-east-1",
         "aws",
         false},
        {"ignore in profile",
         "sqs",
         "us-east-1",
         {{"AWS_ENDPOINT_URL_SQS", "http://localhost:4566"}},
         &ignore_profile,
         "https://sqs.us-east-1.amazonaws.com",
         "us-east-1",
         "aws",
         false},
        {"env false overrides profile true",
         "sqs",
         "us-east-1",
         {{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}, {"AWS_ENDPOINT_URL_SQS", "http://localhost:4566"}},
         &ignore_profile,
         "http://localhost:4566",
         "us-east-1",
         "aws",
         true},
        {"custom endpoint keeps region's partition",
         "s3",
         "cn-north-1",
         {{"AWS_ENDPOINT_URL_S3", "http://[::1]:9000"}},
         &plain,
         "http://[::1]:9000",
         "cn-north-1",
         "aws-cn",
         true},
        {"default port dropped",
         "sns",
         "us-east-1",
         {{"AWS_ENDPOINT_URL_SNS", "https://sns.example:443"}},
         &plain,
         "https://sns.example",
         "us-east-1",
         "aws",
         true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto resolved = resolve_endpoint(c.service, c.region, map_environment(c.env), *c.config);
        ASSERT_TRUE(resolved) << resolved.err().message;
        EXPECT_EQ(resolved->url(), c.url);
        EXPECT_EQ(resolved->signing_region, c.signing_region);
        EXPECT_EQ(resolved->signing_name, c.service);
        EXPECT_EQ(resolved->partition, c.partition);
        EXPECT_EQ(resolved->custom, c.custom);
    }
}

TEST(aws_endpoints, parse_endpoint_url_table) {
    struct case_t {
        std::string url;
        bool ok;
        std::string scheme;
        std::string host;
        uint16_t port;
        std::string base_path;
        std::string host_header;
    };
    const std::vector<case_t> cases = {
        {"http://localhost:4566", true, "http", "localhost", 4566, "", "localhost:4566"},
        {"https://Example.COM", true, "https", "example.com", 443, "", "example.com"},
        {"HTTP://127.0.0.1/", true, "http", "127.0.0.1", 80, "", "127.0.0.1"},
        {"http://[fd00:ec2::23]:80/a/b//", true, "http", "fd00:ec2::23", 80, "/a/b", "[fd00:ec2::23]"},
        {"https://h:8443/p", true, "https", "h", 8443, "/p", "h:8443"},
        {"localhost:4566", false, "", "", 0, "", ""},
        {"ftp://host", false, "", "", 0, "", ""},
        {"http://", false, "", "", 0, "", ""},
        {"http://host:0", false, "", "", 0, "", ""},
        {"http://host:70000", false, "", "", 0, "", ""},
        {"http://host:12a", false, "", "", 0, "", ""},
        {"http://user@host", false, "", "", 0, "", ""},
        {"http://host/path?query=1", false, "", "", 0, "", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.url);
        auto parsed = parse_endpoint_url(c.url, "AWS_ENDPOINT_URL");
        ASSERT_EQ(parsed.has_value(), c.ok);
        if (!parsed) {
            EXPECT_EQ(parsed.err().code, errc::INVALID_ARGUMENT);
            EXPECT_TRUE(parsed.err().message.starts_with("AWS_ENDPOINT_URL: invalid endpoint URL '" + c.url + "'"))
                << parsed.err().message;
            continue;
        }
        EXPECT_EQ(parsed->scheme, c.scheme);
        EXPECT_EQ(parsed->host, c.host);
        EXPECT_EQ(parsed->port, c.port);
        EXPECT_EQ(parsed->base_path, c.base_path);
        EXPECT_EQ(parsed->host_header(), c.host_header);
    }
    // A bad configured URL surfaces with its origin.
    auto bad =
        resolve_endpoint("sqs", "us-east-1", map_environment({{"AWS_ENDPOINT_URL_SQS", "nope"}}), shared_config{});
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.err().message.starts_with("AWS_ENDPOINT_URL_SQS: invalid endpoint URL 'nope'"));
}

TEST(aws_endpoints, partitions) {
    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {"us-east-1", "aws", "amazonaws.com"},
        {"eu-central-2", "aws", "amazonaws.com"},
        {"cn-north-1", "aws-cn", "amazonaws.com.cn"},
        {"cn-northwest-1", "aws-cn", "amazonaws.com.cn"},
        {"us-gov-east-1", "aws-us-gov", "amazonaws.com"},
        {"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
    };
    for (const auto& [region, name, suffix] : cases) {
        SCOPED_TRACE(region);
        auto partition = partition_for_region(region);
        EXPECT_EQ(partition.name, name);
        EXPECT_EQ(partition.dns_suffix, suffix);
    }
}

TEST(aws_endpoints, s3_bucket_dns_compatibility) {
    const std::vector<std::tuple<std::string, bool, bool>> cases = {
        // bucket, compatible over TLS, compatible over plain http
        {"my-bucket", true, true},
        {"abc", true, true},
        {"ab", false, false},
        {std::string(63, 'a'), true, true},
        {std::string(64, 'a'), false, false},
        {"my.bucket", false, true},
        {"My-Bucket", false, false},
        {"-bucket", false, false},
        {"bucket-", false, false},
        {"my..bucket", false, false},
        {"my.-bucket", false, false},
        {"my-.bucket", false, false},
        {"192.168.5.4", false, false},
        {"under_score", false, false},
    };
    for (const auto& [bucket, tls, plain] : cases) {
        SCOPED_TRACE(bucket);
        EXPECT_EQ(s3_bucket_is_dns_compatible(bucket, true), tls);
        EXPECT_EQ(s3_bucket_is_dns_compatible(bucket, false), plain);
    }
}

TEST(aws_endpoints, s3_request_targets) {
    auto aws = resolve_endpoint("s3", "eu-west-1", map_environment({}), shared_config{});
    auto china = resolve_endpoint("s3", "cn-north-1", map_environment({}), shared_config{});
    auto custom = resolve_endpoint(
        "s3", "us-east-1", map_environment({{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"}}), shared_config{});
    auto custom_path = resolve_endpoint(
        "s3", "us-east-1", map_environment({{"AWS_ENDPOINT_URL_S3", "https://proxy.example/s3/"}}), shared_config{});
    ASSERT_TRUE(aws && china && custom && custom_path);

    struct case_t {
        const char* label;
        const endpoint* ep;
        std::string bucket;
        std::string key;
        s3_addressing addressing;
        std::string url;
        std::string host_header;
        std::string path;
        bool virtual_hosted;
    };
    const std::vector<case_t> cases = {
        {"virtual on aws", &*aws, "my-bucket", "dir/a%20b.csv", s3_addressing::AUTO,
         "https://my-bucket.s3.eu-west-1.amazonaws.com/dir/a%20b.csv", "my-bucket.s3.eu-west-1.amazonaws.com",
         "/dir/a%20b.csv", true},
        {"dots force path style under TLS", &*aws, "my.bucket", "k", s3_addressing::AUTO,
         "https://s3.eu-west-1.amazonaws.com/my.bucket/k", "s3.eu-west-1.amazonaws.com", "/my.bucket/k", false},
        {"forced path style", &*aws, "my-bucket", "k", s3_addressing::PATH,
         "https://s3.eu-west-1.amazonaws.com/my-bucket/k", "s3.eu-west-1.amazonaws.com", "/my-bucket/k", false},
        {"china virtual", &*china, "data", "x", s3_addressing::AUTO, "https://data.s3.cn-north-1.amazonaws.com.cn/x",
         "data.s3.cn-north-1.amazonaws.com.cn", "/x", true},
        {"custom endpoint path style", &*custom, "my-bucket", "k/v", s3_addressing::AUTO,
         "http://127.0.0.1:9000/my-bucket/k/v", "127.0.0.1:9000", "/my-bucket/k/v", false},
        {"custom endpoint with base path", &*custom_path, "b1b", "k", s3_addressing::AUTO,
         "https://proxy.example/s3/b1b/k", "proxy.example", "/s3/b1b/k", false},
        {"custom endpoint forced virtual", &*custom_path, "b1b", "k", s3_addressing::VIRTUAL,
         "https://b1b.proxy.example/s3/k", "b1b.proxy.example", "/s3/k", true},
        {"empty key", &*aws, "my-bucket", "", s3_addressing::AUTO, "https://my-bucket.s3.eu-west-1.amazonaws.com/",
         "my-bucket.s3.eu-west-1.amazonaws.com", "/", true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto target = s3_request_target(*c.ep, c.bucket, c.key, c.addressing);
        ASSERT_TRUE(target) << target.err().message;
        EXPECT_EQ(target->url, c.url);
        EXPECT_EQ(target->host_header, c.host_header);
        EXPECT_EQ(target->path, c.path);
        EXPECT_EQ(target->virtual_hosted, c.virtual_hosted);
    }
    auto refused = s3_request_target(*aws, "my.bucket", "k", s3_addressing::VIRTUAL);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.err().code, errc::INVALID_ARGUMENT);
}

TEST(aws_endpoints, s3_addressing_from_profile) {
    const std::vector<std::pair<std::string, s3_addressing>> cases = {
        {"path", s3_addressing::PATH},  {"Virtual", s3_addressing::VIRTUAL}, {"auto", s3_addressing::AUTO},
        {"bogus", s3_addressing::AUTO}, {"", s3_addressing::AUTO},
    };
    for (const auto& [style, expected] : cases) {
        SCOPED_TRACE(style);
        shared_config config;
        if (!style.empty()) config.profiles["default"].sub_sections["s3"]["addressing_style"] = style;
        EXPECT_EQ(resolve_s3_addressing(config), expected);
    }
    EXPECT_EQ(resolve_s3_addressing(shared_config{}), s3_addressing::AUTO);
}

}  // namespace
}  // namespace tarius::aws
