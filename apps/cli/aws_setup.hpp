#pragma once
// The AWS clients and the load runner for the commands that talk to AWS (load, worker, loads), and their stop
// signals.

#include <atomic>

#include "args.hpp"
#include "tarius/aws/sqs.hpp"
#include "tarius/loader/services.hpp"

namespace tarius::cli {

using loader::aws_clients;
using loader::make_aws_clients;
using loader::make_runner;

/// Set by SIGINT/SIGTERM once install_stop_signals() ran.
extern std::atomic<bool> stop_requested;
/// Installs SIGINT and SIGTERM handlers that set stop_requested (a second signal exits at once).
void install_stop_signals();

}  // namespace tarius::cli
