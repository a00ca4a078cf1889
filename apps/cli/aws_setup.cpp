#include "aws_setup.hpp"

#include <csignal>
#include <cstdlib>

namespace tarius::cli {

std::atomic<bool> stop_requested{false};

namespace {
extern "C" void on_stop_signal(int) {
    if (stop_requested.exchange(true)) std::_Exit(130);  // a second Ctrl-C: leave now
}
}  // namespace

void install_stop_signals() {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
}

}  // namespace tarius::cli
