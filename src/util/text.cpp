#include "tarius/text.hpp"

namespace tarius {

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) noexcept {
    if (text.size() <= max_bytes) return text;
    size_t cut = max_bytes;
    // Back off continuation bytes (10xxxxxx): the cut then falls before the lead byte of the character it split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut);
}

}  // namespace tarius
