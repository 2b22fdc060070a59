// Socket naming of containerd's shim library.
#include "shim/containerd/shim_address.hpp"

#include <vector>

#include <openssl/evp.h>

namespace runvm::containerd {

std::string go_path_join(const std::string& a, const std::string& b, const std::string& c) {
    std::string joined;
    for (const std::string* part : {&a, &b, &c}) {
        if (part->empty()) {
            continue;
        }
        if (!joined.empty()) {
            joined += '/';
        }
        joined += *part;
    }
    if (joined.empty()) {
        return "";
    }
    const bool rooted = joined[0] == '/';
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= joined.size()) {
        size_t next = joined.find('/', pos);
        if (next == std::string::npos) {
            next = joined.size();
        }
        const std::string elem = joined.substr(pos, next - pos);
        if (elem == "..") {
            if (!out.empty() && out.back() != "..") {
                out.pop_back();
            } else if (!rooted) {
                out.push_back(elem);
            }
        } else if (!elem.empty() && elem != ".") {
            out.push_back(elem);
        }
        pos = next + 1;
    }
    std::string clean = rooted ? "/" : "";
    for (size_t i = 0; i < out.size(); ++i) {
        clean += (i ? "/" : "") + out[i];
    }
    return clean.empty() ? "." : clean;
}

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

std::string socket_address(const std::string& containerd_address, const std::string& ns,
                           const std::string& group, const std::string& state_dir) {
    return "unix://" + state_dir + "/s/" + sha256_hex(go_path_join(containerd_address, ns, group));
}

Result<std::string> socket_path(const std::string& address) {
    const std::string scheme = "unix://";
    if (address.rfind(scheme, 0) != 0) {
        return Err(Error::with_errno(EINVAL, "shim address " + address + " is not unix://"));
    }
    std::string path = address.substr(scheme.size());
    if (path.empty() || path.size() > 107) {
        return Err(Error::with_errno(ENAMETOOLONG, "shim socket path '" + path + "'"));
    }
    return path;
}

} // namespace runvm::containerd
