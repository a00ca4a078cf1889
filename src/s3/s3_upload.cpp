// upload_file: a local file to S3 in one PutObject or, when larger than a part, a multipart upload that reads the
// file one part at a time (constant memory however large the file is).

#include <algorithm>
#include <cstdio>
#include <memory>

#include "tarius/aws/s3.hpp"

namespace tarius::aws {

namespace {

error no_multipart(const char* operation) {
    return make_error(errc::INTERNAL, std::string("s3 ") + operation + ": not supported by this client");
}

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_handle = std::unique_ptr<std::FILE, file_closer>;

// Reads up to `size` bytes; fewer only at the end of the file.
result<std::string> read_part(std::FILE* f, const std::string& path, uint64_t size) {
    std::string part(static_cast<size_t>(size), '\0');
    const size_t got = std::fread(part.data(), 1, part.size(), f);
    if (got < part.size() && std::ferror(f)) return make_error(errc::IO, "cannot read " + path);
    part.resize(got);
    return part;
}

}  // namespace

result<std::string> s3_client::create_multipart_upload(const std::string&, const std::string&, const s3_put_options&) {
    return no_multipart("CreateMultipartUpload");
}

result<std::string> s3_client::upload_part(const std::string&, const std::string&, const std::string&, int,
                                           std::string) {
    return no_multipart("UploadPart");
}

result<s3_put_result> s3_client::complete_multipart_upload(const std::string&, const std::string&, const std::string&,
                                                           const std::vector<s3_completed_part>&) {
    return no_multipart("CompleteMultipartUpload");
}

result<void> s3_client::abort_multipart_upload(const std::string&, const std::string&, const std::string&) {
    return no_multipart("AbortMultipartUpload");
}

result<s3_put_result> upload_file(s3_client& s3, const std::string& bucket, const std::string& key,
                                  const std::string& path, const s3_put_options& options, uint64_t part_size,
                                  const std::function<bool()>& stop) {
    file_handle file(std::fopen(path.c_str(), "rb"));
    if (!file) return make_error(errc::IO, "cannot open " + path);
    if (std::fseek(file.get(), 0, SEEK_END) != 0) return make_error(errc::IO, "cannot seek in " + path);
    const long end = std::ftell(file.get());
    if (end < 0 || std::fseek(file.get(), 0, SEEK_SET) != 0) return make_error(errc::IO, "cannot seek in " + path);
    const auto size = static_cast<uint64_t>(end);

    part_size = std::max(part_size, S3_MIN_PART_SIZE);
    // 10,000 parts at most: a file that would need more gets proportionally larger parts.
    part_size = std::max(part_size, (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS);
    if (size <= part_size) {
        TARIUS_ASSIGN_OR_RETURN(std::string body, read_part(file.get(), path, size));
        if (body.size() != size) return make_error(errc::IO, path + " shrank while it was read");
        return s3.put_object(bucket, key, std::move(body), options);
    }

    TARIUS_ASSIGN_OR_RETURN(std::string upload_id, s3.create_multipart_upload(bucket, key, options));
    // From here on every failure aborts the upload so its parts do not linger (and cost) in the bucket.
    auto abandon = [&](error e) -> error {
        auto aborted = s3.abort_multipart_upload(bucket, key, upload_id);
        if (!aborted) e.message += " (and aborting upload " + upload_id + " failed: " + aborted.err().message + ")";
        return e;
    };
    std::vector<s3_completed_part> parts;
    uint64_t sent = 0;
    while (sent < size) {
        if (stop && stop()) return abandon(make_error(errc::CANCELLED, "stopped while uploading " + key));
        auto body = read_part(file.get(), path, std::min(part_size, size - sent));
        if (!body) return abandon(body.err());
        if (body->empty()) return abandon(make_error(errc::IO, path + " shrank while it was uploaded"));
        sent += body->size();
        const int number = static_cast<int>(parts.size()) + 1;
        auto etag = s3.upload_part(bucket, key, upload_id, number, std::move(*body));
        if (!etag) return abandon(etag.err());
        parts.push_back({number, std::move(*etag)});
    }
    // A completion that failed inside a 200 answer is worth another try: the parts are all there.
    result<s3_put_result> done = s3.complete_multipart_upload(bucket, key, upload_id, parts);
    for (int attempt = 1; attempt < 3 && !done && done.err().retryable; ++attempt) {
        done = s3.complete_multipart_upload(bucket, key, upload_id, parts);
    }
    if (!done) return abandon(done.err());
    return done;
}

}  // namespace tarius::aws
