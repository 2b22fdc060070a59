// F(x): a packed struct field as a value, since Boost.Test binds its operands by reference.
#pragma once

#include <type_traits>

#define F(x) (static_cast<std::remove_cvref_t<decltype(x)>>(x))
