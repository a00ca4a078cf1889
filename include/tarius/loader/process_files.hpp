#pragma once
/// The number of files the process may open.

#include <cstdint>

namespace tarius::loader {

/// Raises the soft limit of open files to the hard limit (at most 1,048,576): a load of one-row feeds keeps a
/// connection per request in flight (256 by default), and a worker runs several loads at once, while the usual
/// soft limit is 1,024. No effect where the two are equal (Lambda: 1,024). Returns the soft limit in force.
uint64_t raise_open_file_limit() noexcept;

}  // namespace tarius::loader
