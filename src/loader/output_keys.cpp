#include "tarius/loader/output_keys.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "tarius/text.hpp"

namespace tarius::loader {
namespace {

constexpr std::string_view LONGEST_SUFFIX = ".reasons.jsonl";

// FNV-1a, 64 bits: enough to keep two long keys with the same head apart.
std::string hash_hex(const std::string& text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

// The source key as it appears in output keys under `prefix`: whole when everything fits, else shortened.
std::string key_part(const std::string& prefix, const std::string& source_key, const std::string& load_id) {
    const size_t fixed = prefix.size() + 1 + load_id.size() + LONGEST_SUFFIX.size();
    if (fixed + source_key.size() <= MAX_S3_KEY_BYTES) return source_key;
    const std::string tag = "~" + hash_hex(source_key);
    const size_t room = MAX_S3_KEY_BYTES > fixed + tag.size() ? MAX_S3_KEY_BYTES - fixed - tag.size() : 0;
    return std::string(utf8_prefix(source_key, room)) + tag;
}

}  // namespace

output_keys make_output_keys(const std::string& rejects_prefix, const std::string& reports_prefix,
                             const std::string& source_key, const std::string& load_id) {
    output_keys out;
    const std::string rejects_base = rejects_prefix + key_part(rejects_prefix, source_key, load_id) + "/" + load_id;
    out.rejects_csv = rejects_base + ".csv";
    out.rejects_reasons = rejects_base + ".reasons.jsonl";
    out.report = reports_prefix + key_part(reports_prefix, source_key, load_id) + "/" + load_id + ".json";
    return out;
}

std::string metadata_value(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '_' || c == '.' || c == '~' || c == '/';
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

}  // namespace tarius::loader
