// Where runvm's helper programs are: beside this executable, in the build tree, or on PATH.
#pragma once

#include <string>

namespace runvm::config {

// Finds a helper program: beside /proc/self/exe, then <exe dir>/../<build_subdir>/, then
// PATH. Returns `name` itself when nothing matched (execvp reports it).
std::string find_helper(const std::string& name, const std::string& build_subdir);

// A configured program (HelperPaths): its default name is looked for with find_helper, so an
// unconfigured runvm finds the helpers it was built or installed with; anything else is used
// as it is.
std::string helper_program(const std::string& configured, const std::string& default_name,
                           const std::string& build_subdir);

} // namespace runvm::config
