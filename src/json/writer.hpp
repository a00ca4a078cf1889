#pragma once
// JSON text output: string escaping for the hot path, and a small writer for reports and logs.

#include <cstdint>
#include <string>
#include <string_view>

namespace tarius::json {

/// Appends `text` (valid UTF-8) to `out` as the body of a JSON string, without the quotes:
/// `"` and `\` escaped, control characters as \n \r \t \b \f or \u00XX, everything else copied.
void append_escaped(std::string& out, std::string_view text);

/// Appends `text` as a quoted JSON string.
inline void append_string(std::string& out, std::string_view text) {
    out.push_back('"');
    append_escaped(out, text);
    out.push_back('"');
}

/// Builds one JSON value in a string with commas placed automatically. Nesting is the caller's to balance.
class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    writer& begin_object() { return open('{'); }
    writer& end_object() { return close('}'); }
    writer& begin_array() { return open('['); }
    writer& end_array() { return close(']'); }
    /// Writes an object key; the next call writes its value.
    writer& key(std::string_view name);
    writer& value(std::string_view text);
    writer& value(const char* text) { return value(std::string_view(text)); }
    writer& value(const std::string& text) { return value(std::string_view(text)); }
    writer& value(bool flag);
    writer& value(int64_t number);
    writer& value(uint64_t number);
    writer& value(int number) { return value(static_cast<int64_t>(number)); }
    writer& value(double number);
    writer& null();
    /// Writes already-serialised JSON as the next value.
    writer& raw(std::string_view json_text);

private:
    writer& open(char bracket);
    writer& close(char bracket);
    void separate();

    std::string& out_;
    bool need_comma_ = false;
    bool after_key_ = false;
};

}  // namespace tarius::json
