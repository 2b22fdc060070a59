// Shared pieces of the validators: the problem list and rules used by several sections.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/spec.hpp"

namespace runvm::oci {

class Problems {
public:
    void add(const std::string& path, const std::string& rule) {
        list_.push_back(path + ": " + rule);
    }
    std::vector<std::string>& list() { return list_; }

private:
    std::vector<std::string> list_;
};

std::string json_quoted(std::string_view s); // as a JSON string, so control bytes stay readable

bool is_absolute(const std::string& path);

void check_absolute(Problems& p, const std::string& path, const std::string& value);
void check_id_mappings(Problems& p, const std::string& path,
                       const std::optional<std::vector<IdMapping>>& mappings);

bool has_namespace(const Spec& spec, std::string_view type);

void check_linux(Problems& p, const Spec& spec);
void check_resources(Problems& p, const Resources& resources);

} // namespace runvm::oci
