// Boost.Test entry of the agent's unit tests (launcher, PID 1, request checks, seccomp).
#define BOOST_TEST_MODULE agent_launcher_unit
#include <boost/test/unit_test.hpp>
