// Helpers of the hypervisor tests: a scratch directory, a VmConfig in it, argv lookups.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "shim/hypervisor/vm_config.hpp"

namespace runvm::shim::testing {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/runvm-hv-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string file(const std::string& name, const std::string& text = "x") const {
        std::ofstream(path + "/" + name) << text;
        return path + "/" + name;
    }
};

inline VmConfig config_in(const TempDir& d) {
    VmConfig c;
    c.settings.kernel = d.file("vmlinuz");
    c.settings.initrd = d.file("initrd");
    c.vsock_socket = d.path + "/vsock.sock";
    c.blk_socket = d.path + "/blk.sock";
    c.console_log = d.path + "/console.log";
    c.work_dir = d.path;
    c.settings.memory_mib = 192;
    c.settings.vcpus = 2;
    c.settings.kernel_cmdline = "runvm.debug=1";
    c.settings.jail = false; // the jailed command lines have their own cases
    return c;
}

inline bool has(const std::vector<std::string>& argv, const std::string& s) {
    return std::find(argv.begin(), argv.end(), s) != argv.end();
}

inline std::string after(const std::vector<std::string>& argv, const std::string& flag) {
    auto it = std::find(argv.begin(), argv.end(), flag);
    return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

} // namespace runvm::shim::testing
