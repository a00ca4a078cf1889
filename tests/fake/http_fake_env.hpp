#pragma once
/// GoogleTest glue for the HTTP fake: a global environment that owns one started server.
/// Header-only so tests/fake stays free of a GoogleTest link dependency (tools link the fakes too).

#include <gtest/gtest.h>

#include "fake/http_fake.hpp"

namespace tarius::fake {

/// A GoogleTest environment owning one http_fake, started before the first test and stopped after the last.
/// Register it in a test file with `::testing::AddGlobalTestEnvironment(new http_fake_environment())` and reach
/// the server through `http_fake_environment::server()`.
class http_fake_environment : public ::testing::Environment {
public:
    /// Registers itself as the process's instance.
    http_fake_environment() { instance() = this; }

    /// Starts the server; a failure fails every test.
    void SetUp() override {
        auto started = server_.start();
        ASSERT_TRUE(started.has_value()) << started.err().message;
    }
    /// Stops the server and joins its threads.
    void TearDown() override { server_.stop(); }

    /// The server of the registered environment. Precondition: an environment was registered.
    static http_fake& server() { return instance()->server_; }

private:
    static http_fake_environment*& instance() {
        static http_fake_environment* current = nullptr;
        return current;
    }
    http_fake server_;
};

}  // namespace tarius::fake
