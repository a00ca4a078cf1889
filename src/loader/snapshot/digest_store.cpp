#include "loader/snapshot/digest_store.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tarius/pipeline/rejects.hpp"

namespace tarius::loader::snapshot {
namespace {

class s3_store final : public digest_store {
public:
    s3_store(aws::s3_client& s3, std::string bucket, std::string prefix, std::string kms_key_id)
        : s3_(s3), bucket_(std::move(bucket)), prefix_(std::move(prefix)), kms_key_id_(std::move(kms_key_id)) {}

    result<std::optional<std::string>> read(const std::string& name) override {
        pipeline::string_sink body;
        auto got = s3_.get_object(bucket_, prefix_ + name, {}, body);
        if (!got) {
            if (got.err().code == errc::NOT_FOUND) return std::optional<std::string>{};
            return std::move(got).err();
        }
        return std::optional<std::string>{body.data()};
    }

    result<void> write(const std::string& name, const std::string& text) override {
        TARIUS_TRY(s3_.put_object(bucket_, prefix_ + name, text, options("application/json")));
        return ok();
    }

    result<void> upload(const std::string& name, const std::string& path) override {
        TARIUS_TRY(aws::upload_file(s3_, bucket_, prefix_ + name, path, options("application/octet-stream")));
        return ok();
    }

    result<void> download(const std::string& name, const std::string& path) override {
        pipeline::file_sink file(path);
        auto got = s3_.get_object(bucket_, prefix_ + name, {}, file);
        if (!got) return std::move(got).err();
        return file.finish();
    }

    result<void> remove(const std::string& name) override { return s3_.delete_object(bucket_, prefix_ + name); }

    std::string where() const override { return "s3://" + bucket_ + "/" + prefix_; }

private:
    aws::s3_put_options options(const char* content_type) const {
        aws::s3_put_options put;
        put.content_type = content_type;
        put.sse_kms_key_id = kms_key_id_;
        return put;
    }

    aws::s3_client& s3_;
    std::string bucket_;
    std::string prefix_;
    std::string kms_key_id_;
};

class local_store final : public digest_store {
public:
    explicit local_store(std::string directory) : directory_(std::move(directory)) {}

    result<std::optional<std::string>> read(const std::string& name) override {
        std::ifstream in(path_of(name), std::ios::binary);
        if (!in) return std::optional<std::string>{};
        std::ostringstream text;
        text << in.rdbuf();
        return std::optional<std::string>{text.str()};
    }

    result<void> write(const std::string& name, const std::string& text) override {
        TARIUS_TRY(ensure_directory());
        // Written aside then renamed: a reader never sees half a state.
        const std::string target = path_of(name);
        const std::string temporary = target + ".tmp";
        {
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            out << text;
            if (!out.flush()) return make_error(errc::IO, "snapshot: cannot write " + temporary);
        }
        std::error_code ec;
        std::filesystem::rename(temporary, target, ec);
        if (ec) return make_error(errc::IO, "snapshot: cannot write " + target + ": " + ec.message());
        return ok();
    }

    result<void> upload(const std::string& name, const std::string& path) override {
        TARIUS_TRY(ensure_directory());
        std::error_code ec;
        std::filesystem::copy_file(path, path_of(name), std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return make_error(errc::IO, "snapshot: cannot store " + path_of(name) + ": " + ec.message());
        return ok();
    }

    result<void> download(const std::string& name, const std::string& path) override {
        std::error_code ec;
        if (!std::filesystem::exists(path_of(name), ec)) {
            return make_error(errc::NOT_FOUND, "snapshot: no " + path_of(name));
        }
        std::filesystem::copy_file(path_of(name), path, std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return make_error(errc::IO, "snapshot: cannot read " + path_of(name) + ": " + ec.message());
        return ok();
    }

    result<void> remove(const std::string& name) override {
        std::error_code ec;
        std::filesystem::remove(path_of(name), ec);  // false, no error, when it is not there
        if (ec) return make_error(errc::IO, "snapshot: cannot delete " + path_of(name) + ": " + ec.message());
        return ok();
    }

    std::string where() const override { return directory_ + "/"; }

private:
    std::string path_of(const std::string& name) const { return directory_ + "/" + name; }

    result<void> ensure_directory() const {
        std::error_code ec;
        std::filesystem::create_directories(directory_, ec);
        if (ec) return make_error(errc::IO, "snapshot: cannot create " + directory_ + ": " + ec.message());
        return ok();
    }

    std::string directory_;
};

}  // namespace

std::unique_ptr<digest_store> s3_digest_store(aws::s3_client& s3, std::string bucket, std::string prefix,
                                              std::string kms_key_id) {
    return std::make_unique<s3_store>(s3, std::move(bucket), std::move(prefix), std::move(kms_key_id));
}

std::unique_ptr<digest_store> local_digest_store(std::string directory) {
    return std::make_unique<local_store>(std::move(directory));
}

}  // namespace tarius::loader::snapshot
