// TempDir: mkdtemp and recursive removal.
#include "broker/testing/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace runvm::broker::testing {

Result<TempDir> TempDir::create(const std::string& prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != 0 ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back(0);
    if (::mkdtemp(buf.data()) == nullptr) {
        return Err(Error::from_errno("mkdtemp " + pattern));
    }
    return TempDir(buf.data());
}

TempDir::~TempDir() {
    if (!path_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
}

} // namespace runvm::broker::testing
