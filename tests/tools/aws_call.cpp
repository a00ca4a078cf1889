/// aws_call: a small command line over Tarius's AWS service clients, for the Python integration tests.
///
/// Reads the standard environment (AWS_ENDPOINT_URL[_<SERVICE>], AWS_REGION, AWS_ACCESS_KEY_ID, ...), runs one
/// operation and prints its result as one JSON object per line on stdout. Exit codes: 0 success, 1 other error,
/// 2 usage, 3 CONFLICT (e.g. If-Match mismatch, ConditionalCheckFailed), 4 NOT_FOUND, 5 AUTH, 6 NETWORK.

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "json/writer.hpp"
#include "tarius/aws/client.hpp"
#include "tarius/aws/dynamodb.hpp"
#include "tarius/aws/lambda.hpp"
#include "tarius/aws/s3.hpp"
#include "tarius/aws/sns.hpp"
#include "tarius/aws/sqs.hpp"

namespace {

using namespace tarius;
using namespace tarius::aws;

constexpr const char* USAGE =
    "usage: aws_call COMMAND ARGS... [OPTIONS]\n"
    "  s3-put BUCKET KEY FILE [--kms KEY_ID] [--content-type T]\n"
    "  s3-get BUCKET KEY OUT [--range A-B|A-] [--version-id V] [--if-match ETAG]\n"
    "  s3-head BUCKET KEY [--version-id V] [--if-match ETAG]\n"
    "  ddb-describe TABLE\n"
    "  ddb-batch FILE_OF_BODIES [--in-flight N] [--max-rounds N]   one BatchWriteItem body per line;\n"
    "        UnprocessedItems are sent again until none are left (or --max-rounds)\n"
    "  ddb-call OP JSON\n"
    "  sns-publish TOPIC_ARN MESSAGE [--json] [--attr K=V]... [--subject S]\n"
    "  sqs-send URL BODY [--delay S]\n"
    "  sqs-receive URL [--wait S] [--max N] [--visibility S]\n"
    "  sqs-delete URL HANDLE...\n"
    "  sqs-visibility URL HANDLE SECS\n"
    "  lambda-invoke FUNCTION PAYLOAD\n"
    "Exit: 0 ok, 1 error, 2 usage, 3 conflict, 4 not found, 5 auth, 6 network.\n";

struct args {
    std::vector<std::string> positional;
    std::multimap<std::string, std::string> options;  // "--json" maps to ""
    [[nodiscard]] std::string get(const std::string& name, std::string fallback = {}) const {
        auto it = options.find(name);
        return it == options.end() ? fallback : it->second;
    }
    [[nodiscard]] bool has(const std::string& name) const { return options.count(name) > 0; }
};

int exit_code_of(const error& err) {
    switch (err.code) {
        case errc::CONFLICT: return 3;
        case errc::NOT_FOUND: return 4;
        case errc::AUTH: return 5;
        case errc::NETWORK: return 6;
        default: return 1;
    }
}

int fail(const error& err) {
    std::fprintf(stderr, "error: %s%s: %s\n", errc_name(err.code), err.retryable ? " (retryable)" : "",
                 err.message.c_str());
    return exit_code_of(err);
}

int usage(const char* why) {
    std::fprintf(stderr, "aws_call: %s\n%s", why, USAGE);
    return 2;
}

void print_line(const std::string& json_line) {
    std::printf("%s\n", json_line.c_str());
}

std::string info_json(const s3_object_info& info) {
    std::string out;
    json::writer(out)
        .begin_object()
        .key("size")
        .value(info.size)
        .key("etag")
        .value(info.etag)
        .key("version_id")
        .value(info.version_id)
        .key("content_type")
        .value(info.content_type)
        .key("content_encoding")
        .value(info.content_encoding)
        .key("last_modified")
        .value(info.last_modified)
        .end_object();
    return out;
}

class file_sink final : public byte_sink {
public:
    explicit file_sink(std::FILE* file) : file_(file) {}
    result<void> write(std::string_view chunk) override {
        if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) {
            return make_error(errc::IO, "cannot write the output file");
        }
        return ok();
    }
    result<void> finish() override { return ok(); }

private:
    std::FILE* file_;
};

result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(errc::IO, "cannot open " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

result<s3_get_options> get_options(const args& a) {
    s3_get_options options;
    options.version_id = a.get("--version-id");
    options.if_match = a.get("--if-match");
    std::string range = a.get("--range");
    if (!range.empty()) {
        auto dash = range.find('-');
        if (dash == std::string::npos || dash == 0) return make_error(errc::INVALID_ARGUMENT, "bad --range");
        options.has_range = true;
        options.range_start = std::stoull(range.substr(0, dash));
        if (dash + 1 < range.size()) options.range_end = std::stoull(range.substr(dash + 1));
    }
    return options;
}

// Number of write requests in a BatchWriteItem body's RequestItems (or in an UnprocessedItems object).
size_t count_requests(std::string_view items_object) {
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(items_object.data(), items_object.size(), true).get_object().get(object) != simdjson::SUCCESS) {
        return 0;
    }
    size_t count = 0;
    for (auto field : object) {
        simdjson::dom::array requests;
        if (field.value.get_array().get(requests) == simdjson::SUCCESS) count += requests.size();
    }
    return count;
}

std::string request_items_of(std::string_view body) {
    simdjson::dom::parser parser;
    simdjson::dom::element items;
    if (parser.parse(body.data(), body.size(), true)["RequestItems"].get(items) != simdjson::SUCCESS) return "{}";
    return simdjson::to_string(items);
}

int ddb_batch(dynamodb_client& ddb, const args& a) {
    auto text = read_file(a.positional.at(1));
    if (!text) return fail(text.err());
    std::vector<std::string> bodies;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) bodies.push_back(line);
    }
    const int in_flight = std::max(1, std::atoi(a.get("--in-flight", "1").c_str()));
    const int max_rounds = std::max(1, std::atoi(a.get("--max-rounds", "50").c_str()));

    size_t items_sent = 0;      // distinct items in the input
    size_t items_accepted = 0;  // items the service did not hand back
    size_t calls = 0;
    int attempts = 0;
    int throttled = 0;
    size_t unprocessed_returned = 0;
    std::vector<std::string> left_over;  // UnprocessedItems still pending when rounds ran out
    int first_error_code = 0;

    struct job {
        std::string items;  // a RequestItems object
        int round = 0;
    };
    std::deque<job> queue;
    for (const auto& body : bodies) {
        std::string items = request_items_of(body);
        items_sent += count_requests(items);
        queue.push_back({std::move(items), 1});
    }
    auto handle = [&](const job& j, result<batch_write_result> r) {
        ++calls;
        if (!r) {
            std::fprintf(stderr, "error: %s: %s\n", errc_name(r.err().code), r.err().message.c_str());
            if (first_error_code == 0) first_error_code = exit_code_of(r.err());
            return;
        }
        attempts += r->attempts;
        throttled += r->throttled_attempts;
        const size_t sent = count_requests(j.items);
        items_accepted += sent - r->unprocessed_count;
        if (r->unprocessed_count == 0) return;
        unprocessed_returned += r->unprocessed_count;
        if (j.round >= max_rounds) {
            left_over.push_back(r->unprocessed_items);
            return;
        }
        // Back off a little before sending what was not processed, as the SDK documentation advises.
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * j.round));
        queue.push_back({r->unprocessed_items, j.round + 1});
    };
    auto body_of = [](const std::string& items) { return "{\"RequestItems\":" + items + "}"; };

    if (in_flight == 1) {
        while (!queue.empty()) {
            job j = std::move(queue.front());
            queue.pop_front();
            handle(j, ddb.batch_write_item(body_of(j.items)));
        }
    } else {
        size_t active = 0;
        for (;;) {
            while (!queue.empty() && active < static_cast<size_t>(in_flight)) {
                auto j = std::make_shared<job>(std::move(queue.front()));
                queue.pop_front();
                ++active;
                ddb.batch_write_item_async(body_of(j->items), [&, j](result<batch_write_result> r) {
                    --active;
                    handle(*j, std::move(r));
                });
            }
            if (active == 0 && queue.empty()) break;
            ddb.poll(std::chrono::milliseconds(100));
        }
    }
    std::string out;
    json::writer w(out);
    w.begin_object()
        .key("bodies")
        .value(static_cast<uint64_t>(bodies.size()))
        .key("items_sent")
        .value(static_cast<uint64_t>(items_sent))
        .key("items_accepted")
        .value(static_cast<uint64_t>(items_accepted))
        .key("unprocessed_returned")
        .value(static_cast<uint64_t>(unprocessed_returned))
        .key("calls")
        .value(static_cast<uint64_t>(calls))
        .key("attempts")
        .value(attempts)
        .key("throttled_attempts")
        .value(throttled)
        .key("left_over")
        .begin_array();
    for (const auto& items : left_over) w.raw(items);
    w.end_array().end_object();
    print_line(out);
    if (first_error_code != 0) return first_error_code;
    return left_over.empty() ? 0 : 1;
}

const char* key_type_name(mapping::key_type type) {
    switch (type) {
        case mapping::key_type::S: return "S";
        case mapping::key_type::N: return "N";
        case mapping::key_type::B: return "B";
    }
    return "?";
}

int run(const args& a) {
    if (a.positional.empty()) return usage("no command");
    const std::string& cmd = a.positional[0];
    auto need = [&](size_t n) { return a.positional.size() >= n + 1; };
    auto context = make_client_context();
    if (!context) return fail(context.err());

    if (cmd.rfind("s3-", 0) == 0) {
        auto s3 = s3_client::create(*context);
        if (!s3) return fail(s3.err());
        if (cmd == "s3-put" && need(3)) {
            auto body = read_file(a.positional[3]);
            if (!body) return fail(body.err());
            s3_put_options options;
            options.sse_kms_key_id = a.get("--kms");
            options.content_type = a.get("--content-type", options.content_type);
            auto r = (*s3)->put_object(a.positional[1], a.positional[2], std::move(*body), options);
            if (!r) return fail(r.err());
            std::string out;
            json::writer(out)
                .begin_object()
                .key("etag")
                .value(r->etag)
                .key("version_id")
                .value(r->version_id)
                .end_object();
            print_line(out);
            return 0;
        }
        auto options = get_options(a);
        if (!options) return fail(options.err());
        if (cmd == "s3-get" && need(3)) {
            std::FILE* file = std::fopen(a.positional[3].c_str(), "wb");
            if (file == nullptr) return fail(make_error(errc::IO, "cannot create " + a.positional[3]));
            file_sink sink(file);
            auto r = (*s3)->get_object(a.positional[1], a.positional[2], *options, sink);
            std::fclose(file);
            if (!r) return fail(r.err());
            print_line(info_json(*r));
            return 0;
        }
        if (cmd == "s3-head" && need(2)) {
            auto r = (*s3)->head_object(a.positional[1], a.positional[2], *options);
            if (!r) return fail(r.err());
            print_line(info_json(*r));
            return 0;
        }
        return usage("bad s3 command or arguments");
    }
    if (cmd.rfind("ddb-", 0) == 0) {
        auto ddb = dynamodb_client::create(*context);
        if (!ddb) return fail(ddb.err());
        if (cmd == "ddb-describe" && need(1)) {
            auto r = (*ddb)->describe_table(a.positional[1]);
            if (!r) return fail(r.err());
            std::string out;
            json::writer w(out);
            w.begin_object().key("name").value(r->name).key("arn").value(r->arn).key("status").value(r->status);
            w.key("hash").begin_object().key("name").value(r->keys.partition.name);
            w.key("type").value(key_type_name(r->keys.partition.type)).end_object();
            if (r->keys.sort) {
                w.key("range").begin_object().key("name").value(r->keys.sort->name);
                w.key("type").value(key_type_name(r->keys.sort->type)).end_object();
            }
            w.key("billing_mode").value(r->billing_mode).key("write_capacity").value(r->write_capacity);
            w.end_object();
            print_line(out);
            return 0;
        }
        if (cmd == "ddb-batch" && need(1)) return ddb_batch(**ddb, a);
        if (cmd == "ddb-call" && need(2)) {
            auto r = (*ddb)->call(a.positional[1], a.positional[2]);
            if (!r) return fail(r.err());
            print_line(*r);
            return 0;
        }
        return usage("bad ddb command or arguments");
    }
    if (cmd == "sns-publish" && need(2)) {
        auto sns = sns_client::create(*context);
        if (!sns) return fail(sns.err());
        sns_message message;
        message.topic_arn = a.positional[1];
        message.message = a.positional[2];
        message.json_structure = a.has("--json");
        message.subject = a.get("--subject");
        auto range = a.options.equal_range("--attr");
        for (auto it = range.first; it != range.second; ++it) {
            auto eq = it->second.find('=');
            if (eq == std::string::npos) return usage("--attr needs K=V");
            message.string_attributes[it->second.substr(0, eq)] = it->second.substr(eq + 1);
        }
        auto r = (*sns)->publish(message);
        if (!r) return fail(r.err());
        std::string out;
        json::writer(out).begin_object().key("message_id").value(*r).end_object();
        print_line(out);
        return 0;
    }
    if (cmd.rfind("sqs-", 0) == 0) {
        auto sqs = sqs_client::create(*context);
        if (!sqs) return fail(sqs.err());
        if (cmd == "sqs-send" && need(2)) {
            auto r = (*sqs)->send_message(a.positional[1], a.positional[2], std::atoi(a.get("--delay", "0").c_str()));
            if (!r) return fail(r.err());
            std::string out;
            json::writer(out).begin_object().key("message_id").value(*r).end_object();
            print_line(out);
            return 0;
        }
        if (cmd == "sqs-receive" && need(1)) {
            sqs_receive_options options;
            options.wait_seconds = std::atoi(a.get("--wait", "0").c_str());
            options.max_messages = std::atoi(a.get("--max", "10").c_str());
            options.visibility_timeout = std::atoi(a.get("--visibility", "-1").c_str());
            auto r = (*sqs)->receive_message(a.positional[1], options);
            if (!r) return fail(r.err());
            for (const auto& m : *r) {
                std::string out;
                json::writer w(out);
                w.begin_object().key("message_id").value(m.message_id).key("receipt_handle").value(m.receipt_handle);
                w.key("body").value(m.body).key("attributes").begin_object();
                for (const auto& [k, v] : m.attributes) w.key(k).value(v);
                w.end_object().end_object();
                print_line(out);
            }
            return 0;
        }
        if (cmd == "sqs-delete" && need(2)) {
            std::vector<std::string> handles(a.positional.begin() + 2, a.positional.end());
            auto r = (*sqs)->delete_message_batch(a.positional[1], handles);
            if (!r) return fail(r.err());
            std::string out;
            json::writer w(out);
            w.begin_object().key("failed").begin_array();
            for (const auto& f : *r) {
                w.begin_object().key("id").value(f.id).key("code").value(f.code).key("message").value(f.message);
                w.end_object();
            }
            w.end_array().end_object();
            print_line(out);
            return r->empty() ? 0 : 1;
        }
        if (cmd == "sqs-visibility" && need(3)) {
            auto r =
                (*sqs)->change_message_visibility(a.positional[1], a.positional[2], std::atoi(a.positional[3].c_str()));
            if (!r) return fail(r.err());
            print_line("{}");
            return 0;
        }
        return usage("bad sqs command or arguments");
    }
    if (cmd == "lambda-invoke" && need(2)) {
        auto lambda = lambda_client::create(*context);
        if (!lambda) return fail(lambda.err());
        auto r = (*lambda)->invoke_async(a.positional[1], a.positional[2]);
        if (!r) return fail(r.err());
        print_line("{\"status\":202}");
        return 0;
    }
    return usage("unknown command or missing arguments");
}

}  // namespace

int main(int argc, char** argv) {
    args a;
    for (int idx = 1; idx < argc; ++idx) {
        std::string arg = argv[idx];
        if (arg == "-h" || arg == "--help") {
            std::fputs(USAGE, stdout);
            return 0;
        }
        if (arg == "--json") {
            a.options.emplace(arg, "");
        } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
            if (idx + 1 >= argc) return usage(("missing value of " + arg).c_str());
            a.options.emplace(arg, argv[++idx]);
        } else {
            a.positional.push_back(std::move(arg));
        }
    }
    try {
        return run(a);
    } catch (const std::exception& e) {
        // std::stoull and friends on bad numbers: a usage error, reported once.
        std::fprintf(stderr, "aws_call: %s\n", e.what());
        return 2;
    }
}
