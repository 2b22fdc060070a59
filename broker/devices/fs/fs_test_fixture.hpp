// FsFixture: a share directory inside a private temp dir (with a canary file beside the
// share, outside it) and an initialised FuseTestClient on it.
#pragma once

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>

#include "broker/devices/fs/fs_test_client.hpp"
#include "broker/testing/require_ok.hpp"
#include "broker/testing/temp_dir.hpp"

namespace runvm::broker::fs::testing {

inline constexpr uint64_t ROOT = FUSE_ROOT_ID;

inline void write_host_file(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

inline std::string read_host_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct FsFixture {
    runvm::broker::testing::TempDir dir =
        runvm::broker::testing::TempDir::create("runvm-fs-test").value();
    std::string share = dir.file("share");
    std::string canary = dir.file("canary");
    std::unique_ptr<FuseTestClient> c;

    explicit FsFixture(CacheMode cache = CacheMode::auto_, bool read_only = false,
                       const std::function<void(FsOptions&)>& adjust = {}) {
        BOOST_REQUIRE(::mkdir(share.c_str(), 0755) == 0);
        write_host_file(canary, "outside the share");
        FsOptions o;
        o.shared_dir = share;
        o.tag = "test";
        o.cache = cache;
        o.read_only = read_only;
        if (adjust) {
            adjust(o);
        }
        auto client = FuseTestClient::create(o);
        REQUIRE_OK(client);
        c = std::move(*client);
        BOOST_REQUIRE_EQUAL(c->init().error, 0);
    }
    std::string in_share(const std::string& rel) const { return share + "/" + rel; }
    uint64_t node(uint64_t parent, const std::string& name) {
        auto a = c->lookup(parent, name);
        BOOST_REQUIRE_EQUAL(a.error, 0);
        return a.as<fuse_entry_out>().nodeid;
    }
};

} // namespace runvm::broker::fs::testing
