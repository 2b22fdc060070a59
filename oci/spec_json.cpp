// config.json parsing and serialization through the field lists in oci/spec_fields.hpp.
#include "oci/spec_json.hpp"

#include "base/io.hpp"
#include "oci/spec_fields.hpp"

namespace runvm::oci {

Result<Spec> spec_from_json(const nlohmann::json& j) {
    Spec spec;
    RUNVM_TRY(read_value(j, "", spec));
    return spec;
}

Result<Spec> parse_spec(std::string_view json_text) {
    RUNVM_ASSIGN_OR_RETURN(auto j, parse_json_text(json_text));
    return spec_from_json(j);
}

Result<Spec> load_spec(const std::string& path) {
    auto text = read_file(path);
    if (!text) {
        return Err(std::move(text).error());
    }
    auto spec = parse_spec(*text);
    if (!spec) {
        return Err(std::move(spec).error().context(path));
    }
    return spec;
}

nlohmann::json spec_to_json(const Spec& spec) {
    return to_json_value(spec);
}

std::string serialize_spec(const Spec& spec) {
    return dump_json(spec_to_json(spec), 4) + "\n";
}

} // namespace runvm::oci
