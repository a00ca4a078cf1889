#include "tarius/result.hpp"

namespace tarius {

const char* errc_name(errc code) noexcept {
    switch (code) {
        case errc::INVALID_ARGUMENT: return "invalid_argument";
        case errc::IO: return "io";
        case errc::CSV_FILE: return "csv_file";
        case errc::LIMIT: return "limit";
        case errc::DECODE: return "decode";
        case errc::NETWORK: return "network";
        case errc::SERVICE: return "service";
        case errc::AUTH: return "auth";
        case errc::NOT_FOUND: return "not_found";
        case errc::CONFLICT: return "conflict";
        case errc::CANCELLED: return "cancelled";
        case errc::INTERNAL: return "internal";
    }
    return "internal";
}

}  // namespace tarius
