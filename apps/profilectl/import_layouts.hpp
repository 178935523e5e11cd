// The JSON-lines layouts `profilectl import` accepts (docs/profilectl.md is
// the specification, with examples):
//
//   profilestore   {"store": S, "key": K, "record": R, ...}
//                  one line of `profilectl export` (other fields ignored:
//                  version, created_time, updated_time)
//   Roblox         {"store": S, "key": K, "value": V,
//                   "userIds": [...], "metadata": {...}}
//                  V is the DataStore value ProfileService or ProfileStore
//                  wrote under that key; userIds and metadata (optional)
//                  are its DataStoreKeyInfo's, and win over UserIds and
//                  RobloxMetaData inside V.
//
// R and V are records with these fields (all optional, but Data is needed
// for a profile; a record with GlobalUpdates alone is messages only):
//   Data            object or array
//   MetaData        object: MetaTags (object) is kept; ProfileCreateTime,
//                   SessionLoadCount, ActiveSession, ForceLoadSession,
//                   LastUpdate, MetaTagsLatest are accepted and not kept
//   GlobalUpdates   [last_id, [[id, data] | [id, version, locked, data], ...]]
//                   (ProfileStore's two-element updates, ProfileService's
//                   and ours four-element ones); every update is queued
//                   again as a message, in the given order
//   UserIds         array of integers
//   KeyMetaData, RobloxMetaData   object (key metadata; one or the other)
//   WasOverwritten, WasCorrupted  bool, accepted and not kept
// Any other field is refused, so nothing is dropped unnoticed. An empty JSON
// array stands for an empty object where an object is expected (Lua cannot
// tell them apart).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profilestore/result.hpp"
#include "profilestore/store/limits.hpp"
#include "profilestore/store/ops.hpp"

namespace profilestore::ctl {

struct import_item {
  std::size_t line = 0;
  std::string layout; // "profilestore", "ProfileService" or "ProfileStore"
  std::string store;
  std::string key;
  // The profile's fields; nullopt for a messages-only record.
  std::optional<set_request> profile;
  // Encoded message payloads, in queue order.
  std::vector<std::string> messages;
};

// Parses one line (not empty). Errors name the field that is wrong; the
// caller adds the line number. Checks names, shapes and storage limits.
result<import_item> parse_import_line(std::string_view line,
                                      const storage_limits& limits);

} // namespace profilestore::ctl
