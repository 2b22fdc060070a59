// Fuzzes config.yaml parsing with arbitrary bytes (accepted values must be within their
// ranges), and the live annotation parser, apply_annotations over annotations.cpp's table, with
// arbitrary values: refused by default, and with every key enabled never beyond the ceilings
// nor outside the allowed directory (which holds a symlink out, a directory and a file).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "shim/config/annotations.hpp"
#include "shim/config/runtime_config.hpp"

namespace {

using runvm::config::RuntimeConfig;

bool in_range(const RuntimeConfig& c) {
    auto absolute_or_empty = [](const std::string& p) { return p.empty() || p.front() == '/'; };
    return c.vcpus >= 1 && c.vcpus <= 255 && c.memory_mib >= 64 && c.memory_mib <= 1048576 &&
           absolute_or_empty(c.kernel) && absolute_or_empty(c.initrd);
}

// The allowed directory, made once: "kernel" (a file), "sub/" and "sub/up" (a symlink to the
// file), "out" (a symlink to /etc/passwd).
const std::string& allowed_dir() {
    static const std::string dir = [] {
        char name[] = "/tmp/runvm-fuzz-allowed-XXXXXX";
        std::string d = ::mkdtemp(name);
        std::ofstream(d + "/kernel") << "k";
        std::filesystem::create_directory(d + "/sub");
        std::filesystem::create_symlink("../kernel", d + "/sub/up");
        std::filesystem::create_symlink("/etc/passwd", d + "/out");
        return d;
    }();
    return dir;
}

RuntimeConfig permissive() {
    RuntimeConfig c;
    for (const auto& key : runvm::config::annotation_keys()) {
        c.annotations.enabled.emplace_back(key.key);
    }
    c.annotations.allowed_paths = {allowed_dir()};
    c.max_vcpus = 16;
    c.max_memory_mib = 65536;
    return c;
}

bool confined(const RuntimeConfig& base, const RuntimeConfig& c) {
    auto inside = [&](const std::string& path, const std::string& before) {
        return path == before || path.rfind(allowed_dir() + "/", 0) == 0;
    };
    return in_range(c) && c.vcpus <= base.max_vcpus && c.memory_mib <= base.max_memory_mib &&
           inside(c.kernel, base.kernel) && inside(c.initrd, base.initrd) &&
           c.kernel.find("/etc/passwd") == std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto config = runvm::config::parse_runtime_config(text, "fuzz.yaml");
    if (config.ok() &&
        (!in_range(*config) || config->state_root.empty() || config->state_root.front() != '/')) {
        __builtin_trap();
    }
    static const RuntimeConfig open_policy = permissive();
    const std::string value(text.substr(0, 128));
    // Relative to the allowed directory too, so the resolver sees "..", symlinks and the like.
    const std::string path = allowed_dir() + "/" + value;
    for (const auto& key : runvm::config::annotation_keys()) {
        const std::string name(key.key);
        if (runvm::config::apply_annotations(RuntimeConfig{}, {{name, value}}).ok()) {
            __builtin_trap(); // nothing is enabled by default
        }
        for (const std::string& v : {value, path}) {
            auto overridden = runvm::config::apply_annotations(open_policy, {{name, v}});
            if (overridden.ok() && !confined(open_policy, *overridden)) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
