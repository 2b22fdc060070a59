// config.yaml parsing with yaml-cpp: every key is known, every value checked, every error
// carries the file, line and key.
#include "shim/config/runtime_config.hpp"

#include <cerrno>
#include <set>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/io.hpp"
#include "shim/config/annotations.hpp"
#include "shim/config/config_values.hpp"

namespace runvm::config {
namespace {

using Apply = Result<void> (*)(std::string_view value, RuntimeConfig& config);

struct Key {
    std::string_view name; // dotted: "paths.broker"
    Apply apply;
};

Result<std::string> optional_path(std::string_view value) {
    if (value.empty()) {
        return std::string();
    }
    return parse_absolute_path(value);
}

// A bare name is looked up in $PATH by whoever runs it; anything with a slash must be absolute.
Result<std::string> program(std::string_view value) {
    if (value.empty() || value.find('\0') != std::string_view::npos ||
        (value.find('/') != std::string_view::npos && value.front() != '/')) {
        return Err(Error::msg("must be a program name or an absolute path"));
    }
    return std::string(value);
}

template <typename T, typename Parse>
Result<void> assign(T& field, Parse parse, std::string_view value) {
    RUNVM_ASSIGN_OR_RETURN(field, parse(value));
    return Ok();
}

const std::vector<Key> kKeys = {
    {"hypervisor", [](std::string_view v,
                      RuntimeConfig& c) { return assign(c.hypervisor, parse_hypervisor, v); }},
    {"kernel",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.kernel, optional_path, v); }},
    {"initrd",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.initrd, optional_path, v); }},
    {"vcpus", [](std::string_view v, RuntimeConfig& c) { return assign(c.vcpus, parse_vcpus, v); }},
    {"memory_mib", [](std::string_view v,
                      RuntimeConfig& c) { return assign(c.memory_mib, parse_memory_mib, v); }},
    {"max_vcpus",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.max_vcpus, parse_max_vcpus, v); }},
    {"max_memory_mib",
     [](std::string_view v, RuntimeConfig& c) {
         return assign(c.max_memory_mib, parse_max_memory_mib, v);
     }},
    {"vm_overhead_mib",
     [](std::string_view v, RuntimeConfig& c) {
         return assign(c.vm_overhead_mib, parse_overhead_mib, v);
     }},
    {"tcg_tb_size_mib",
     [](std::string_view v, RuntimeConfig& c) {
         return assign(c.tcg_tb_size_mib, parse_tb_size_mib, v);
     }},
    {"log_max_kib", [](std::string_view v,
                       RuntimeConfig& c) { return assign(c.log_max_kib, parse_log_max_kib, v); }},
    {"rootfs",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.rootfs, parse_rootfs_mode, v); }},
    {"template", [](std::string_view v,
                    RuntimeConfig& c) { return assign(c.template_mode, parse_template_mode, v); }},
    {"pool_size",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.pool_size, parse_pool_size, v); }},
    {"pool_idle_seconds",
     [](std::string_view v, RuntimeConfig& c) {
         return assign(c.pool_idle_seconds, parse_pool_idle_seconds, v);
     }},
    {"template_dir",
     [](std::string_view v, RuntimeConfig& c) {
         return assign(c.template_dir, parse_absolute_path, v);
     }},
    {"log_level",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.log_level, parse_log_level, v); }},
    {"log_format", [](std::string_view v,
                      RuntimeConfig& c) { return assign(c.log_format, parse_log_format, v); }},
    {"log_file",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.log_file, optional_path, v); }},
    {"state_root", [](std::string_view v,
                      RuntimeConfig& c) { return assign(c.state_root, parse_absolute_path, v); }},
    {"paths.broker",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.paths.broker, program, v); }},
    {"paths.vmm",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.paths.vmm, program, v); }},
    {"paths.qemu",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.paths.qemu, program, v); }},
    {"jail", [](std::string_view v, RuntimeConfig& c) { return assign(c.jail, parse_switch, v); }},
    {"jail_user",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.jail_user, parse_user_name, v); }},
    {"jail_vm_ids",
     [](std::string_view v, RuntimeConfig& c) { return assign(c.jail_vm_ids, parse_id_range, v); }},
};

// Keys whose value is a list; each item is checked and added.
struct ListKey {
    std::string_view name;
    Apply add;
};

Result<std::string> annotation_key(std::string_view value) {
    if (find_annotation_key(value) == nullptr) {
        return Err(Error::msg("unknown annotation \"" + std::string(value) +
                              "\" (`runvm features` lists the known ones)"));
    }
    return std::string(value);
}

const std::vector<ListKey> kListKeys = {
    {"annotations.enable",
     [](std::string_view v, RuntimeConfig& c) -> Result<void> {
         RUNVM_ASSIGN_OR_RETURN(auto key, annotation_key(v));
         c.annotations.enabled.push_back(std::move(key));
         return Ok();
     }},
    {"annotations.paths",
     [](std::string_view v, RuntimeConfig& c) -> Result<void> {
         RUNVM_ASSIGN_OR_RETURN(auto dir, parse_absolute_path(v));
         c.annotations.allowed_paths.push_back(std::move(dir));
         return Ok();
     }},
};

// The sections that are mappings of their own.
constexpr std::string_view kSections[] = {"paths", "annotations"};

class Reader {
public:
    Reader(const std::string& source, RuntimeConfig& config) : source_(source), config_(config) {}

    Result<void> read_mapping(const YAML::Node& map, const std::string& prefix) {
        std::set<std::string> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            // Copies: the iterator's pair is a temporary, a reference into it would dangle.
            const YAML::Node key_node = it->first;
            const YAML::Node value = it->second;
            if (!key_node.IsScalar()) {
                return Err(error_at(key_node, prefix.empty() ? "(top level)" : prefix,
                                    "keys must be plain names"));
            }
            const std::string key = prefix + key_node.Scalar();
            if (!seen.insert(key).second) {
                return Err(error_at(key_node, key, "duplicate key"));
            }
            RUNVM_TRY(read_member(key_node, key, value));
        }
        return Ok();
    }

private:
    Result<void> read_member(const YAML::Node& key_node, const std::string& key,
                             const YAML::Node& value) {
        for (const auto section : kSections) {
            if (key == section) {
                if (!value.IsMap()) {
                    return Err(error_at(value, key, "must be a mapping of keys"));
                }
                return read_mapping(value, key + ".");
            }
        }
        for (const ListKey& known : kListKeys) {
            if (known.name != key) {
                continue;
            }
            if (!value.IsSequence()) {
                return Err(
                    error_at(value, key, "must be a list ([a, b] or one \"- item\" a line)"));
            }
            for (const YAML::Node& item : value) {
                if (!item.IsScalar()) {
                    return Err(error_at(item, key, "items must be single values"));
                }
                if (auto r = known.add(item.Scalar(), config_); !r) {
                    return Err(error_at(item, key, r.error().message()));
                }
            }
            return Ok();
        }
        for (const Key& known : kKeys) {
            if (known.name != key) {
                continue;
            }
            if (value.IsNull()) {
                return Err(error_at(key_node, key, "has no value"));
            }
            if (!value.IsScalar()) {
                return Err(error_at(value, key, "must be a single value"));
            }
            if (auto r = known.apply(value.Scalar(), config_); !r) {
                return Err(error_at(value, key, r.error().message()));
            }
            return Ok();
        }
        return Err(error_at(key_node, key, "unknown key"));
    }

    Error error_at(const YAML::Node& node, const std::string& key, const std::string& rule) const {
        const YAML::Mark mark = node.Mark();
        std::string where = source_;
        if (!mark.is_null()) {
            where += ":" + std::to_string(mark.line + 1);
        }
        return Error::with_errno(EINVAL, where + ": " + key + ": " + rule);
    }

    const std::string& source_;
    RuntimeConfig& config_;
};

} // namespace

Result<RuntimeConfig> parse_runtime_config(std::string_view yaml_text, const std::string& source) {
    RuntimeConfig config;
    try {
        const YAML::Node root = YAML::Load(std::string(yaml_text));
        if (root.IsNull()) {
            return config; // an empty file, or one with only comments
        }
        if (!root.IsMap()) {
            return Err(Error::with_errno(EINVAL, source + ":" +
                                                     std::to_string(root.Mark().line + 1) +
                                                     ": must be a mapping of keys"));
        }
        Reader reader(source, config);
        RUNVM_TRY(reader.read_mapping(root, ""));
    } catch (const YAML::Exception& e) {
        return Err(Error::with_errno(EINVAL, source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                                 std::to_string(e.mark.column + 1) + ": " + e.msg));
    }
    return config;
}

Result<RuntimeConfig> load_runtime_config(const std::string& path) {
    auto text = read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT) {
            return RuntimeConfig{};
        }
        return Err(std::move(text).error());
    }
    return parse_runtime_config(*text, path);
}

} // namespace runvm::config
