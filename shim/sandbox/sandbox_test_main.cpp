// Boost.Test entry of the sandbox library's unit tests.
#define BOOST_TEST_MODULE sandbox
#include <boost/test/unit_test.hpp>
