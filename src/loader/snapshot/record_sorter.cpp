#include "loader/snapshot/record_sorter.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>

#include "loader/snapshot/bytes.hpp"

namespace tarius::loader::snapshot {
namespace {

/// A serialized record, in the arena and in runs: key_hash, hash.hi, hash.lo, line (u64 each), key length (u32),
/// key bytes.
constexpr size_t FIXED = 8 * 4 + 4;
constexpr size_t IO_BUFFER = size_t{64} * 1024;

struct file_closer {
    void operator()(std::FILE* f) const noexcept {
        if (f != nullptr) std::fclose(f);
    }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

error io_error(const std::string& path, const char* what) {
    return make_error(errc::IO, "sort run " + path + ": " + what + ": " + std::strerror(errno));
}

/// Writes the fixed part of `r` at `p`.
void encode_fixed(char* p, const record& r) noexcept {
    detail::put_u64(p, r.key_hash);
    detail::put_u64(p + 8, r.hash.hi);
    detail::put_u64(p + 16, r.hash.lo);
    detail::put_u64(p + 24, r.line);
    detail::put_u32(p + 32, static_cast<uint32_t>(r.key_json.size()));
}

void serialize(std::vector<char>& out, const record& r) {
    const size_t at = out.size();
    out.resize(at + FIXED + r.key_json.size());
    encode_fixed(out.data() + at, r);
    std::memcpy(out.data() + at + FIXED, r.key_json.data(), r.key_json.size());
}

uint32_t key_length(const char* p) noexcept {
    return detail::get_u32(p + 32);
}

/// Decodes the fixed part at `p` into `r` (the key is assigned by the caller).
void decode_fixed(const char* p, record& r) noexcept {
    r.key_hash = detail::get_u64(p);
    r.hash.hi = detail::get_u64(p + 8);
    r.hash.lo = detail::get_u64(p + 16);
    r.line = detail::get_u64(p + 24);
}

/// The sort order of records.
int compare_records(const record& a, const record& b) noexcept {
    const int c = compare_keys(a.key_hash, a.key_json, b.key_hash, b.key_json);
    if (c != 0) return c;
    return a.line < b.line ? -1 : (a.line > b.line ? 1 : 0);
}

/// A sorted stream of records: a run file or the sorted buffer.
class source {
public:
    virtual ~source() = default;
    /// Moves to the next record; false at the end.
    virtual result<bool> advance() = 0;
    record current;
};

class run_source final : public source {
public:
    static result<std::unique_ptr<run_source>> open(const std::string& path) {
        auto s = std::make_unique<run_source>();
        s->path_ = path;
        s->file_.reset(std::fopen(path.c_str(), "rb"));
        if (!s->file_) return io_error(path, "cannot open");
        s->buf_ = std::make_unique<char[]>(IO_BUFFER);
        return s;
    }

    result<bool> advance() override {
        char fixed[FIXED];
        TARIUS_ASSIGN_OR_RETURN(const size_t got, read(fixed, FIXED));
        if (got == 0) return false;
        if (got < FIXED) return make_error(errc::IO, "sort run " + path_ + ": truncated record");
        decode_fixed(fixed, current);
        const uint32_t len = key_length(fixed);
        current.key_json.resize(len);
        TARIUS_ASSIGN_OR_RETURN(const size_t key_got, read(current.key_json.data(), len));
        if (key_got < len) return make_error(errc::IO, "sort run " + path_ + ": truncated record");
        return true;
    }

private:
    /// Reads up to `n` bytes; fewer only at the end of the file.
    result<size_t> read(char* dst, size_t n) {
        size_t done = 0;
        while (done < n) {
            if (pos_ == len_) {
                len_ = std::fread(buf_.get(), 1, IO_BUFFER, file_.get());
                pos_ = 0;
                if (std::ferror(file_.get()) != 0) return io_error(path_, "cannot read");
                if (len_ == 0) break;
            }
            const size_t take = std::min(n - done, len_ - pos_);
            std::memcpy(dst + done, buf_.get() + pos_, take);
            pos_ += take;
            done += take;
        }
        return done;
    }

    std::string path_;
    file_ptr file_;
    std::unique_ptr<char[]> buf_;
    size_t pos_ = 0;
    size_t len_ = 0;
};

/// Writes serialized records to a run file through a large stdio buffer.
class run_writer {
public:
    static result<run_writer> create(const std::string& path) {
        run_writer w;
        w.path_ = path;
        w.file_.reset(std::fopen(path.c_str(), "wb"));
        if (!w.file_) return io_error(path, "cannot create");
        w.buf_ = std::make_unique<char[]>(IO_BUFFER);
        std::setvbuf(w.file_.get(), w.buf_.get(), _IOFBF, IO_BUFFER);
        return w;
    }
    result<void> write(const char* p, size_t n) {
        if (std::fwrite(p, 1, n, file_.get()) != n) return io_error(path_, "cannot write");
        return ok();
    }
    result<void> write(const record& r) {
        char fixed[FIXED];
        encode_fixed(fixed, r);
        TARIUS_TRY(write(fixed, FIXED));
        return write(r.key_json.data(), r.key_json.size());
    }
    result<void> close() {
        std::FILE* f = file_.release();
        if (std::fclose(f) != 0) return io_error(path_, "cannot write");
        return ok();
    }

private:
    std::string path_;
    std::unique_ptr<char[]> buf_;  // declared before file_: the FILE is closed first
    file_ptr file_;
};

/// The sorted buffer, read in place (`Slot` has an `offset` into the arena).
template <class Slot>
class memory_source final : public source {
public:
    memory_source(const std::vector<char>& arena, const std::vector<Slot>& slots) : arena_(arena), slots_(slots) {}
    result<bool> advance() override {
        if (next_ == slots_.size()) return false;
        const char* p = arena_.data() + slots_[next_++].offset;
        decode_fixed(p, current);
        current.key_json.assign(p + FIXED, key_length(p));
        return true;
    }

private:
    const std::vector<char>& arena_;
    const std::vector<Slot>& slots_;
    size_t next_ = 0;
};

/// Merges `sources` (each sorted) and calls `each` per record in order; returns the number of records.
result<uint64_t> merge(std::vector<std::unique_ptr<source>>& sources,
                       const std::function<result<void>(const record&)>& each) {
    std::vector<source*> heap;
    heap.reserve(sources.size());
    for (auto& s : sources) {
        TARIUS_ASSIGN_OR_RETURN(const bool any, s->advance());
        if (any) heap.push_back(s.get());
    }
    // std heaps keep the greatest on top: "greater" puts the smallest record there.
    const auto after = [](const source* a, const source* b) { return compare_records(a->current, b->current) > 0; };
    std::make_heap(heap.begin(), heap.end(), after);
    uint64_t count = 0;
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), after);
        source* top = heap.back();
        TARIUS_TRY(each(top->current));
        ++count;
        TARIUS_ASSIGN_OR_RETURN(const bool more, top->advance());
        if (more) {
            std::push_heap(heap.begin(), heap.end(), after);
        } else {
            heap.pop_back();
        }
    }
    return count;
}

}  // namespace

record_sorter::record_sorter(std::string temp_dir, size_t memory_bytes)
    : temp_dir_(std::move(temp_dir)), memory_bytes_(memory_bytes) {}

record_sorter::~record_sorter() {
    remove_runs();
}

void record_sorter::remove_runs() noexcept {
    for (const std::string& path : runs_) ::unlink(path.c_str());
    runs_.clear();
}

// By value, as the interface takes the record (the caller may move it in); its bytes are copied into the arena.
result<void> record_sorter::add(record r) {  // NOLINT(performance-unnecessary-value-param)
    if (finished_) return make_error(errc::INTERNAL, "record_sorter::add after finish");
    const size_t cost = FIXED + r.key_json.size() + sizeof(slot);
    if (!index_.empty() && arena_.size() + index_.size() * sizeof(slot) + cost > memory_bytes_) TARIUS_TRY(spill());
    if (arena_.capacity() == 0) {
        // Reserved once, so the buffers never reallocate (a reallocation would hold two copies); the pages are
        // only touched as records arrive.
        arena_.reserve(memory_bytes_);
        index_.reserve(memory_bytes_ / (FIXED + sizeof(slot)) + 1);
    }
    index_.push_back(slot{r.key_hash, arena_.size()});
    serialize(arena_, r);
    ++records_;
    return ok();
}

void record_sorter::sort_buffer() {
    const char* base = arena_.data();
    std::sort(index_.begin(), index_.end(), [base](const slot& a, const slot& b) {
        if (a.key_hash != b.key_hash) return a.key_hash < b.key_hash;
        const char* pa = base + a.offset;
        const char* pb = base + b.offset;
        const std::string_view ka(pa + FIXED, key_length(pa));
        const std::string_view kb(pb + FIXED, key_length(pb));
        const int c = ka.compare(kb);
        if (c != 0) return c < 0;
        return detail::get_u64(pa + 24) < detail::get_u64(pb + 24);
    });
}

result<std::string> record_sorter::new_run_path() {
    std::error_code ec;
    std::filesystem::create_directories(temp_dir_, ec);  // an error shows at mkstemp, with its reason
    std::string path = temp_dir_ + "/tarius-sort-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0)
        return make_error(errc::IO, "sort: cannot create a run file in " + temp_dir_ + ": " + std::strerror(errno));
    ::close(fd);
    runs_.push_back(path);  // from now on the destructor removes it
    ++runs_written_;
    return path;
}

result<void> record_sorter::spill() {
    sort_buffer();
    TARIUS_ASSIGN_OR_RETURN(const std::string path, new_run_path());
    TARIUS_ASSIGN_OR_RETURN(run_writer out, run_writer::create(path));
    for (const slot& s : index_) {
        const char* p = arena_.data() + s.offset;
        TARIUS_TRY(out.write(p, FIXED + key_length(p)));
    }
    TARIUS_TRY(out.close());
    arena_.clear();
    index_.clear();
    return ok();
}

result<void> record_sorter::finish(const std::function<result<void>(const record&)>& each) {
    if (finished_) return make_error(errc::INTERNAL, "record_sorter::finish called twice");
    finished_ = true;
    sort_buffer();
    const bool in_memory = !index_.empty();

    // Merge the oldest runs into longer ones until the rest, with the buffer, can be merged at once.
    while (runs_.size() + (in_memory ? 1 : 0) > MAX_FAN_IN) {
        std::vector<std::unique_ptr<source>> group;
        const size_t take = std::min(MAX_FAN_IN, runs_.size());
        for (size_t run_idx = 0; run_idx < take; ++run_idx) {
            TARIUS_ASSIGN_OR_RETURN(auto s, run_source::open(runs_[run_idx]));
            group.push_back(std::move(s));
        }
        TARIUS_ASSIGN_OR_RETURN(const std::string path, new_run_path());
        TARIUS_ASSIGN_OR_RETURN(run_writer out, run_writer::create(path));
        TARIUS_TRY(merge(group, [&out](const record& r) { return out.write(r); }));
        TARIUS_TRY(out.close());
        group.clear();  // closes the files before they are removed
        for (size_t run_idx = 0; run_idx < take; ++run_idx) ::unlink(runs_[run_idx].c_str());
        runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(take));
    }

    std::vector<std::unique_ptr<source>> sources;
    for (const std::string& path : runs_) {
        TARIUS_ASSIGN_OR_RETURN(auto s, run_source::open(path));
        sources.push_back(std::move(s));
    }
    if (in_memory) sources.push_back(std::make_unique<memory_source<slot>>(arena_, index_));
    TARIUS_ASSIGN_OR_RETURN(const uint64_t emitted, merge(sources, each));
    sources.clear();
    arena_ = {};
    index_ = {};
    remove_runs();
    if (emitted != records_) {
        return make_error(errc::INTERNAL, "sort: " + std::to_string(records_) + " records added but " +
                                              std::to_string(emitted) + " came out of the merge");
    }
    return ok();
}

}  // namespace tarius::loader::snapshot
