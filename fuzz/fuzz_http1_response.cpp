// Fuzzes the socket transport's HTTP/1.x response parser (src/aws/http1_parser.cpp) with arbitrary server bytes:
// the first input byte picks how the rest is split into feeds (whole, byte by byte, or in chunks of 2..64), the
// second whether the request was a HEAD. Checks that the split never changes the outcome (the parser is
// incremental), that a finished answer used no more bytes than it was given, and that its body size adds up.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/http1_parser.hpp"

namespace {

void check(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz_http1_response: invariant broken: %s\n", what);
    std::abort();
}

struct outcome {
    bool failed = false;  // an error, from feed() or at EOF
    bool done = false;    // a complete answer before EOF
    size_t used = 0;      // bytes of the input the answer took
    long status = 0;
    std::string body;
    uint64_t body_bytes = 0;
    bool keep_alive = false;
};

outcome parse(std::string_view wire, size_t step, bool head) {
    tarius::aws::http_response response;
    tarius::aws::detail::http1_parser parser;
    parser.reset(&response, head);
    outcome out;
    size_t offset = 0;
    while (offset < wire.size() && !parser.done()) {
        const std::string_view piece = wire.substr(offset, step == 0 ? wire.size() : step);
        auto used = parser.feed(piece);
        if (!used) {
            out.failed = true;
            return out;
        }
        check(*used <= piece.size(), "feed() used more bytes than it was given");
        check(*used == piece.size() || parser.done(), "feed() left bytes before the answer ended");
        offset += *used;
        if (*used < piece.size()) break;
    }
    if (!parser.done()) {
        if (!parser.finish_at_eof()) {
            out.failed = true;
            return out;
        }
        check(parser.done(), "finish_at_eof() succeeded without a complete answer");
        out.used = wire.size();
    } else {
        out.done = true;
        out.used = offset;
        out.keep_alive = parser.keep_alive();
    }
    out.status = response.status;
    out.body = response.body;
    out.body_bytes = response.body_bytes;
    check(out.body_bytes == out.body.size(), "body_bytes differs from the body stored");
    check(out.status >= 100 && out.status <= 999, "a finished answer without a valid status");
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const size_t split = data[0] % 66;  // 0: whole, 1: byte by byte, 2..65: chunks
    const bool head = (data[1] & 1) != 0;
    const std::string_view wire(reinterpret_cast<const char*>(data + 2), size - 2);
    const outcome whole = parse(wire, 0, head);
    const outcome pieces = parse(wire, split, head);
    check(whole.failed == pieces.failed, "the split changed whether the answer parsed");
    if (whole.failed) return 0;
    check(whole.done == pieces.done, "the split changed whether the answer ended before EOF");
    check(whole.used == pieces.used, "the split changed where the answer ended");
    check(whole.status == pieces.status, "the split changed the status");
    check(whole.body == pieces.body, "the split changed the body");
    check(whole.keep_alive == pieces.keep_alive, "the split changed keep-alive");
    check(whole.used <= wire.size(), "the answer used more bytes than were received");
    if (head) check(whole.body.empty(), "a HEAD answer with a body");
    return 0;
}
