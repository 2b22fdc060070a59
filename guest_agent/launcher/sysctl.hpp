// linux.sysctl, hostname and domainname: the container's kernel-visible identity.
#pragma once

#include <map>
#include <string>

#include "base/result.hpp"

namespace runvm::agent {

// Writes each key ("net.ipv4.ip_forward") to /proc/sys/net/ipv4/ip_forward.
Result<void> apply_sysctl(const std::map<std::string, std::string>& values);

Result<void> set_hostname(const std::string& name);
Result<void> set_domainname(const std::string& name);

} // namespace runvm::agent
