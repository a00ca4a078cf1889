#include "aws/xml.hpp"

#include <cstdint>

namespace tarius::aws::detail {

const xml_element* xml_element::child(std::string_view child_name) const {
    for (const auto& element : children) {
        if (element.name == child_name) return &element;
    }
    return nullptr;
}

const xml_element* xml_element::find(std::initializer_list<std::string_view> path) const {
    const xml_element* current = this;
    for (auto step : path) {
        current = current->child(step);
        if (current == nullptr) return nullptr;
    }
    return current;
}

const xml_element* xml_element::descendant(std::string_view element_name) const {
    if (name == element_name) return this;
    for (const auto& element : children) {
        if (const auto* found = element.descendant(element_name)) return found;
    }
    return nullptr;
}

namespace {

constexpr int MAX_DEPTH = 64;

error xml_error(std::string_view what, size_t offset) {
    return make_error(errc::DECODE, "xml: " + std::string(what) + " at byte " + std::to_string(offset));
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

class xml_parser {
public:
    explicit xml_parser(std::string_view text) : text_(text) {}

    result<xml_element> parse_document() {
        TARIUS_TRY(skip_misc());
        if (pos_ >= text_.size() || text_[pos_] != '<') return xml_error("expected a root element", pos_);
        xml_element root;
        TARIUS_TRY(parse_element(root, 0));
        TARIUS_TRY(skip_misc());
        if (pos_ != text_.size()) return xml_error("content after the root element", pos_);
        return root;
    }

private:
    bool starts_with(std::string_view prefix) const { return text_.substr(pos_).starts_with(prefix); }

    // Skips whitespace, comments, processing instructions (the XML declaration) between top-level items.
    result<void> skip_misc() {
        while (true) {
            while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
            if (starts_with("<?")) {
                TARIUS_TRY(skip_past("?>"));
            } else if (starts_with("<!--")) {
                TARIUS_TRY(skip_past("-->"));
            } else if (starts_with("<!")) {
                return xml_error("DTDs and declarations are not accepted", pos_);
            } else {
                return ok();
            }
        }
    }

    result<void> skip_past(std::string_view terminator) {
        auto end = text_.find(terminator, pos_);
        if (end == std::string_view::npos) return xml_error("unterminated markup", pos_);
        pos_ = end + terminator.size();
        return ok();
    }

    result<std::string_view> parse_name() {
        size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        if (pos_ == start) return xml_error("expected a name", pos_);
        return text_.substr(start, pos_ - start);
    }

    static std::string local_name(std::string_view qualified) {
        auto colon = qualified.rfind(':');
        return std::string(colon == std::string_view::npos ? qualified : qualified.substr(colon + 1));
    }

    result<void> parse_element(xml_element& element, int depth) {
        if (depth >= MAX_DEPTH) return xml_error("nesting too deep", pos_);
        ++pos_;  // '<'
        TARIUS_ASSIGN_OR_RETURN(std::string_view qualified, parse_name());
        element.name = local_name(qualified);
        // Attributes are skipped; quoted values may contain '>' so they are stepped over explicitly.
        while (true) {
            while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
            if (pos_ >= text_.size()) return xml_error("unterminated start tag", pos_);
            char c = text_[pos_];
            if (c == '/') {
                if (!starts_with("/>")) return xml_error("expected '/>'", pos_);
                pos_ += 2;
                return ok();
            }
            if (c == '>') {
                ++pos_;
                break;
            }
            TARIUS_ASSIGN_OR_RETURN(std::string_view attribute, parse_name());
            (void)attribute;
            while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
            if (pos_ >= text_.size() || text_[pos_] != '=') return xml_error("expected '=' in attribute", pos_);
            ++pos_;
            while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
            if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
                return xml_error("expected a quoted attribute value", pos_);
            }
            char quote = text_[pos_++];
            auto end = text_.find(quote, pos_);
            if (end == std::string_view::npos) return xml_error("unterminated attribute value", pos_);
            pos_ = end + 1;
        }
        // Content.
        while (true) {
            if (pos_ >= text_.size()) return xml_error("unterminated element <" + element.name + ">", pos_);
            char c = text_[pos_];
            if (c == '&') {
                TARIUS_TRY(parse_reference(element.text));
            } else if (c != '<') {
                element.text.push_back(c);
                ++pos_;
            } else if (starts_with("</")) {
                pos_ += 2;
                TARIUS_ASSIGN_OR_RETURN(std::string_view closing, parse_name());
                if (local_name(closing) != element.name) return xml_error("mismatched end tag", pos_);
                while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
                if (pos_ >= text_.size() || text_[pos_] != '>') return xml_error("expected '>'", pos_);
                ++pos_;
                return ok();
            } else if (starts_with("<!--")) {
                TARIUS_TRY(skip_past("-->"));
            } else if (starts_with("<![CDATA[")) {
                pos_ += 9;
                auto end = text_.find("]]>", pos_);
                if (end == std::string_view::npos) return xml_error("unterminated CDATA", pos_);
                element.text.append(text_.substr(pos_, end - pos_));
                pos_ = end + 3;
            } else if (starts_with("<?")) {
                TARIUS_TRY(skip_past("?>"));
            } else if (starts_with("<!")) {
                return xml_error("DTDs and declarations are not accepted", pos_);
            } else {
                element.children.emplace_back();
                TARIUS_TRY(parse_element(element.children.back(), depth + 1));
            }
        }
    }

    result<void> parse_reference(std::string& out) {
        auto end = text_.find(';', pos_);
        if (end == std::string_view::npos || end - pos_ > 12) return xml_error("bad entity reference", pos_);
        std::string_view name = text_.substr(pos_ + 1, end - pos_ - 1);
        if (name == "lt") {
            out.push_back('<');
        } else if (name == "gt") {
            out.push_back('>');
        } else if (name == "amp") {
            out.push_back('&');
        } else if (name == "quot") {
            out.push_back('"');
        } else if (name == "apos") {
            out.push_back('\'');
        } else if (name.size() >= 2 && name[0] == '#') {
            bool hex = name[1] == 'x' || name[1] == 'X';
            std::string_view digits = name.substr(hex ? 2 : 1);
            if (digits.empty()) return xml_error("bad character reference", pos_);
            uint32_t cp = 0;
            for (char d : digits) {
                uint32_t v = 0;
                if (d >= '0' && d <= '9') {
                    v = static_cast<uint32_t>(d - '0');
                } else if (hex && d >= 'a' && d <= 'f') {
                    v = static_cast<uint32_t>(d - 'a' + 10);
                } else if (hex && d >= 'A' && d <= 'F') {
                    v = static_cast<uint32_t>(d - 'A' + 10);
                } else {
                    return xml_error("bad character reference", pos_);
                }
                cp = cp * (hex ? 16U : 10U) + v;
                if (cp > 0x10FFFF) return xml_error("character reference out of range", pos_);
            }
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return xml_error("invalid character reference", pos_);
            append_utf8(out, cp);
        } else {
            return xml_error("unknown entity", pos_);
        }
        pos_ = end + 1;
        return ok();
    }

    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

result<xml_element> parse_xml(std::string_view text) {
    return xml_parser(text).parse_document();
}

}  // namespace tarius::aws::detail
