// Boost.Test entry point of containerd_shim_test; the process-wide reaper starts first.
#define BOOST_TEST_MODULE containerd_shim
#include <boost/test/unit_test.hpp>

#include "shim/containerd/test_reaper.hpp"

namespace runvm::containerd::test {

namespace {
std::unique_ptr<Reaper>& reaper_slot() {
    static std::unique_ptr<Reaper> r;
    return r;
}

struct ReaperFixture {
    ReaperFixture() {
        auto r = Reaper::start();
        if (r) {
            reaper_slot() = std::move(*r);
        }
    }
    ~ReaperFixture() { reaper_slot().reset(); }
};
} // namespace

Reaper& reaper() {
    return *reaper_slot();
}

BOOST_TEST_GLOBAL_FIXTURE(ReaperFixture);

} // namespace runvm::containerd::test
