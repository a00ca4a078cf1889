#include "aws_setup.hpp"

#include <csignal>
#include <cstdlib>

#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/aws/sns.hpp"

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

result<aws_clients> make_aws_clients() {
    aws_clients out;
    TARIUS_ASSIGN_OR_RETURN(out.context, aws::make_client_context());
    TARIUS_ASSIGN_OR_RETURN(auto s3, aws::s3_client::create(out.context));
    TARIUS_ASSIGN_OR_RETURN(auto ddb, aws::dynamodb_client::create(out.context));
    TARIUS_ASSIGN_OR_RETURN(auto sns, aws::sns_client::create(out.context));
    out.s3 = std::move(s3);
    out.ddb = std::move(ddb);
    out.sns = std::move(sns);
    return out;
}

std::unique_ptr<loader::load_runner> make_runner(const aws_clients& clients, loader::loader_config config) {
    auto context = clients.context;
    auto factory = [context]() -> std::shared_ptr<aws::dynamodb_client> {
        auto client = aws::dynamodb_client::create(context);
        if (!client) return nullptr;
        return std::shared_ptr<aws::dynamodb_client>(std::move(client).value());
    };
    return std::make_unique<loader::load_runner>(clients.s3, clients.ddb, factory, clients.sns, std::move(config));
}

}  // namespace tarius::cli
