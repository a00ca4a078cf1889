#include "loader/write_strategies.hpp"

#include "json/writer.hpp"

namespace tarius::loader::detail {
namespace {

constexpr std::string_view BODY_CLOSE = "]},\"ReturnConsumedCapacity\":\"TOTAL\"}";

}  // namespace

batch_write_strategy::batch_write_strategy(const std::string& table) {
    body_prefix_ = "{\"RequestItems\":{";
    json::append_string(body_prefix_, table);
    body_prefix_ += ":[";
}

size_t batch_write_strategy::entry_bytes(const write_entry& e) const noexcept {
    return pipeline::request_open(e.kind).size() + e.json.size() + pipeline::REQUEST_CLOSE.size() + 1;
}

size_t batch_write_strategy::request_overhead() const noexcept {
    return body_prefix_.size() + BODY_CLOSE.size();
}

size_t batch_write_strategy::send(aws::dynamodb_client& client, std::span<const write_entry> entries,
                                  aws::batch_write_callback done) {
    size_t size = request_overhead();
    for (const write_entry& e : entries) size += entry_bytes(e);
    std::string body;
    body.reserve(size);
    body += body_prefix_;
    for (size_t idx = 0; idx < entries.size(); ++idx) {
        if (idx) body.push_back(',');
        body += pipeline::request_open(entries[idx].kind);
        body += entries[idx].json;
        body += pipeline::REQUEST_CLOSE;
    }
    body += BODY_CLOSE;
    const size_t sent = body.size();
    client.batch_write_item_async(std::move(body), std::move(done));
    return sent;
}

}  // namespace tarius::loader::detail
