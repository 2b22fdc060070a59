// One field list per struct drives both directions: fields(visitor, s) names each member once,
// FieldReader reads them, FieldWriter writes them, so reader and writer cannot drift apart.
#pragma once

#include <optional>
#include <string>
#include <type_traits>

#include "oci/json_reader.hpp"

namespace runvm::oci {

// The structs with a field list: each keeps unmodeled members in `extra`.
template <typename T>
concept JsonStruct = requires(T& t) {
    { t.extra } -> std::same_as<Json&>;
};

// S is T or const T: fields() serves the reader (mutable) and the writer (const) alike.
template <typename S, typename T>
concept Self = std::is_same_v<std::remove_const_t<S>, T>;

// std::optional members are optional in JSON; every other member is required.
class FieldReader {
public:
    explicit FieldReader(ObjectReader& reader) : reader_(reader) {}

    template <typename T>
    void operator()(std::string_view key, std::optional<T>& out) {
        if (error_) {
            return;
        }
        if (auto r = reader_.optional(key, out); !r) {
            error_ = std::move(r).error();
        }
    }

    template <typename T>
    void operator()(std::string_view key, T& out) {
        if (error_) {
            return;
        }
        if (auto r = reader_.required(key, out); !r) {
            error_ = std::move(r).error();
        }
    }

    std::optional<Error>& error() { return error_; }

private:
    ObjectReader& reader_;
    std::optional<Error> error_;
};

class FieldWriter {
public:
    explicit FieldWriter(Json& object) : object_(object) {}

    template <typename T>
    void operator()(std::string_view key, const std::optional<T>& value) {
        if (value) {
            object_[std::string(key)] = to_json_value(*value);
        }
    }

    template <typename T>
    void operator()(std::string_view key, const T& value) {
        object_[std::string(key)] = to_json_value(value);
    }

private:
    Json& object_;
};

template <JsonStruct T>
Result<void> read_value(const Json& j, const std::string& path, T& out) {
    RUNVM_ASSIGN_OR_RETURN(auto reader, ObjectReader::open(j, path));
    FieldReader fields_reader(reader);
    fields(fields_reader, out);
    if (fields_reader.error()) {
        return Err(std::move(*fields_reader.error()));
    }
    out.extra = reader.extra();
    return Ok();
}

template <JsonStruct T>
Json to_json_value(const T& value) {
    Json out = object_with_extra(value.extra);
    FieldWriter writer(out);
    fields(writer, value);
    return out;
}

} // namespace runvm::oci
