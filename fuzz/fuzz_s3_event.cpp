// S3 event parsing (every shape the worker and the function receive) must never crash on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tarius/loader/events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = tarius::loader::parse_s3_message(text);
    if (parsed) {
        for (const auto& obj : parsed->objects) {
            // Parsed objects always name a bucket and a key.
            if (obj.bucket.empty() || obj.key.empty()) __builtin_trap();
        }
    }
    (void)tarius::loader::decode_event_key(text);
    (void)tarius::loader::compare_sequencers(text.substr(0, size / 2), text.substr(size / 2));
    return 0;
}
