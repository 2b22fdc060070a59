// Boost.Test entry of the jail's user namespace and idmapped mount tests.
#define BOOST_TEST_MODULE jail_ns
#include <boost/test/unit_test.hpp>
