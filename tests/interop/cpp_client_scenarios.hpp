// The interop scenarios the C++ client runs against a ttRPC server of runvm.interop.v1.Echo;
// the Go client runs the same list (go/src/runvm.dev/interop/cmd/interop-go-client).
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "rpc/client.hpp"

namespace runvm::interop {

struct Scenario {
    const char* name;
    Result<void> (*run)(rpc::Client& client);
};

const std::vector<Scenario>& client_scenarios();

} // namespace runvm::interop
