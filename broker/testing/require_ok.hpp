// REQUIRE_OK(result): a Boost.Test requirement that prints the Error when a Result failed.
#pragma once

#include <string>

#define REQUIRE_OK(r)                                                                              \
    BOOST_REQUIRE_MESSAGE((r).ok(), ((r).ok() ? std::string() : (r).error().str()))
