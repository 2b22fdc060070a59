// Helpers for the sandbox tests: a scratch directory and a tiny Unix-socket peer.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace runvm::shim::testing {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/runvm-sbx-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        const std::string cmd = "rm -rf '" + path + "'";
        [[maybe_unused]] int rc = std::system(cmd.c_str());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string write(const std::string& name, const std::string& text, int mode = 0644) const {
        const std::string p = path + "/" + name;
        std::ofstream(p) << text;
        ::chmod(p.c_str(), static_cast<mode_t>(mode));
        return p;
    }
};

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace runvm::shim::testing
