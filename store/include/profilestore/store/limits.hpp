// storage_limits: what the storage layer accepts, each breach a clear error
// with nothing written.
//
// The defaults follow the Roblox DataStore limits the originals live under
// (4 MiB values, 300 bytes of key metadata, a 1,000-message queue) where
// those exist, and bound everything else so that a record can never grow
// without limit: the record is at most data + meta tags + key metadata +
// queued messages + a few hundred bytes of metadata.
#pragma once

#include <cstddef>

#include "profilestore/codec/limits.hpp"

namespace profilestore {

struct storage_limits {
  // Encoded Data (MessagePack bytes).
  std::size_t max_data_bytes = std::size_t{4} << 20;
  // Encoded MetaTags (ProfileService's tags saved beside Data).
  std::size_t max_meta_tags_bytes = std::size_t{64} << 10;
  // Encoded key metadata (Roblox: 300 characters in all).
  std::size_t max_key_metadata_bytes = 300;
  // User ids associated with a key (GDPR erasure lists).
  std::size_t max_user_ids = 64;
  // One message (MessageAsync / global update) payload.
  std::size_t max_message_bytes = std::size_t{64} << 10;
  // Messages queued per profile when a request does not say otherwise
  // (MAX_MESSAGE_QUEUE); a full queue refuses the sender, never drops.
  std::size_t max_message_queue = 1000;
  // All queued message payloads of one profile together.
  std::size_t max_queued_message_bytes = std::size_t{4} << 20;
  // Limits for decoding stored records (untrusted: another process or a
  // damaged disk may have written them).
  decode_limits record_decode{};
};

} // namespace profilestore
