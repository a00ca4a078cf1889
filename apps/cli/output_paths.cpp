#include "output_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <system_error>

namespace tarius::cli {
namespace {

/// What a path is on disk, for comparing two of them.
struct file_identity {
    bool exists = false;   ///< stat() found it (following symbolic links)
    bool regular = false;  ///< a regular file: the only kind an output can destroy
    dev_t device = 0;
    ino_t inode = 0;
    std::string resolved;  ///< for a path that does not exist yet: its absolute form, symbolic links resolved
};

file_identity identify(const std::string& path, bool is_output) {
    file_identity id;
    struct stat info {};
    const int rc = path == "-" ? ::fstat(is_output ? STDOUT_FILENO : STDIN_FILENO, &info) : ::stat(path.c_str(), &info);
    if (rc == 0) {
        id.exists = true;
        id.regular = S_ISREG(info.st_mode);
        id.device = info.st_dev;
        id.inode = info.st_ino;
        return id;
    }
    std::error_code ignored;
    id.resolved = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ignored), ignored).string();
    return id;
}

bool same_file(const file_identity& a, const file_identity& b) {
    if (a.exists && b.exists) return a.regular && b.regular && a.device == b.device && a.inode == b.inode;
    if (a.exists || b.exists) return false;
    return !a.resolved.empty() && a.resolved == b.resolved;
}

std::string describe(const named_path& file, bool is_output) {
    if (file.path == "-") return file.role + " - (standard " + (is_output ? "output" : "input") + ")";
    return file.role + " " + file.path;
}

bool is_remote(const std::string& path) {
    return path.rfind("s3://", 0) == 0;
}

}  // namespace

command_files files_of(const parsed_args& args) {
    command_files files;
    if (!args.positional.empty() && !is_remote(args.positional[0])) {
        files.inputs.push_back({"the input FILE", args.positional[0]});
    }
    if (auto mapping = args.get("mapping")) files.inputs.push_back({"the --mapping file", *mapping});
    if (auto feeds = args.get("feeds"); feeds && !is_remote(*feeds))
        files.inputs.push_back({"the --feeds file", *feeds});
    if (auto out = args.get("out")) files.outputs.push_back({"--out", *out});
    if (auto rejects = args.get("rejects")) {
        files.outputs.push_back({"--rejects", *rejects});
        files.outputs.push_back({"the reasons file of --rejects", *rejects + ".reasons.jsonl"});
    }
    return files;
}

result<void> check_outputs(const command_files& files) {
    std::vector<file_identity> inputs;
    inputs.reserve(files.inputs.size());
    for (const auto& input : files.inputs) inputs.push_back(identify(input.path, false));
    std::vector<file_identity> outputs;
    outputs.reserve(files.outputs.size());
    for (size_t out_idx = 0; out_idx < files.outputs.size(); ++out_idx) {
        const named_path& output = files.outputs[out_idx];
        outputs.push_back(identify(output.path, true));
        for (size_t in_idx = 0; in_idx < inputs.size(); ++in_idx) {
            if (!same_file(outputs.back(), inputs[in_idx])) continue;
            return make_error(errc::INVALID_ARGUMENT,
                              describe(output, true) + " is " + describe(files.inputs[in_idx], false) +
                                  " (the same file): refusing to overwrite an input; write the output elsewhere");
        }
        for (size_t earlier_idx = 0; earlier_idx < out_idx; ++earlier_idx) {
            if (!same_file(outputs.back(), outputs[earlier_idx])) continue;
            return make_error(errc::INVALID_ARGUMENT, describe(files.outputs[earlier_idx], true) + " and " +
                                                          describe(output, true) +
                                                          " are the same file: give each output its own path");
        }
    }
    return ok();
}

}  // namespace tarius::cli
