// runvm ps: the guest's processes in ps -ef's columns; --format json: the host pids that
// stand for the container (what runc lists and `docker top` looks up; docs/cli.md).
#include <ctime>
#include <iostream>
#include <memory>

#include "shim/cli/ps_table.hpp"
#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct PsArgs {
    std::string id;
    std::string format = "table";
    std::vector<std::string> ps_args; // what followed the id
};
} // namespace

Runner setup_ps(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<PsArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_option("-f,--format", a->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    // runc takes `ps ID -ef`: what follows the id is ps's, options included.
    // Options among them (-ef) are CLI11's extras; words and what follows "--" are positional.
    sub.add_option("ps-args", a->ps_args, "the table's columns: -ef (default), -e, -A");
    sub.allow_extras();
    return [a, &g, &sub] {
        std::vector<std::string> ps_args = sub.remaining();
        std::erase(ps_args, "--");
        ps_args.insert(ps_args.end(), a->ps_args.begin(), a->ps_args.end());
        auto columns = ps_columns(ps_args);
        if (!columns && a->format == "table") {
            return fail(columns.error().message());
        }
        auto r = shim::monitor_request(g.root, a->id, {{"op", "ps"}});
        if (!r) {
            return fail(r.error().str());
        }
        if (a->format == "json") {
            std::cout << r->value("host_pids", nlohmann::json::array()).dump() << "\n";
            return 0;
        }
        std::vector<PsRow> rows;
        for (const auto& p : r->value("processes", nlohmann::json::array())) {
            rows.push_back(PsRow::from_json(p));
        }
        std::cout << ps_table(std::move(rows), *columns, std::time(nullptr));
        return 0;
    };
}

} // namespace runvm::cli
