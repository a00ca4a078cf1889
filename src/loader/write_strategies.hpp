#pragma once
// The write strategies behind make_write_strategy.

#include <string>

#include "tarius/loader/write_strategy.hpp"

namespace tarius::loader::detail {

/// BatchWriteItem: up to 25 puts and deletes per request, a later row of a key replacing an earlier one.
class batch_write_strategy final : public write_strategy {
public:
    explicit batch_write_strategy(const std::string& table);
    size_t max_entries() const noexcept override { return pipeline::MAX_BATCH_ITEMS; }
    bool collapses_duplicates() const noexcept override { return true; }
    size_t entry_bytes(const write_entry& e) const noexcept override;
    size_t request_overhead() const noexcept override;
    size_t send(aws::dynamodb_client& client, std::span<const write_entry> entries,
                aws::batch_write_callback done) override;
    std::optional<skip_reason> when_condition_fails() const noexcept override { return std::nullopt; }

private:
    std::string body_prefix_;  // {"RequestItems":{"<table>":[
};

/// PutItem with a condition (insert, newer) or UpdateItem (merge): one row per request.
class item_write_strategy final : public write_strategy {
public:
    item_write_strategy(write_settings settings, std::string table, mapping::key_schema keys, std::string_view load_id);
    size_t max_entries() const noexcept override { return 1; }
    bool collapses_duplicates() const noexcept override { return false; }
    size_t entry_bytes(const write_entry& e) const noexcept override;
    size_t request_overhead() const noexcept override;
    size_t send(aws::dynamodb_client& client, std::span<const write_entry> entries,
                aws::batch_write_callback done) override;
    std::optional<skip_reason> when_condition_fails() const noexcept override;
    bool orders_keys_by_checkpoint() const noexcept override { return settings_.method == write_method::NEWER; }
    bool skip_is_certain_after_resend(bool earlier_run) const noexcept override {
        return !settings_.marker_attribute.empty() && !(earlier_run && settings_.method == write_method::NEWER);
    }

private:
    write_settings settings_;
    std::string table_;
    mapping::key_schema keys_;
    std::string load_id_;
};

}  // namespace tarius::loader::detail
