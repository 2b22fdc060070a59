// runvm list: every container under --root (table or json, like runc list).
#include <cstdio>
#include <iostream>
#include <memory>

#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"
#include "shim/container/container_store.hpp"
#include "shim/container/vm_pool.hpp"

namespace runvm::cli {

namespace {
struct ListArgs {
    std::string format = "table";
    bool quiet = false;
};
} // namespace

Runner setup_list(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<ListArgs>();
    sub.add_option("-f,--format", a->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    sub.add_flag("-q,--quiet", a->quiet, "ids only");
    return [a, &g] {
        auto ids = shim::ContainerStore(g.root).list();
        if (!ids) {
            return fail(ids.error().str());
        }
        nlohmann::json all = nlohmann::json::array();
        for (const auto& id : *ids) {
            if (shim::is_pool_vm_id(id)) {
                continue; // `runvm template list` shows them
            }
            if (auto st = shim::container_state(g.root, id)) {
                st->erase("runvm");
                all.push_back(*st);
            }
        }
        if (a->quiet) {
            for (const auto& c : all) {
                std::printf("%s\n", c["id"].get<std::string>().c_str());
            }
        } else if (a->format == "json") {
            std::cout << (all.empty() ? "null" : all.dump()) << "\n";
        } else {
            std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE",
                        "CREATED", "OWNER");
            for (const auto& c : all) {
                std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", c["id"].get<std::string>().c_str(),
                            c["pid"].get<int>(), c["status"].get<std::string>().c_str(),
                            c["bundle"].get<std::string>().c_str(),
                            c["created"].get<std::string>().c_str(), "root");
            }
        }
        return 0;
    };
}

} // namespace runvm::cli
