#pragma once
// Outputs never destroy inputs: the files a command writes are compared with the files it reads (and with each
// other) by device and inode before anything is opened for writing.

#include <string>
#include <vector>

#include "args.hpp"
#include "tarius/result.hpp"

namespace tarius::cli {

/// A file named on the command line.
struct named_path {
    std::string role;  ///< how the command line names it, e.g. "--out" or "the input FILE"
    std::string path;  ///< as given; "-" is standard input for an input, standard output for an output
};

/// The files a command reads and writes.
struct command_files {
    std::vector<named_path> inputs;   ///< read (FILE, --mapping, --feeds)
    std::vector<named_path> outputs;  ///< written (--out, --rejects and its reasons file)
};

/// The files of the commands that read a CSV (validate, convert, load): FILE, --mapping and --feeds are read; --out,
/// --rejects PATH and PATH.reasons.jsonl are written. s3:// sources are not local files and are left out.
[[nodiscard]] command_files files_of(const parsed_args& args);

/// Refuses (`errc::INVALID_ARGUMENT`, naming both paths) an output that is the same file as an input, or as
/// another output. Existing files are the same when they are one regular file (same device and inode: hard links
/// and paths through symbolic links included; "-" stands for the standard stream it names); outputs that do not
/// exist yet are the same when their paths resolve alike. Devices, pipes and terminals (/dev/null, a tty) are
/// never refused: writing them destroys nothing.
[[nodiscard]] result<void> check_outputs(const command_files& files);

}  // namespace tarius::cli
