#include "tarius/loader/services.hpp"

#include "tarius/loader/worker.hpp"
#include "tarius/pipeline/rejects.hpp"

namespace tarius::loader {

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

std::unique_ptr<load_runner> make_runner(const aws_clients& clients, loader_config config) {
    auto context = clients.context;
    auto factory = [context]() -> std::shared_ptr<aws::dynamodb_client> {
        // The writer retries, paces and counts every request itself.
        auto client = aws::dynamodb_client::create(context, true);
        if (!client) return nullptr;
        return std::shared_ptr<aws::dynamodb_client>(std::move(client).value());
    };
    return std::make_unique<load_runner>(clients.s3, clients.ddb, factory, clients.sns, std::move(config));
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
    const std::string rest = mapping_uri->substr(5);
    const size_t slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) {
        return make_error(errc::INVALID_ARGUMENT, "TARIUS_MAPPING: not an s3://bucket/key URI: " + *mapping_uri);
    }
    pipeline::string_sink body;
    auto got = s3.get_object(rest.substr(0, slash), rest.substr(slash + 1), {}, body);
    if (!got) {
        error failure = std::move(got).err();
        failure.message = "TARIUS_MAPPING: reading " + *mapping_uri + ": " + failure.message;
        return failure;
    }
    auto parsed = mapping::parse_mapping(body.data());
    if (!parsed)
        return make_error(errc::INVALID_ARGUMENT, "TARIUS_MAPPING " + *mapping_uri + ": " + parsed.err().message);
    config.mapping = std::move(parsed).value();
    return config;
}

}  // namespace tarius::loader
