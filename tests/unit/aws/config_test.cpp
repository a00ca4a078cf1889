// Shared config/credentials files, the environment and the region, resolved like the SDKs.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tarius/aws/config.hpp"

namespace tarius::aws {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the build tree, removed at the end of the test.
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

    std::string write(const std::string& name, const std::string& text) const {
        auto file = path_ / name;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file.string();
    }
    [[nodiscard]] std::string path() const { return path_.string(); }

private:
    fs::path path_;
};

TEST(aws_config, parse_config_file_table) {
    const std::string text =
        "# a comment\n"
        "; another comment\n"
        "[default]\n"
        "region = us-west-2   # inline comment\n"
        "output=json\n"
        "\n"
        "[profile  dev ]\n"
        "Region = eu-west-1\n"
        "  \t\n"
        "s3 =\n"
        "  addressing_style = path\n"
        "  max_concurrent_requests = 20 ; trailing\n"
        "role_arn = arn:aws:iam::123456789012:role/x#y\n"
        "services = local\n"
        "\n"
        "[services local]\n"
        "dynamodb =\n"
        "    endpoint_url = http://localhost:8000\n"
        "s3 =\n"
        "    endpoint_url = http://localhost:9000/base\n"
        "\n"
        "[sso-session corp]\n"
        "sso_region = us-east-1\n"
        "[unknownsection]\n"
        "key = ignored\n"
        "[profile multi]\n"
        "note = first\n"
        "  second line\n";
    auto parsed = parse_config_file(text, config_file_kind::CONFIG, "cfg");
    ASSERT_TRUE(parsed) << parsed.err().message;
    const auto& profiles = parsed->profiles;
    ASSERT_EQ(profiles.size(), 3U);

    struct value_case {
        const char* profile;
        const char* key;
        std::optional<std::string> value;
    };
    const std::vector<value_case> values = {
        {"default", "region", "us-west-2"},
        {"default", "output", "json"},
        {"dev", "region", "eu-west-1"},                             // keys are case-insensitive
        {"dev", "role_arn", "arn:aws:iam::123456789012:role/x#y"},  // '#' not after whitespace is kept
        {"dev", "services", "local"},
        {"dev", "s3", std::nullopt},  // an empty-valued key opens a sub-section
        {"dev", "missing", std::nullopt},
        {"multi", "note", "first\nsecond line"},
    };
    for (const auto& c : values) {
        SCOPED_TRACE(std::string(c.profile) + "." + c.key);
        auto section = profiles.find(c.profile);
        ASSERT_NE(section, profiles.end());
        EXPECT_EQ(section->second.get(c.key), c.value);
    }
    const auto& dev = profiles.at("dev");
    EXPECT_EQ(dev.get("s3", "addressing_style"), "path");
    EXPECT_EQ(dev.get("s3", "max_concurrent_requests"), "20");
    ASSERT_EQ(parsed->services.count("local"), 1U);
    EXPECT_EQ(parsed->services.at("local").get("dynamodb", "endpoint_url"), "http://localhost:8000");
    EXPECT_EQ(parsed->services.at("local").get("s3", "endpoint_url"), "http://localhost:9000/base");
    EXPECT_EQ(profiles.count("corp"), 0U);  // sso-session sections are not profiles
    EXPECT_EQ(profiles.count("unknownsection"), 0U);
}

TEST(aws_config, profile_default_prefix_wins) {
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"prefixed after bare", "[default]\nregion = a\n[profile default]\nregion = b\n"},
        {"prefixed before bare", "[profile default]\nregion = b\n[default]\nregion = a\n"},
    };
    for (const auto& [label, text] : cases) {
        SCOPED_TRACE(label);
        auto parsed = parse_config_file(text, config_file_kind::CONFIG, "cfg");
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->profiles.at("default").get("region"), "b");
    }
    // In the credentials file, section names are profile names as written.
    auto creds = parse_config_file("[dev]\naws_access_key_id = A\n[default]\naws_access_key_id = B\n",
                                   config_file_kind::CREDENTIALS, "creds");
    ASSERT_TRUE(creds);
    EXPECT_EQ(creds->profiles.at("dev").get("aws_access_key_id"), "A");
    EXPECT_EQ(creds->profiles.at("default").get("aws_access_key_id"), "B");
    // `[dev]` in the config file is not a profile (it needs the `profile` prefix).
    auto config = parse_config_file("[dev]\nregion = x\n", config_file_kind::CONFIG, "cfg");
    ASSERT_TRUE(config);
    EXPECT_EQ(config->profiles.count("dev"), 0U);
}

TEST(aws_config, parse_errors_name_file_and_line) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"key = outside\n", "cfg:1: setting outside of any section"},
        {"[default]\njust words\n", "cfg:2: expected 'key = value'"},
        {"[default\n", "cfg:1: section header without ']'"},
        {"[default]\n= value\n", "cfg:2: expected 'key = value'"},
        {"[default]\ns3 =\n  no equals here\n", "cfg:3: expected 'key = value' in a sub-section"},
    };
    for (const auto& [text, message] : cases) {
        SCOPED_TRACE(text);
        auto parsed = parse_config_file(text, config_file_kind::CONFIG, "cfg");
        ASSERT_FALSE(parsed);
        EXPECT_EQ(parsed.err().code, errc::INVALID_ARGUMENT);
        EXPECT_EQ(parsed.err().message, message);
    }
}

TEST(aws_config, load_merges_files_credentials_win) {
    temp_dir dir("load");
    dir.write(".aws/config",
              "[default]\nregion = us-east-2\naws_access_key_id = FROM_CONFIG\n"
              "[profile dev]\nregion = eu-central-1\n");
    dir.write(".aws/credentials",
              "[default]\naws_access_key_id = FROM_CREDENTIALS\n[dev]\naws_secret_access_key = S\n");
    auto custom_config = dir.write("custom/config", "[profile other]\nregion = ap-south-1\n");

    struct case_t {
        const char* label;
        std::map<std::string, std::string, std::less<>> env;
        std::string profile_override;
        std::string profile;
        std::optional<std::string> key;
        std::optional<std::string> region;
    };
    const std::vector<case_t> cases = {
        {"default profile from HOME", {{"HOME", dir.path()}}, "", "default", "FROM_CREDENTIALS", "us-east-2"},
        {"AWS_PROFILE", {{"HOME", dir.path()}, {"AWS_PROFILE", "dev"}}, "", "dev", std::nullopt, "eu-central-1"},
        {"override beats AWS_PROFILE",
         {{"HOME", dir.path()}, {"AWS_PROFILE", "dev"}},
         "default",
         "default",
         "FROM_CREDENTIALS",
         "us-east-2"},
        {"AWS_CONFIG_FILE",
         {{"HOME", dir.path()}, {"AWS_CONFIG_FILE", custom_config}, {"AWS_PROFILE", "other"}},
         "",
         "other",
         std::nullopt,
         "ap-south-1"},
        {"missing files are empty", {{"HOME", dir.path() + "/nowhere"}}, "", "default", std::nullopt, std::nullopt},
        {"AWS_SHARED_CREDENTIALS_FILE elsewhere",
         {{"HOME", dir.path()}, {"AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/none"}},
         "",
         "default",
         "FROM_CONFIG",
         "us-east-2"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto config = load_shared_config(map_environment(c.env), c.profile_override);
        ASSERT_TRUE(config) << config.err().message;
        EXPECT_EQ(config->profile_name, c.profile);
        EXPECT_EQ(config->get("aws_access_key_id"), c.key);
        EXPECT_EQ(config->get("region"), c.region);
    }
    auto dev = load_shared_config(map_environment({{"HOME", dir.path()}, {"AWS_PROFILE", "dev"}}));
    ASSERT_TRUE(dev);
    EXPECT_EQ(dev->get("aws_secret_access_key"), "S");
    EXPECT_EQ(dev->config_path, dir.path() + "/.aws/config");
    EXPECT_EQ(dev->credentials_path, dir.path() + "/.aws/credentials");
}

TEST(aws_config, malformed_file_is_an_error) {
    temp_dir dir("malformed");
    auto path = dir.write("config", "[default]\nthis is not a setting\n");
    auto config = load_shared_config(map_environment({{"AWS_CONFIG_FILE", path}, {"HOME", dir.path()}}));
    ASSERT_FALSE(config);
    EXPECT_EQ(config.err().code, errc::INVALID_ARGUMENT);
    EXPECT_EQ(config.err().message, path + ":2: expected 'key = value'");
}

TEST(aws_config, region_order) {
    shared_config with_region;
    with_region.profiles["default"].values["region"] = "profile-region";
    shared_config without_region;
    without_region.config_path = "/home/u/.aws/config";
    struct case_t {
        const char* label;
        std::map<std::string, std::string, std::less<>> env;
        const shared_config* config;
        std::optional<std::string> region;
    };
    const std::vector<case_t> cases = {
        {"AWS_REGION first", {{"AWS_REGION", "env-1"}, {"AWS_DEFAULT_REGION", "env-2"}}, &with_region, "env-1"},
        {"AWS_DEFAULT_REGION second", {{"AWS_DEFAULT_REGION", "env-2"}}, &with_region, "env-2"},
        {"empty AWS_REGION ignored", {{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "env-2"}}, &with_region, "env-2"},
        {"profile last", {}, &with_region, "profile-region"},
        {"none", {}, &without_region, std::nullopt},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.label);
        auto region = resolve_region(map_environment(c.env), *c.config);
        ASSERT_EQ(region.has_value(), c.region.has_value());
        if (region) {
            EXPECT_EQ(*region, *c.region);
        } else {
            EXPECT_EQ(region.err().code, errc::INVALID_ARGUMENT);
            EXPECT_EQ(region.err().message,
                      "no AWS region configured: set AWS_REGION, AWS_DEFAULT_REGION or `region` in profile 'default' "
                      "of /home/u/.aws/config");
        }
    }
}

TEST(aws_config, environment_helpers) {
    auto env = map_environment({{"SET", "value"}, {"EMPTY", ""}});
    EXPECT_EQ(env("SET"), "value");
    EXPECT_EQ(env("EMPTY"), "");
    EXPECT_EQ(env("UNSET"), std::nullopt);
    EXPECT_EQ(env_value(env, "EMPTY"), std::nullopt);
    EXPECT_EQ(env_value(env, "SET"), "value");
    EXPECT_EQ(env_value(env_lookup{}, "SET"), std::nullopt);
    EXPECT_EQ(process_environment()("TARIUS_SURELY_UNSET_VARIABLE_42"), std::nullopt);
}

}  // namespace
}  // namespace tarius::aws
