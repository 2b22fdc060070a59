// Boost.Test entry of the container library's unit tests.
#define BOOST_TEST_MODULE container
#include <boost/test/unit_test.hpp>
