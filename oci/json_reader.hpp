// Typed reads out of nlohmann::json whose errors name the JSON path ("process.user.uid: ...").
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

namespace runvm::oci {

using Json = nlohmann::json;

// Nesting beyond this is refused: dump, copy and compare of nlohmann::json recurse.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses JSON text, refusing nesting deeper than kMaxJsonDepth.
Result<Json> parse_json_text(std::string_view text);

// Serializes like nlohmann's dump(), but writes invalid UTF-8 as U+FFFD instead of throwing (as
// Go's encoding/json does): strings set by C++ callers, such as paths from argv, may hold any
// bytes.
std::string dump_json(const Json& j, int indent = -1);

// "string", "number", "object", ... as a reader of an error message would say it.
std::string json_type_name(const Json& j);

Error type_error(const std::string& path, std::string_view want, const Json& got);

std::string member_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, size_t index);
std::string map_entry_path(const std::string& parent, std::string_view key);

Result<void> read_value(const Json& j, const std::string& path, bool& out);
Result<void> read_value(const Json& j, const std::string& path, std::string& out);

template <typename T>
constexpr std::string_view integer_kind() {
    if constexpr (std::is_same_v<T, uint16_t>) {
        return "an unsigned 16-bit integer";
    } else if constexpr (std::is_same_v<T, uint32_t>) {
        return "an unsigned 32-bit integer";
    } else if constexpr (std::is_same_v<T, uint64_t>) {
        return "an unsigned 64-bit integer";
    } else if constexpr (std::is_same_v<T, int32_t>) {
        return "a 32-bit integer";
    } else {
        return "a 64-bit integer";
    }
}

template <std::integral T>
requires(!std::is_same_v<T, bool>) Result<void> read_value(const Json& j, const std::string& path,
                                                           T& out) {
    if (j.is_number_unsigned()) {
        const auto v = j.get<uint64_t>();
        if (!std::in_range<T>(v)) {
            return Err(Error::msg(path + ": " + std::to_string(v) + " is out of range for " +
                                  std::string(integer_kind<T>())));
        }
        out = static_cast<T>(v);
        return Ok();
    }
    if (j.is_number_integer()) {
        const auto v = j.get<int64_t>();
        if (!std::in_range<T>(v)) {
            return Err(Error::msg(path + ": " + std::to_string(v) + " is out of range for " +
                                  std::string(integer_kind<T>())));
        }
        out = static_cast<T>(v);
        return Ok();
    }
    return Err(type_error(path, integer_kind<T>(), j));
}

template <typename T>
Result<void> read_value(const Json& j, const std::string& path, std::vector<T>& out) {
    if (!j.is_array()) {
        return Err(type_error(path, "an array", j));
    }
    out.clear();
    out.reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
        T item{};
        RUNVM_TRY(read_value(j[i], index_path(path, i), item));
        out.push_back(std::move(item));
    }
    return Ok();
}

template <typename T>
Result<void> read_value(const Json& j, const std::string& path, std::map<std::string, T>& out) {
    if (!j.is_object()) {
        return Err(type_error(path, "an object", j));
    }
    out.clear();
    for (const auto& [key, value] : j.items()) {
        T item{};
        RUNVM_TRY(read_value(value, map_entry_path(path, key), item));
        out.emplace(key, std::move(item));
    }
    return Ok();
}

// Walks one JSON object, reading members into fields; what is never read becomes `extra`.
class ObjectReader {
public:
    static Result<ObjectReader> open(const Json& j, std::string path);

    // A missing or null member is an error naming it.
    template <typename T>
    Result<void> required(std::string_view key, T& out) {
        const Json* member = take(key);
        if (member == nullptr) {
            return Err(Error::msg(member_path(path_, key) + ": is required"));
        }
        return read_value(*member, member_path(path_, key), out);
    }

    // A missing or null member leaves `out` empty, as Go's encoding/json does for pointers.
    template <typename T>
    Result<void> optional(std::string_view key, std::optional<T>& out) {
        out.reset();
        const Json* member = take(key);
        if (member == nullptr) {
            return Ok();
        }
        T value{};
        RUNVM_TRY(read_value(*member, member_path(path_, key), value));
        out = std::move(value);
        return Ok();
    }

    // Members not read so far, as an object; null when there are none.
    Json extra() const;

private:
    ObjectReader(const Json* j, std::string path) : j_(j), path_(std::move(path)) {}
    const Json* take(std::string_view key);

    const Json* j_;
    std::string path_;
    std::vector<std::string> read_keys_;
};

// Writers of plain values; structs are written by oci/json_struct.hpp.
Json object_with_extra(const Json& extra);

inline Json to_json_value(bool v) {
    return v;
}
inline Json to_json_value(const std::string& v) {
    return v;
}

template <std::integral T>
requires(!std::is_same_v<T, bool>) Json to_json_value(T v) {
    return v;
}

template <typename T>
Json to_json_value(const std::vector<T>& items) {
    Json out = Json::array();
    for (const auto& item : items) {
        out.push_back(to_json_value(item));
    }
    return out;
}

template <typename T>
Json to_json_value(const std::map<std::string, T>& items) {
    Json out = Json::object();
    for (const auto& [key, value] : items) {
        out[key] = to_json_value(value);
    }
    return out;
}

} // namespace runvm::oci
