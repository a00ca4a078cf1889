#include "loader/item_requests.hpp"
#include "loader/write_strategies.hpp"
#include "tarius/aws/errors.hpp"

namespace tarius::loader::detail {
namespace {

// Beyond the item: the table, the condition, the placeholders, the marker.
constexpr size_t ITEM_REQUEST_OVERHEAD = 320;

// A row refused before it is sent, answered like DynamoDB's refusal so that the writer rejects it alone.
error refused_locally(std::string_view operation, std::string why) {
    aws::service_error e;
    e.service = "dynamodb";
    e.operation = std::string(operation);
    e.http_status = 400;
    e.code = "ValidationException";
    e.message = std::move(why);
    return e.to_error();
}

}  // namespace

item_write_strategy::item_write_strategy(write_settings settings, std::string table, mapping::key_schema keys,
                                         std::string_view load_id)
    : settings_(std::move(settings)), table_(std::move(table)), keys_(std::move(keys)), load_id_(load_id) {}

size_t item_write_strategy::entry_bytes(const write_entry& e) const noexcept {
    // A merge names every attribute twice (the key apart): the item's size doubled bounds it.
    return settings_.method == write_method::MERGE ? 2 * e.json.size() + e.aux.size() : e.json.size() + e.aux.size();
}

size_t item_write_strategy::request_overhead() const noexcept {
    return ITEM_REQUEST_OVERHEAD + table_.size();
}

size_t item_write_strategy::send(aws::dynamodb_client& client, std::span<const write_entry> entries,
                                 aws::batch_write_callback done) {
    TARIUS_ASSERT(entries.size() == 1);
    const write_entry& e = entries.front();
    std::string body;
    const std::string marker = settings_.marker_attribute.empty() ? std::string() : row_marker(load_id_, e.line);
    switch (settings_.method) {
        case write_method::INSERT:
            insert_body(body, table_, keys_.partition.name, e.json, settings_.marker_attribute, marker);
            break;
        case write_method::NEWER:
            newer_body(body, table_, e.json, settings_.version_attribute, e.aux, settings_.marker_attribute, marker);
            break;
        case write_method::MERGE: {
            std::string why;
            if (!merge_body(body, table_, keys_, e.json, e.aux, why)) {
                done(refused_locally("UpdateItem", std::move(why)));
                return 0;
            }
            break;
        }
        case write_method::BATCH: TARIUS_ASSERT(false && "item_write_strategy: a batch method"); break;
    }
    const size_t sent = body.size();
    client.write_item_async(settings_.method == write_method::MERGE ? "UpdateItem" : "PutItem", std::move(body),
                            std::move(done));
    return sent;
}

std::optional<skip_reason> item_write_strategy::when_condition_fails() const noexcept {
    switch (settings_.method) {
        case write_method::INSERT: return skip_reason::EXISTING;
        case write_method::NEWER: return skip_reason::STALE;
        case write_method::MERGE:
        case write_method::BATCH: break;
    }
    return std::nullopt;
}

}  // namespace tarius::loader::detail

namespace tarius::loader {

std::unique_ptr<write_strategy> make_write_strategy(const write_settings& settings, const std::string& table,
                                                    const mapping::key_schema& keys, std::string_view load_id) {
    if (settings.method == write_method::BATCH) return std::make_unique<detail::batch_write_strategy>(table);
    return std::make_unique<detail::item_write_strategy>(settings, table, keys, load_id);
}

}  // namespace tarius::loader
