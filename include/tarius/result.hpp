#pragma once
/// Error values and `tarius::result<T>`, the return type of every core function that can fail.
///
/// The core throws no exceptions of its own (STYLE.md §4): failures travel as values, shaped like
/// `std::expected<T, tarius::error>` so the code can move to C++23 without churn.

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "tarius/assert.hpp"

namespace tarius {

/// What kind of failure an `error` is; callers branch on this, humans read `error::message`.
enum class errc : uint8_t {
    INVALID_ARGUMENT,  ///< bad usage: a flag, a mapping document, a configuration value
    IO,                ///< a local file or stream could not be read or written
    CSV_FILE,          ///< the CSV file as a whole is unusable (bad header, unknown compression, ...)
    LIMIT,             ///< a configured limit was exceeded
    DECODE,            ///< compressed input is corrupt
    NETWORK,           ///< connection, timeout or transport failure
    SERVICE,           ///< an AWS service answered with an error
    AUTH,              ///< credentials missing or refused
    NOT_FOUND,         ///< a named resource does not exist
    CONFLICT,          ///< a conditional write lost (another owner, stale version)
    CANCELLED,         ///< stopped on request (signal, deadline)
    INTERNAL,          ///< a bug; should never be seen
};

/// Returns the stable lower-case name of `code`, e.g. "invalid_argument".
const char* errc_name(errc code) noexcept;

/// What an AWS service answered, for errors that come from a service's answer (see aws::classify).
struct service_detail {
    std::string service;   ///< endpoint id of the service: "s3", "dynamodb", "sqs", "sns", "lambda"
    std::string code;      ///< the AWS error code, e.g. "ValidationException"; may be empty
    std::string message;   ///< the service's own message; may be empty
    long http_status = 0;  ///< the HTTP status
};

/// A failure: a code, a human-readable message and whether retrying the same operation may succeed.
struct error {
    errc code = errc::INTERNAL;  ///< the kind of failure
    std::string message;         ///< one line, never containing secrets
    bool retryable = false;      ///< throttling, 5xx and timeouts are retryable; validation and auth are not
    /// Set when a service answered with this error (shared: errors are copied, the detail rarely read).
    std::shared_ptr<const service_detail> service;
};

/// Builds an error; `retryable` defaults to false.
inline error make_error(errc code, std::string message, bool retryable = false) {
    return error{code, std::move(message), retryable, nullptr};
}

/// Either a value of type T or an `error`. `result<void>` carries only success or an error.
template <class T>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
    result(error err) : state_(std::in_place_index<1>, std::move(err)) {}  // NOLINT(google-explicit-constructor)

    /// True when a value is held.
    [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    /// The value. Precondition: has_value().
    T& value() & {
        TARIUS_ASSERT(has_value());
        return std::get<0>(state_);
    }
    const T& value() const& {
        TARIUS_ASSERT(has_value());
        return std::get<0>(state_);
    }
    T&& value() && {
        TARIUS_ASSERT(has_value());
        return std::get<0>(std::move(state_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    /// The error. Precondition: !has_value().
    const error& err() const& {
        TARIUS_ASSERT(!has_value());
        return std::get<1>(state_);
    }
    error&& err() && {
        TARIUS_ASSERT(!has_value());
        return std::get<1>(std::move(state_));
    }

private:
    std::variant<T, error> state_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }

    const error& err() const& {
        TARIUS_ASSERT(!ok_);
        return err_;
    }
    error&& err() && {
        TARIUS_ASSERT(!ok_);
        return std::move(err_);
    }

private:
    error err_;
    bool ok_ = true;
};

/// The success value of `result<void>`.
inline result<void> ok() {
    return {};
}

}  // namespace tarius

/// Evaluates `expr` (a result); on error returns the error from the enclosing function.
#define TARIUS_TRY(expr)                                                     \
    do {                                                                     \
        auto tarius_try_result_ = (expr);                                    \
        if (!tarius_try_result_) return std::move(tarius_try_result_).err(); \
    } while (0)

/// Declares `var` from the value of result `expr`; on error returns the error from the enclosing function.
#define TARIUS_ASSIGN_OR_RETURN(var, expr)                                                                 \
    auto TARIUS_CONCAT_(tarius_r_, __LINE__) = (expr);                                                     \
    if (!TARIUS_CONCAT_(tarius_r_, __LINE__)) return std::move(TARIUS_CONCAT_(tarius_r_, __LINE__)).err(); \
    var = std::move(TARIUS_CONCAT_(tarius_r_, __LINE__)).value()

#define TARIUS_CONCAT_INNER_(a, b) a##b
#define TARIUS_CONCAT_(a, b) TARIUS_CONCAT_INNER_(a, b)
