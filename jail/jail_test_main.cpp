// Boost.Test entry of the jail library's unit tests.
#define BOOST_TEST_MODULE jail
#include <boost/test/unit_test.hpp>
