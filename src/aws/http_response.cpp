/// http_response helpers shared by every transport.

#include <cstddef>

#include "tarius/aws/http.hpp"

namespace tarius::aws {
namespace {

char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t idx = 0; idx < a.size(); ++idx) {
        if (ascii_lower(a[idx]) != ascii_lower(b[idx])) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string_view> http_response::header(std::string_view name) const {
    for (const http_header& h : headers) {
        if (iequals(h.name, name)) return std::string_view(h.value);
    }
    return std::nullopt;
}

}  // namespace tarius::aws
