// ddb_number: the mapping layer's DynamoDB rules as a filter, for the dynalite differential test.
//   ddb_number               one number per stdin line → its canonical form, or "ERR <message>"
//   ddb_number --item-size   one DynamoDB-JSON item per line → its size by DynamoDB's rules, or "ERR <message>"
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "mapping/item_size.hpp"
#include "mapping/number.hpp"

int main(int argc, char** argv) {
    const bool item_size = argc > 1 && std::strcmp(argv[1], "--item-size") == 0;
    if (argc > 1 && !item_size) {
        std::fprintf(stderr, "usage: ddb_number [--item-size] < lines\n");
        return 2;
    }
    std::string line;
    std::string out;
    std::string message;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.clear();
        if (item_size) {
            auto size = tarius::mapping::detail::dynamodb_item_size(line);
            if (size) {
                out = std::to_string(*size);
            } else {
                out = "ERR " + size.err().message;
            }
        } else if (tarius::mapping::detail::append_canonical_number(line, out, message) == 0) {
            out = "ERR " + message;
        }
        out.push_back('\n');
        std::fwrite(out.data(), 1, out.size(), stdout);
    }
    return 0;
}
