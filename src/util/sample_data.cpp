#include <array>
#include <cstdio>
#include <string>
#include <string_view>

#include "tarius/sample.hpp"

namespace tarius::sample {
namespace {

// splitmix64: tiny, fast and good enough for test data.
class rng {
public:
    explicit rng(uint64_t seed) : state_(seed) {}
    uint64_t next() noexcept {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) noexcept { return next() % n; }

private:
    uint64_t state_;
};

constexpr std::array<std::string_view, 48> WORDS = {
    "Stainless", "Steel",    "Kitchen",  "Organizer", "Wireless",   "Charger",   "Premium",  "Cotton",
    "Bedding",   "Set",      "Kids",     "Toy",       "Outdoor",    "Garden",    "Hose",     "Compatible",
    "with",      "Pack",     "Storage",  "Container", "Blue",       "Red",       "Large",    "Small",
    "Heavy",     "Duty",     "Portable", "LED",       "Light",      "Office",    "Supplies", "Labels",
    "Decor",     "Bathroom", "Playroom", "Nursery",   "Commercial", "Recycling", "Bin",      "Gallon",
    "Foam",      "Darts",    "Refill",   "Bullet",    "Party",      "Favors",    "Handmade", "Vintage"};
constexpr std::array<std::string_view, 8> BRANDS = {"CreateAMural",  "Rubbermaid", "POKONBOY",  "Upick Deals",
                                                    "Amazon Basics", "Acme",       "Northwind", "Contoso"};
constexpr std::array<std::string_view, 6> CATEGORIES = {
    "Baby Products Nursery Decor Switch Plates", "Industrial & Scientific Janitorial Supplies",
    "Toys & Games Sports & Outdoor Play",        "Office Products Office & School Supplies",
    "Home & Kitchen Storage & Organization",     "Tools & Home Improvement Lighting"};
constexpr std::array<std::string_view, 4> UNICODE_BITS = {"Décor", "漢字テスト", "emoji 🚀", "Größe ½"};
constexpr char BASE36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// Row index → a unique 10-character ID: multiplying by a number coprime with 36^8 permutes [0, 36^8).
void append_id(std::string& out, uint64_t index) {
    constexpr uint64_t SPACE = 2821109907456ULL;  // 36^8
    uint64_t value = (index * 1000000007ULL) % SPACE;
    char digits[8];
    for (int pos = 7; pos >= 0; --pos) {
        digits[pos] = BASE36[value % 36];
        value /= 36;
    }
    out += "B0";
    out.append(digits, 8);
}

void append_words(std::string& out, rng& r, uint64_t min_words, uint64_t max_words) {
    const uint64_t count = min_words + r.below(max_words - min_words + 1);
    for (uint64_t word_idx = 0; word_idx < count; ++word_idx) {
        if (word_idx) out.push_back(' ');
        out += WORDS[r.below(WORDS.size())];
    }
}

void append_price(std::string& out, rng& r) {
    char buf[32];
    const uint64_t cents = 99 + r.below(200000);
    if (cents >= 100000) {
        std::snprintf(buf, sizeof buf, "\"$%llu,%03llu.%02llu \"", static_cast<unsigned long long>(cents / 100000),
                      static_cast<unsigned long long>((cents / 100) % 1000),
                      static_cast<unsigned long long>(cents % 100));
    } else {
        std::snprintf(buf, sizeof buf, "$%llu.%02llu ", static_cast<unsigned long long>(cents / 100),
                      static_cast<unsigned long long>(cents % 100));
    }
    out += buf;
}

enum class bad_kind : uint8_t { FIELD_COUNT, EMPTY_KEY, BAD_PRICE, INVALID_UTF8, COUNT_ };

}  // namespace

result<void> generate(const options& opts, byte_sink& out) {
    rng r(opts.seed);
    const std::string_view eol = opts.crlf ? "\r\n" : "\n";
    std::string buf;
    buf.reserve(1 << 20);
    buf += HEADER;
    buf += eol;
    uint64_t bad_count = 0;
    for (uint64_t row_idx = 0; row_idx < opts.rows; ++row_idx) {
        const bool bad = opts.bad_every && (row_idx + 1) % opts.bad_every == 0;
        const bool duplicate = !bad && row_idx > 0 && opts.duplicate_every && (row_idx + 1) % opts.duplicate_every == 0;
        const auto kind =
            bad ? static_cast<bad_kind>(bad_count++ % static_cast<uint64_t>(bad_kind::COUNT_)) : bad_kind::COUNT_;
        const uint64_t edge = opts.edge_cases ? r.below(8) : 99;

        if (kind != bad_kind::EMPTY_KEY) append_id(buf, duplicate ? row_idx - 1 : row_idx);
        buf.push_back(',');
        // Title: sometimes quoted, with commas, doubled quotes, a line break or non-ASCII text.
        switch (edge) {
            case 0:
                buf += "\"";
                append_words(buf, r, 3, 8);
                buf += ", ";
                append_words(buf, r, 2, 6);
                buf += "\"";
                break;
            case 1:
                buf += "\"";
                append_words(buf, r, 2, 5);
                buf += " \"\"Deluxe\"\" ";
                append_words(buf, r, 2, 5);
                buf += "\"";
                break;
            case 2:
                buf += "\"";
                append_words(buf, r, 2, 5);
                buf += eol;
                append_words(buf, r, 2, 5);
                buf += "\"";
                break;
            case 3:
                append_words(buf, r, 2, 6);
                buf.push_back(' ');
                buf += UNICODE_BITS[r.below(UNICODE_BITS.size())];
                break;
            default: append_words(buf, r, 8, 24);
        }
        if (kind == bad_kind::INVALID_UTF8) buf += " \xff\xfe";
        buf.push_back(',');
        const uint64_t stock = r.below(10);
        if (stock < 7) {
            buf += "In Stock";
        } else {
            buf += "Only ";
            buf += std::to_string(stock - 5);
            buf += " left in stock";
        }
        buf.push_back(',');
        if (edge != 4) buf += BRANDS[r.below(BRANDS.size())];  // edge 4: an empty cell
        buf.push_back(',');
        buf += CATEGORIES[r.below(CATEGORIES.size())];
        buf.push_back(',');
        if (kind == bad_kind::BAD_PRICE) {
            buf += "call for price";
        } else {
            append_price(buf, r);
        }
        if (kind != bad_kind::FIELD_COUNT) {
            buf += ",A";
            for (int char_idx = 0; char_idx < 13; ++char_idx) buf.push_back(BASE36[r.below(36)]);
        }
        buf.push_back(',');
        buf += BRANDS[r.below(BRANDS.size())];
        buf += " Store,https://www.amazon.com/dp/";
        append_id(buf, row_idx);
        buf += eol;
        if (buf.size() >= (1 << 20) - 4096) {
            TARIUS_TRY(out.write(buf));
            buf.clear();
        }
    }
    TARIUS_TRY(out.write(buf));
    return out.finish();
}

}  // namespace tarius::sample
