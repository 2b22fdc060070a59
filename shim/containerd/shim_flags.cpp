// Go-flag-compatible parsing of the shim's arguments.
#include "shim/containerd/shim_flags.hpp"

#include <cstdlib>
#include <map>
#include <optional>

namespace runvm::containerd {

namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

} // namespace

Result<ShimFlags> parse_shim_flags(const std::vector<std::string>& args) {
    ShimFlags f;
    const std::map<std::string, std::string*> strings = {
        {"namespace", &f.namespace_name},      {"id", &f.id},         {"address", &f.address},
        {"publish-binary", &f.publish_binary}, {"bundle", &f.bundle}, {"socket", &f.socket}};
    const std::map<std::string, bool*> bools = {{"debug", &f.debug}, {"v", &f.version}};
    size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() < 2 || a[0] != '-') {
            break; // the first non-flag is the action (Go's flag.Arg(0))
        }
        std::string name = a.substr(a[1] == '-' ? 2 : 1);
        std::optional<std::string> value;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        }
        if (auto b = bools.find(name); b != bools.end()) {
            if (!value || *value == "true" || *value == "1") {
                *b->second = true;
            } else if (*value == "false" || *value == "0") {
                *b->second = false;
            } else {
                return Err(
                    Error::with_errno(EINVAL, "flag -" + name + ": bad boolean '" + *value + "'"));
            }
            continue;
        }
        auto s = strings.find(name);
        if (s == strings.end()) {
            return Err(Error::with_errno(EINVAL, "flag provided but not defined: -" + name));
        }
        if (!value) {
            if (i + 1 >= args.size()) {
                return Err(Error::with_errno(EINVAL, "flag needs an argument: -" + name));
            }
            value = args[++i];
        }
        *s->second = *value;
    }
    if (i < args.size()) {
        f.action = args[i];
    }
    f.ttrpc_address = env_or_empty("TTRPC_ADDRESS");
    f.grpc_address = env_or_empty("GRPC_ADDRESS");
    if (f.namespace_name.empty()) {
        f.namespace_name = env_or_empty("NAMESPACE");
    }
    if (f.address.empty()) {
        f.address = f.grpc_address;
    }
    if (f.version) {
        return f;
    }
    if (f.namespace_name.empty()) {
        return Err(Error::with_errno(EINVAL, "shim namespace cannot be empty"));
    }
    if (!f.action.empty() && f.action != "start" && f.action != "delete") {
        return Err(Error::with_errno(EINVAL, "unknown action '" + f.action + "'"));
    }
    return f;
}

std::vector<std::string> daemon_args(const std::string& self, const ShimFlags& flags) {
    std::vector<std::string> argv = {self,     "-namespace", flags.namespace_name, "-id",
                                     flags.id, "-address",   flags.address};
    if (!flags.publish_binary.empty()) {
        argv.insert(argv.end(), {"-publish-binary", flags.publish_binary});
    }
    if (flags.debug) {
        argv.push_back("-debug");
    }
    return argv;
}

} // namespace runvm::containerd
