// Boost.Test entry point shared by the VMM's unit test binaries.
#define BOOST_TEST_MODULE runvm_vmm
#include <boost/test/unit_test.hpp>
