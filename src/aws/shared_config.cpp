#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tarius/aws/config.hpp"

namespace tarius::aws {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// A value ends at a '#' or ';' that follows whitespace: "us-east-1  # prod" is "us-east-1".
std::string_view strip_inline_comment(std::string_view value) {
    for (size_t i = 1; i < value.size(); ++i) {
        if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
            return trim(value.substr(0, i));
        }
    }
    return value;
}

bool is_indented(std::string_view line) {
    return !line.empty() && (line.front() == ' ' || line.front() == '\t');
}

// Where settings go while the parser walks the file.
struct section_target {
    config_section* section = nullptr;  // null: inside a section that is ignored
    std::string last_key;               // the key that indented lines belong to
    bool last_key_nested = false;       // last_key had an empty value: indented lines are sub-settings
};

}  // namespace

std::optional<std::string> config_section::get(std::string_view key) const {
    auto found = values.find(key);
    if (found == values.end() || found->second.empty()) return std::nullopt;
    return found->second;
}

std::optional<std::string> config_section::get(std::string_view key, std::string_view sub_key) const {
    auto found = sub_sections.find(key);
    if (found == sub_sections.end()) return std::nullopt;
    auto value = found->second.find(sub_key);
    if (value == found->second.end() || value->second.empty()) return std::nullopt;
    return value->second;
}

result<parsed_config_file> parse_config_file(std::string_view text, config_file_kind kind, std::string_view origin) {
    parsed_config_file out;
    // `[profile default]` beats `[default]` whatever the order, so the two are collected apart.
    config_section bare_default;
    bool have_bare_default = false;
    bool have_prefixed_default = false;
    section_target target;
    bool in_any_section = false;
    size_t line_number = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view raw = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_number;
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') {
            if (end == text.size()) break;
            continue;
        }
        auto fail = [&](std::string_view why) {
            return make_error(errc::INVALID_ARGUMENT,
                              std::string(origin) + ":" + std::to_string(line_number) + ": " + std::string(why));
        };
        if (line.front() == '[') {
            auto close = line.find(']');
            if (close == std::string_view::npos) return fail("section header without ']'");
            std::string_view rest = trim(line.substr(close + 1));
            if (!rest.empty() && rest.front() != '#' && rest.front() != ';') return fail("text after section header");
            std::string_view name = trim(line.substr(1, close - 1));
            in_any_section = true;
            target = section_target{};
            if (kind == config_file_kind::CREDENTIALS) {
                if (name.empty()) continue;
                auto& section = out.profiles[std::string(name)];
                section.name = std::string(name);
                target.section = &section;
                continue;
            }
            if (name == "default") {
                have_bare_default = true;
                bare_default.name = "default";
                target.section = &bare_default;
                continue;
            }
            auto space = name.find_first_of(" \t");
            if (space == std::string_view::npos) continue;  // unknown section kind: ignored like the SDKs do
            std::string_view prefix = name.substr(0, space);
            std::string_view section_name = trim(name.substr(space));
            if (section_name.empty() || section_name.find_first_of(" \t") != std::string_view::npos) continue;
            if (prefix == "profile") {
                if (section_name == "default" && !have_prefixed_default) {
                    have_prefixed_default = true;
                    out.profiles.erase("default");
                }
                auto& section = out.profiles[std::string(section_name)];
                section.name = std::string(section_name);
                target.section = &section;
            } else if (prefix == "services") {
                auto& section = out.services[std::string(section_name)];
                section.name = std::string(section_name);
                target.section = &section;
            }
            continue;
        }
        if (!in_any_section) return fail("setting outside of any section");
        auto equals = line.find('=');
        if (is_indented(raw) && !target.last_key.empty()) {
            if (target.section == nullptr) continue;
            if (target.last_key_nested) {
                if (equals == std::string_view::npos) return fail("expected 'key = value' in a sub-section");
                std::string sub_key = lower(trim(line.substr(0, equals)));
                std::string_view sub_value = strip_inline_comment(trim(line.substr(equals + 1)));
                target.section->sub_sections[target.last_key][sub_key] = std::string(sub_value);
            } else {
                // A continuation line of a multi-line value.
                auto& value = target.section->values[target.last_key];
                value += "\n";
                value += strip_inline_comment(line);
            }
            continue;
        }
        if (equals == std::string_view::npos || equals == 0) return fail("expected 'key = value'");
        std::string key = lower(trim(line.substr(0, equals)));
        if (key.empty()) return fail("empty key");
        std::string_view value = strip_inline_comment(trim(line.substr(equals + 1)));
        target.last_key = key;
        target.last_key_nested = value.empty();
        if (target.section == nullptr) continue;
        if (value.empty()) {
            target.section->sub_sections[key];  // an empty-valued key opens a sub-section
        }
        target.section->values[key] = std::string(value);
        if (end == text.size()) break;
    }
    if (kind == config_file_kind::CONFIG && have_bare_default && !have_prefixed_default) {
        out.profiles["default"] = std::move(bare_default);
    }
    return out;
}

env_lookup process_environment() {
    return [](std::string_view name) -> std::optional<std::string> {
        std::string key(name);
        const char* value = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe): read-only use
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

env_lookup map_environment(std::map<std::string, std::string, std::less<>> vars) {
    auto shared = std::make_shared<const std::map<std::string, std::string, std::less<>>>(std::move(vars));
    return [shared](std::string_view name) -> std::optional<std::string> {
        auto found = shared->find(name);
        if (found == shared->end()) return std::nullopt;
        return found->second;
    };
}

std::optional<std::string> env_value(const env_lookup& env, std::string_view name) {
    if (!env) return std::nullopt;
    auto value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
}

const config_section* shared_config::profile() const {
    auto found = profiles.find(profile_name);
    return found == profiles.end() ? nullptr : &found->second;
}

std::optional<std::string> shared_config::get(std::string_view key) const {
    const config_section* section = profile();
    if (section == nullptr) return std::nullopt;
    return section->get(key);
}

namespace {

std::string expand_home(const env_lookup& env, std::string path) {
    if (path == "~" || path.starts_with("~/")) {
        std::string home = env_value(env, "HOME").value_or("");
        path = home + path.substr(1);
    }
    return path;
}

// Reads a whole file; nullopt when it does not exist (a missing shared file is simply empty).
result<std::optional<std::string>> read_optional_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int saved = errno;
        if (saved == ENOENT || saved == ENOTDIR) return std::optional<std::string>();
        return make_error(errc::IO, path + ": cannot open: " + std::strerror(saved));
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) return make_error(errc::IO, path + ": read error");
    return std::optional<std::string>(buffer.str());
}

}  // namespace

result<shared_config> load_shared_config(const env_lookup& env, std::string_view profile_override) {
    shared_config config;
    if (!profile_override.empty()) {
        config.profile_name = std::string(profile_override);
    } else if (auto profile = env_value(env, "AWS_PROFILE")) {
        config.profile_name = *profile;
    }
    config.config_path = expand_home(env, env_value(env, "AWS_CONFIG_FILE").value_or("~/.aws/config"));
    config.credentials_path =
        expand_home(env, env_value(env, "AWS_SHARED_CREDENTIALS_FILE").value_or("~/.aws/credentials"));

    TARIUS_ASSIGN_OR_RETURN(auto config_text, read_optional_file(config.config_path));
    if (config_text) {
        TARIUS_ASSIGN_OR_RETURN(auto parsed,
                                parse_config_file(*config_text, config_file_kind::CONFIG, config.config_path));
        config.profiles = std::move(parsed.profiles);
        config.services = std::move(parsed.services);
    }
    TARIUS_ASSIGN_OR_RETURN(auto credentials_text, read_optional_file(config.credentials_path));
    if (credentials_text) {
        TARIUS_ASSIGN_OR_RETURN(
            auto parsed, parse_config_file(*credentials_text, config_file_kind::CREDENTIALS, config.credentials_path));
        // The credentials file wins key by key over the config file.
        for (auto& [name, section] : parsed.profiles) {
            auto& merged = config.profiles[name];
            merged.name = name;
            for (auto& [key, value] : section.values) merged.values[key] = value;
            for (auto& [key, sub] : section.sub_sections) {
                for (auto& [sub_key, value] : sub) merged.sub_sections[key][sub_key] = value;
            }
        }
    }
    return config;
}

result<std::string> resolve_region(const env_lookup& env, const shared_config& config) {
    if (auto region = env_value(env, "AWS_REGION")) return *region;
    if (auto region = env_value(env, "AWS_DEFAULT_REGION")) return *region;
    if (auto region = config.get("region")) return *region;
    return make_error(errc::INVALID_ARGUMENT,
                      "no AWS region configured: set AWS_REGION, AWS_DEFAULT_REGION or "
                      "`region` in profile '" +
                          config.profile_name + "' of " + config.config_path);
}

}  // namespace tarius::aws
