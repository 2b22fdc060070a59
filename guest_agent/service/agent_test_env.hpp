// What the agent_service_test cases share: the host-mode agent behind a real ttRPC server,
// stdio listeners and request builders (defined in agent_service_test.cpp).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/unique_fd.hpp"
#include "guest_agent/service/agent_service.hpp"
#include "rpc/client.hpp"

namespace agent_test {

using namespace runvm;
using namespace runvm::agent;
namespace pb = runvm::agent::v1;

struct Env {
    std::string dir, rootfs;
    std::string cgroup;        // our cgroup2 mount, empty: none
    std::string cgroup_parent; // the agent's subtree in it
    std::unique_ptr<Reaper> reaper;
    std::unique_ptr<AgentService> service;
    std::unique_ptr<rpc::Server> server;
    std::unique_ptr<rpc::Client> client;
};
Env& env();

rpc::Status call(const char* method, const google::protobuf::MessageLite& req,
                 google::protobuf::MessageLite* resp);

// A listener per stdio port, as the host side (broker or test) provides them.
struct StreamListener {
    UniqueFd listen;
    explicit StreamListener(uint32_t port);
    UniqueFd accept() const;
};

std::string read_all(int fd);
// Reads `fd` until `needle` shows up (true) or 10 s pass or EOF (false); appends to `text`.
bool read_until(int fd, const std::string& needle, std::string& text);

// A busybox container running `sh -c script` (mount, pid, uts, ipc namespaces).
std::string spec_json(const std::string& script);
pb::CreateContainerRequest create_request(const std::string& id, const std::string& script,
                                          uint32_t in, uint32_t out, uint32_t err);
uint32_t wait_status(const std::string& id, const std::string& exec_id);

} // namespace agent_test
