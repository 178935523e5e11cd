// Errors as values for every profilestore layer.
//
// Each failure is an `error`: a code from `errc` (stable, machine-readable,
// never renumbered) and a message that names what was wrong and, where it
// helps, what to do. Functions return `result<T>` (see result.hpp) instead of
// throwing; "not found" is an ordinary answer wherever it can happen, not an
// error. The actor layer turns these into caf::error with the same codes.
//
// Thread safety: plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace profilestore {

// Codes are part of the wire protocol between nodes: append only.
enum class errc : std::uint8_t {
  ok = 0,
  // Bad input from the caller.
  invalid_argument = 1,   // a parameter is malformed (see the message)
  invalid_store_name = 2, // store name empty, too long or contains NUL
  invalid_key = 3,        // profile key empty, too long or contains NUL
  data_too_large = 4,     // encoded Data over the configured limit
  metadata_too_large = 5, // encoded key metadata over its limit
  too_many_user_ids = 6,
  message_too_large = 7,
  message_queue_full = 8, // MAX_MESSAGE_QUEUE reached; nothing was dropped
  record_too_large = 9,   // the whole record would exceed its limit
  // Decoding untrusted bytes.
  malformed_input = 20, // truncated, invalid type byte, trailing bytes, ...
  limit_exceeded = 21,  // depth, length, size or element-count limit
  type_mismatch = 22,   // well-formed but not the expected shape
  // Records and storage.
  not_found = 40,
  corrupt_record = 41,     // bytes under a key do not decode as a record
  unsupported_format = 42, // written by a newer format version; left alone
  not_owner = 43,          // fencing: the session no longer owns the key
  storage_full = 44,       // map size limit or disk full; nothing written
  storage_error = 45,      // I/O or backend failure; nothing written
  storage_busy = 46,       // e.g. no free LMDB reader slot
  map_full = 47,           // internal: LMDB map must grow, then retry
  // Runtime.
  timeout = 60,
  closing = 61,          // the node is shutting down
  session_active = 62,   // the key already has a session on this node
  session_ended = 63,    // the profile's session is over
  cancelled = 64,
  unreachable = 65,      // a peer or the storage node cannot be reached
  not_supported = 66,
  conflict = 67,         // e.g. superseded by a newer request
  internal = 99,
};

// A short lowercase name for the code ("invalid_key"), stable across versions.
std::string_view to_string(errc code) noexcept;

class error {
public:
  // A default-constructed error means "no error".
  error() = default;
  error(errc code, std::string message)
    : code_(code), message_(std::move(message)) {}

  errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // True when this holds an error.
  explicit operator bool() const noexcept { return code_ != errc::ok; }

  // "invalid_key: profile key is empty (a key must be 1..256 bytes)".
  std::string to_string() const;

  friend bool operator==(const error& a, const error& b) noexcept {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }
  friend bool operator!=(const error& a, const error& b) noexcept {
    return !(a == b);
  }

private:
  errc code_ = errc::ok;
  std::string message_;
};

inline error make_error(errc code, std::string message) {
  return error{code, std::move(message)};
}

} // namespace profilestore
