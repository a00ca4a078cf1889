/// http_response helpers shared by every transport.

#include <cstddef>

#include "tarius/aws/http.hpp"
#include "tarius/text.hpp"

namespace tarius::aws {

std::optional<std::string_view> http_response::header(std::string_view name) const {
    for (const http_header& h : headers) {
        if (equals_ignoring_case(h.name, name)) return std::string_view(h.value);
    }
    return std::nullopt;
}

}  // namespace tarius::aws
