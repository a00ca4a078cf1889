#include "loader/snapshot/digest_diff.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace tarius::loader::snapshot {

void line_set::insert(uint64_t line) {
    const uint64_t word = line >> 6;
    if (word >= bits_.size()) bits_.resize(word + 1);  // geometric growth of the capacity
    const uint64_t bit = uint64_t{1} << (line & 63);
    if ((bits_[word] & bit) == 0) {
        bits_[word] |= bit;
        ++size_;
    }
}

void line_set::reserve(uint64_t lines) {
    const uint64_t words = (lines + 63) >> 6;
    if (words > bits_.size()) bits_.resize(words);
}

namespace {

constexpr size_t DELETES_BUFFER = size_t{256} * 1024;

/// One base digest and its current entry.
struct cursor {
    digest_reader* reader = nullptr;  ///< null: the base is absent
    digest_entry entry;
    bool has = false;  ///< `entry` is valid (the reader is not at its end)
    bool hit = false;  ///< scratch: holds the key being decided

    result<void> advance() {
        TARIUS_ASSIGN_OR_RETURN(has, reader->next(entry));
        return ok();
    }
};

struct file_closer {
    void operator()(std::FILE* f) const noexcept {
        if (f != nullptr) std::fclose(f);
    }
};

class differ {
public:
    differ(std::vector<digest_reader*>& bases, digest_writer& next, line_set& to_write, diff_options options)
        : next_(next), to_write_(to_write), options_(options) {
        cursors_.resize(bases.size());
        for (size_t base_idx = 0; base_idx < bases.size(); ++base_idx) cursors_[base_idx].reader = bases[base_idx];
        if (!bases.empty() && bases[0] != nullptr) counts_.base_rows = bases[0]->header().rows;
    }

    result<void> open(const std::string& deletes_path) {
        deletes_path_ = deletes_path;
        deletes_.reset(std::fopen(deletes_path.c_str(), "wb"));
        if (!deletes_) return io_error("cannot create");
        deletes_buf_ = std::make_unique<char[]>(DELETES_BUFFER);
        std::setvbuf(deletes_.get(), deletes_buf_.get(), _IOFBF, DELETES_BUFFER);
        for (cursor& c : cursors_) {
            if (c.reader != nullptr) TARIUS_TRY(c.advance());
        }
        return ok();
    }

    /// Takes the next record in sorted order.
    result<void> take(const record& r) {
        if (group_rows_ > 0 && r.key_hash == group_.key_hash && r.key_json == group_.key_json) {
            ++group_rows_;  // a later row of the same key (records of a key come by increasing line)
            last_hash_ = r.hash;
            last_line_ = r.line;
            return ok();
        }
        if (group_rows_ > 0) TARIUS_TRY(decide());
        group_.key_hash = r.key_hash;
        group_.key_json.assign(r.key_json);
        group_rows_ = 1;
        last_hash_ = r.hash;
        last_line_ = r.line;
        return ok();
    }

    /// Ends the file: decides the last key, deletes what remains of the bases.
    result<diff_counts> finish() {
        if (group_rows_ > 0) TARIUS_TRY(decide());
        TARIUS_TRY(delete_before(nullptr));
        std::FILE* f = deletes_.release();
        if (std::fflush(f) != 0 || std::ferror(f) != 0) {
            std::fclose(f);
            return io_error("cannot write");
        }
        if (std::fclose(f) != 0) return io_error("cannot write");
        return counts_;
    }

private:
    error io_error(const char* what) const {
        return make_error(errc::IO, "snapshot deletes " + deletes_path_ + ": " + what + ": " + std::strerror(errno));
    }

    /// Decides the key of the current group (its last row counts).
    result<void> decide() {
        counts_.records += group_rows_;
        counts_.collapsed += group_rows_ - 1;
        ++counts_.keys;
        TARIUS_TRY(delete_before(&group_));

        // What the bases hold for this key: `agreed` when bases[0] holds it and every present base holds it with
        // the same hash (then the table holds that item, whichever load wrote last).
        bool agreed = !cursors_.empty() && cursors_[0].reader != nullptr;
        row_hash base_hash;
        for (size_t base_idx = 0; base_idx < cursors_.size(); ++base_idx) {
            cursor& c = cursors_[base_idx];
            if (c.reader == nullptr) continue;
            const bool holds =
                c.has && compare_keys(c.entry.key_hash, c.entry.key_json, group_.key_hash, group_.key_json) == 0;
            if (!holds) {
                agreed = false;
                continue;
            }
            if (base_idx == 0) {
                base_hash = c.entry.hash;
            } else if (!(c.entry.hash == base_hash)) {
                agreed = false;
            }
            TARIUS_TRY(c.advance());
        }

        if (last_hash_ == KEEP) {
            ++counts_.kept;
            group_.hash = agreed ? base_hash : KEEP;
        } else {
            group_.hash = last_hash_;
            if (options_.trust_hashes && agreed && base_hash == last_hash_) {
                ++counts_.unchanged;
            } else {
                ++counts_.to_write;
                to_write_.insert(last_line_);
            }
        }
        return next_.add(group_);
    }

    /// Writes the delete of every base key before `key` (all remaining ones when null), each once, in order.
    result<void> delete_before(const digest_entry* key) {
        for (;;) {
            cursor* least = nullptr;
            for (cursor& c : cursors_) {
                if (!c.has) continue;
                if (key != nullptr &&
                    compare_keys(c.entry.key_hash, c.entry.key_json, key->key_hash, key->key_json) >= 0) {
                    continue;
                }
                if (least == nullptr || compare_keys(c.entry.key_hash, c.entry.key_json, least->entry.key_hash,
                                                     least->entry.key_json) < 0) {
                    least = &c;
                }
            }
            if (least == nullptr) return ok();
            const std::string& json = least->entry.key_json;
            if (json.find('\n') != std::string::npos) {
                return make_error(errc::INVALID_ARGUMENT, "snapshot deletes: a base key holds a raw newline: " + json);
            }
            if (std::fwrite(json.data(), 1, json.size(), deletes_.get()) != json.size() ||
                std::fputc('\n', deletes_.get()) == EOF) {
                return io_error("cannot write");
            }
            ++counts_.to_delete;
            for (cursor& c : cursors_) {
                c.hit =
                    c.has && &c != least &&
                    compare_keys(c.entry.key_hash, c.entry.key_json, least->entry.key_hash, least->entry.key_json) == 0;
            }
            least->hit = true;
            for (cursor& c : cursors_) {
                if (c.hit) TARIUS_TRY(c.advance());
            }
        }
    }

    digest_writer& next_;
    line_set& to_write_;
    diff_options options_;
    std::vector<cursor> cursors_;
    std::string deletes_path_;
    std::unique_ptr<char[]> deletes_buf_;  // declared before deletes_: the FILE is closed first
    std::unique_ptr<std::FILE, file_closer> deletes_;
    diff_counts counts_;
    digest_entry group_;  ///< the key being gathered (its hash set when decided)
    uint64_t group_rows_ = 0;
    row_hash last_hash_;
    uint64_t last_line_ = 0;
};

}  // namespace

result<diff_counts> diff(record_sorter& sorted, std::vector<digest_reader*> bases, digest_writer& next,
                         line_set& to_write, const std::string& deletes_path, diff_options options) {
    differ d(bases, next, to_write, options);
    TARIUS_TRY(d.open(deletes_path));
    TARIUS_TRY(sorted.finish([&d](const record& r) { return d.take(r); }));
    return d.finish();
}

}  // namespace tarius::loader::snapshot
