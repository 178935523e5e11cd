// A JSON view of `value`, for tools and humans.
//
// Mapping (to_json and from_json are inverses for every value, with the two
// exceptions below):
//   nil -> null, bool -> true/false, string -> string, array -> array,
//   map -> object (keys in value order), int64/uint64 -> number, exact;
//   double -> number with a fraction or exponent (2.0 stays 2.0, so it reads
//   back as a double); NaN and infinities -> {"$double": "NaN" | "Infinity" |
//   "-Infinity"}; binary -> {"$binary": "<base64, RFC 4648, padded>"}.
// An object with exactly one key "$binary" or "$double" whose value is a
// string is read back as that type, and a string there that is not valid
// (bad base64, another name) is malformed_input; with a value of any other
// kind it stays a map. A JSON integer beyond uint64 becomes a double (JSON
// has no limit). Duplicate keys in an object are malformed_input.
// Exceptions to the round trip: a map of exactly that one-key shape reads
// back as the tagged type; bytes of a string that are not valid UTF-8 are
// written as U+FFFD (to_json never fails).
// Parsing runs under decode_limits: depth, lengths, sizes, object count.
#pragma once

#include <string>
#include <string_view>

#include "profilestore/codec/limits.hpp"
#include "profilestore/codec/value.hpp"
#include "profilestore/result.hpp"

namespace profilestore {

struct json_options {
  // Spaces per indentation level; negative prints on one line.
  int indent = -1;
};

std::string to_json(const value& v, const json_options& options = {});

result<value> from_json(std::string_view text,
                        const decode_limits& limits = {});

// Base64 (RFC 4648, with padding), exposed for tools.
std::string base64_encode(const binary& bytes);
result<binary> base64_decode(std::string_view text);

} // namespace profilestore
