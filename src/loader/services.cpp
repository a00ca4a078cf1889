#include "tarius/loader/services.hpp"

#include <fstream>
#include <sstream>

#include "aws/socket_http.hpp"
#include "tarius/loader/feed_router.hpp"

#include "tarius/loader/worker.hpp"
#include "tarius/pipeline/rejects.hpp"

namespace tarius::loader {
namespace {

constexpr std::chrono::milliseconds SMALL_CALL_ATTEMPT_TIMEOUT{5000};

}  // namespace

result<aws_clients> make_aws_clients() {
    aws_clients out;
    TARIUS_ASSIGN_OR_RETURN(out.context, aws::make_client_context());
    TARIUS_ASSIGN_OR_RETURN(auto s3, aws::s3_client::create(out.context));
    // DescribeTable and the ledger's small item calls: an attempt that takes seconds is a lost one, and a ledger
    // heartbeat holds up the load's stop check while it waits (its attempts must fit the deadline margin).
    TARIUS_ASSIGN_OR_RETURN(auto ddb, aws::dynamodb_client::create(out.context, false, SMALL_CALL_ATTEMPT_TIMEOUT));
    TARIUS_ASSIGN_OR_RETURN(auto sns, aws::sns_client::create(out.context));
    out.s3 = std::move(s3);
    out.ddb = std::move(ddb);
    out.sns = std::move(sns);
    return out;
}

std::unique_ptr<load_runner> make_runner(const aws_clients& clients, loader_config config) {
    auto context = clients.context;
    aws::http_options http;
    http.max_connections = config.writer.max_in_flight;  // one connection per request in flight, none queued
    auto factory = [context, http]() -> std::shared_ptr<aws::dynamodb_client> {
        // Each load's writer drives its own transport: a transport's asynchronous pair (submit/poll) belongs to one
        // thread, and the worker runs loads on several. Its requests end with it, too: none outlives its load.
        auto own = std::make_shared<aws::client_context>(*context);
        own->http = aws::make_item_write_http_client(http, *own);
        // The writer retries, paces and counts every request itself.
        auto client = aws::dynamodb_client::create(own, true);
        if (!client) return nullptr;
        return std::shared_ptr<aws::dynamodb_client>(std::move(client).value());
    };
    return std::make_unique<load_runner>(clients.s3, clients.ddb, factory, clients.sns, std::move(config));
}

result<std::string> read_document(const std::string& value, const char* what, aws::s3_client& s3) {
    if (value.rfind("s3://", 0) == 0) {
        const std::string rest = value.substr(5);
        const size_t slash = rest.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) {
            return make_error(errc::INVALID_ARGUMENT, std::string(what) + ": not an s3://bucket/key URI: " + value);
        }
        pipeline::string_sink body;
        auto got = s3.get_object(rest.substr(0, slash), rest.substr(slash + 1), {}, body);
        if (!got) {
            error failure = std::move(got).err();
            failure.message = std::string(what) + ": reading " + value + ": " + failure.message;
            return failure;
        }
        return body.data();
    }
    // A one-line value without braces or colons names a file (a document always has one or the other).
    if (value.find_first_of("{:\n") == std::string::npos) {
        std::ifstream file(value, std::ios::binary);
        if (!file) return make_error(errc::IO, std::string(what) + ": cannot read the file " + value);
        std::ostringstream text;
        text << file.rdbuf();
        return text.str();
    }
    return value;
}

result<loader_config> loader_config_from_env_and_s3(const aws::env_lookup& env, aws::s3_client& s3) {
    const auto mapping_uri = aws::env_value(env, "TARIUS_MAPPING");
    if (!mapping_uri || mapping_uri->rfind("s3://", 0) != 0) return loader_config_from_env(env);

    // Large mappings live in S3: read the rest of the configuration without it, then fetch and parse it.
    auto without_mapping = [&env](std::string_view name) -> std::optional<std::string> {
        if (name == "TARIUS_MAPPING") return std::nullopt;
        return env(name);
    };
    TARIUS_ASSIGN_OR_RETURN(loader_config config, loader_config_from_env(without_mapping));
    TARIUS_ASSIGN_OR_RETURN(const std::string document, read_document(*mapping_uri, "TARIUS_MAPPING", s3));
    auto parsed = mapping::parse_mapping(document);
    if (!parsed)
        return make_error(errc::INVALID_ARGUMENT, "TARIUS_MAPPING " + *mapping_uri + ": " + parsed.err().message);
    config.mapping = std::move(parsed).value();
    return config;
}

result<std::unique_ptr<feed_router>> feed_router_from_env(const aws::env_lookup& env, const aws_clients& clients) {
    TARIUS_ASSIGN_OR_RETURN(loader_config base, loader_config_from_env_and_s3(env, *clients.s3));
    feed_set feeds;
    if (auto document = aws::env_value(env, "TARIUS_FEEDS")) {
        TARIUS_ASSIGN_OR_RETURN(const std::string text, read_document(*document, "TARIUS_FEEDS", *clients.s3));
        auto parsed = parse_feeds(text);
        if (!parsed) return make_error(errc::INVALID_ARGUMENT, "TARIUS_FEEDS: " + parsed.err().message);
        feeds = std::move(parsed).value();
        TARIUS_TRY(check_outputs_outside_feeds(feeds, base));
    } else {
        feeds = single_feed(base, object_filter_from_env(env));
    }
    return feed_router::create(clients, base, std::move(feeds));
}

}  // namespace tarius::loader
