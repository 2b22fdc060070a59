// Splitting and number parsing for the small text files of /proc, /sys and /etc, without
// iostreams: in the guest, every first use of code is translated by TCG, and an ifstream or
// istringstream pulls in locale and stream-buffer code that nothing else there runs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runvm {

// The fields between separators, empty ones included: "a::b" is {"a", "", "b"}.
std::vector<std::string_view> split(std::string_view text, char separator);

// The runs of non-blank characters (blank: space, tab, newline, carriage return).
std::vector<std::string_view> words(std::string_view text);

// A whole unsigned decimal number; nullopt for anything else ("max", "", "12x", overflow).
std::optional<uint64_t> parse_u64(std::string_view text);

// cgroup v2's flat keyed files ("key value" lines, as memory.events and cpu.stat); a line
// whose value is not a number is skipped.
std::map<std::string, uint64_t> parse_keyed(std::string_view text);

// Lower-case hex of every byte, and back (nullopt for an odd length or a non-hex digit): bytes
// in a JSON text.
std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);

} // namespace runvm
