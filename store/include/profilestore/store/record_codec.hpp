// The bytes of a record, format version 1 (docs/format.md is the spec;
// tests/store/record_codec_test.cpp freezes them with golden bytes).
//
// A record is one MessagePack map. Keys are written in a fixed order:
//   FormatVersion, Data, MetaData, GlobalUpdates, UserIds, KeyMetaData,
//   WasOverwritten, then unknown fields in key order.
// A messages-only record has just FormatVersion and GlobalUpdates.
//
// The rule for the format version: adding an optional field keeps version 1
// (readers keep unknown fields and write them back); changing the meaning or
// type of a field, or removing one, takes a new version. A field name once
// released is never reused. Readers refuse (errc::unsupported_format, nothing
// overwritten) a version higher than theirs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "profilestore/codec/limits.hpp"
#include "profilestore/result.hpp"
#include "profilestore/store/record.hpp"

namespace profilestore {

inline constexpr std::uint64_t record_format_version = 1;

void encode_record(const record& rec, std::string& out);
// The same with `data` encoded as the record's Data in place of rec.data.
void encode_record(const record& rec, std::string_view data, std::string& out);
std::string encode_record(const record& rec);

// Errors: corrupt_record (the bytes are not a valid record: malformed
// MessagePack, a missing or mistyped field; the message says which) or
// unsupported_format. Embedded user data is validated, not decoded.
result<record> decode_record(std::string_view bytes,
                             const decode_limits& limits = {});

// decode_record with the same checks, except that Data is not copied out:
// rec.data stays empty (has_profile still tells whether the record has
// Data). For a caller about to replace Data anyway, such as a save.
result<record> decode_record_without_data(std::string_view bytes,
                                          const decode_limits& limits = {});

} // namespace profilestore
