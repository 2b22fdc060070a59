// Path-naming JSON reads: text parsing with limits, type errors, member bookkeeping.
#include "oci/json_reader.hpp"

#include <algorithm>

namespace runvm::oci {
namespace {

struct TooDeep {};

// nlohmann's messages start with "[json.exception.parse_error.101] "; the id helps nobody.
std::string without_exception_id(const char* what) {
    std::string_view s(what);
    if (!s.empty() && s.front() == '[') {
        if (const auto end = s.find("] "); end != std::string_view::npos) {
            s.remove_prefix(end + 2);
        }
    }
    return std::string(s);
}

} // namespace

Result<Json> parse_json_text(std::string_view text) {
    const Json::parser_callback_t limits = [](int depth, Json::parse_event_t, Json&) {
        if (depth > static_cast<int>(kMaxJsonDepth)) {
            throw TooDeep{};
        }
        return true;
    };
    try {
        return Json::parse(text.begin(), text.end(), limits);
    } catch (const TooDeep&) {
        return Err(Error::msg("invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) +
                              " levels"));
    } catch (const Json::exception& e) {
        return Err(Error::msg("invalid JSON: " + without_exception_id(e.what())));
    }
}

std::string dump_json(const Json& j, int indent) {
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string json_type_name(const Json& j) {
    if (j.is_number_float()) {
        return "fractional number";
    }
    if (j.is_number_integer() && !j.is_number_unsigned()) {
        return "negative integer";
    }
    return j.type_name();
}

Error type_error(const std::string& path, std::string_view want, const Json& got) {
    return Error::msg(path + ": expected " + std::string(want) + ", got " + json_type_name(got));
}

std::string member_path(const std::string& parent, std::string_view key) {
    if (parent.empty()) {
        return std::string(key);
    }
    return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

std::string map_entry_path(const std::string& parent, std::string_view key) {
    return parent + "[" + dump_json(Json(std::string(key))) + "]";
}

Result<void> read_value(const Json& j, const std::string& path, bool& out) {
    if (!j.is_boolean()) {
        return Err(type_error(path, "a boolean", j));
    }
    out = j.get<bool>();
    return Ok();
}

Result<void> read_value(const Json& j, const std::string& path, std::string& out) {
    if (!j.is_string()) {
        return Err(type_error(path, "a string", j));
    }
    out = j.get<std::string>();
    return Ok();
}

Result<ObjectReader> ObjectReader::open(const Json& j, std::string path) {
    if (!j.is_object()) {
        return Err(type_error(path.empty() ? "(top level)" : path, "an object", j));
    }
    return ObjectReader(&j, std::move(path));
}

const Json* ObjectReader::take(std::string_view key) {
    read_keys_.emplace_back(key);
    const auto it = j_->find(key);
    if (it == j_->end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

Json ObjectReader::extra() const {
    Json out;
    for (const auto& [key, value] : j_->items()) {
        if (std::find(read_keys_.begin(), read_keys_.end(), key) == read_keys_.end()) {
            out[key] = value;
        }
    }
    return out;
}

Json object_with_extra(const Json& extra) {
    return extra.is_object() ? extra : Json::object();
}

} // namespace runvm::oci
