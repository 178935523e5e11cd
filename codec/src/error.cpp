// error.cpp: names for error codes and the one-line rendering of an error.
//
// The names are part of logs and tool output that people grep, so each is the
// enumerator spelled exactly as in error.hpp and never changes.
#include "profilestore/error.hpp"

namespace profilestore {

std::string_view to_string(errc code) noexcept {
  switch (code) {
  case errc::ok: return "ok";
  case errc::invalid_argument: return "invalid_argument";
  case errc::invalid_store_name: return "invalid_store_name";
  case errc::invalid_key: return "invalid_key";
  case errc::data_too_large: return "data_too_large";
  case errc::metadata_too_large: return "metadata_too_large";
  case errc::too_many_user_ids: return "too_many_user_ids";
  case errc::message_too_large: return "message_too_large";
  case errc::message_queue_full: return "message_queue_full";
  case errc::record_too_large: return "record_too_large";
  case errc::malformed_input: return "malformed_input";
  case errc::limit_exceeded: return "limit_exceeded";
  case errc::type_mismatch: return "type_mismatch";
  case errc::not_found: return "not_found";
  case errc::corrupt_record: return "corrupt_record";
  case errc::unsupported_format: return "unsupported_format";
  case errc::not_owner: return "not_owner";
  case errc::storage_full: return "storage_full";
  case errc::storage_error: return "storage_error";
  case errc::storage_busy: return "storage_busy";
  case errc::map_full: return "map_full";
  case errc::timeout: return "timeout";
  case errc::closing: return "closing";
  case errc::session_active: return "session_active";
  case errc::session_ended: return "session_ended";
  case errc::cancelled: return "cancelled";
  case errc::unreachable: return "unreachable";
  case errc::not_supported: return "not_supported";
  case errc::conflict: return "conflict";
  case errc::internal: return "internal";
  }
  // A code from a newer peer that this build does not know.
  return "unknown";
}

std::string error::to_string() const {
  std::string text(profilestore::to_string(code_));
  text += ": ";
  text += message_;
  return text;
}

} // namespace profilestore
