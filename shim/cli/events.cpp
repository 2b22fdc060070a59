// runvm events: the container's stats as runc prints them ({"type":"stats",...}), once
// with --stats, else every --interval (a Go duration, 5s by default) until it stops.
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "shim/cli/runc_flags.hpp"
#include "shim/cli/verb.hpp"
#include "shim/container/container_ops.hpp"

namespace runvm::cli {

namespace {
struct EventsArgs {
    std::string id;
    bool stats = false;
    std::string interval = "5s";
};

// The guest's cgroup v2 figures in runc's types.Stats shape (libcontainer/cgroups).
// memory.usage.limit is memory.max, or the VM's memory when that is smaller or "max".
nlohmann::json runc_stats(const std::string& id, const nlohmann::json& s) {
    return {
        {"type", "stats"},
        {"id", id},
        {"data",
         {{"cpu",
           {{"usage",
             {{"total", s.value("cpu_usage_usec", 0ull) * 1000},
              {"user", s.value("cpu_user_usec", 0ull) * 1000},
              {"kernel", s.value("cpu_system_usec", 0ull) * 1000}}}}},
          {"memory",
           {{"usage",
             {{"usage", s.value("memory_current_bytes", 0ull)},
              {"limit", s.value("memory_limit_bytes", 0ull)}}}}},
          {"pids",
           {{"current", s.value("pids_current", 0ull)}, {"limit", s.value("pids_limit", 0ull)}}},
          {"blkio",
           {{"ioServiceBytesRecursive",
             {{{"op", "Read"}, {"value", s.value("io_read_bytes", 0ull)}},
              {{"op", "Write"}, {"value", s.value("io_write_bytes", 0ull)}}}}}}}}};
}
} // namespace

Runner setup_events(CLI::App& sub, const GlobalOptions& g) {
    auto a = std::make_shared<EventsArgs>();
    sub.add_option("container-id", a->id, "container id")->required();
    sub.add_flag("--stats", a->stats, "print the stats once and exit");
    sub.add_option("--interval", a->interval, "time between stats (Go duration: 1s, 500ms)");
    return [a, &g] {
        auto interval = parse_go_duration(a->interval);
        if (!interval) {
            return fail("invalid value for --interval: " + interval.error().message());
        }
        if (interval->count() <= 0) { // runc refuses these too
            return fail("invalid value for --interval: duration must be greater than 0");
        }
        for (;;) {
            auto r = shim::monitor_request(g.root, a->id, {{"op", "stats"}});
            if (!r) {
                return a->stats ? fail(r.error().str()) : 0;
            }
            std::cout << runc_stats(a->id, *r).dump() << std::endl;
            if (a->stats) {
                return 0;
            }
            std::this_thread::sleep_for(*interval);
        }
    };
}

} // namespace runvm::cli
