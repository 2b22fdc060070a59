// Fuzz target: arbitrary bytes decoded as each agent request message (the first byte picks
// which), then the checks the handlers run before acting (spec JSON parse + validate +
// launch plan, process JSON, resources JSON, ids, signals). Nothing is executed.
#include <cstddef>
#include <cstdint>

#include "guest_agent/service/request_checks.hpp"

namespace pb = runvm::agent::v1;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const uint8_t which = data[0];
    const auto* body = data + 1;
    const int len = static_cast<int>(size - 1);
    switch (which % 5) {
    case 0: {
        pb::CreateContainerRequest req;
        if (req.ParseFromArray(body, len)) {
            (void)runvm::agent::check_create(req);
        }
        break;
    }
    case 1: {
        pb::ExecProcessRequest req;
        if (req.ParseFromArray(body, len)) {
            (void)runvm::agent::check_exec(req);
        }
        break;
    }
    case 2: {
        pb::UpdateContainerRequest req;
        if (req.ParseFromArray(body, len)) {
            (void)runvm::agent::check_update(req);
        }
        break;
    }
    case 3: {
        pb::SignalProcessRequest req;
        if (req.ParseFromArray(body, len)) {
            (void)runvm::agent::check_id(req.container_id(), "container_id", false);
            (void)runvm::agent::check_id(req.exec_id(), "exec_id", true);
            (void)runvm::agent::check_signal(req.signal());
        }
        break;
    }
    default: {
        // The same bytes as the OCI document itself, through the create checks.
        pb::CreateContainerRequest req;
        req.set_container_id("fuzz");
        req.mutable_rootfs()->set_directory("/rootfs");
        req.set_oci_spec_json(std::string(reinterpret_cast<const char*>(body), size - 1));
        (void)runvm::agent::check_create(req);
        break;
    }
    }
    return 0;
}
