// edit_updates: a sender's edits of the GlobalUpdates queue (ops.hpp, rules
// U1-U4). Adds reuse message() so that adds and ProfileStore messages obey
// one set of queue limits.
#include "profilestore/store/ops.hpp"

#include <algorithm>

#include "profilestore/codec/msgpack.hpp"

namespace profilestore {
namespace {

error edit_error(std::size_t index, const error& e) {
  return make_error(e.code(), "global update edit " + std::to_string(index + 1)
                                + ": " + e.message());
}

result<void> check_payload(std::string_view bytes,
                           const storage_limits& limits) {
  if (bytes.size() > limits.max_message_bytes)
    return make_error(errc::message_too_large,
                      "the update is " + std::to_string(bytes.size())
                        + " bytes encoded; the limit is "
                        + std::to_string(limits.max_message_bytes));
  if (bytes.empty())
    return make_error(errc::invalid_argument,
                      "the update is empty (expected MessagePack)");
  return validate_msgpack(bytes, limits.record_decode);
}

// The active update `id` of `rec`, or an error saying why it cannot be
// edited (U2).
result<std::vector<queued_update>::iterator>
editable_update(record& rec, std::uint64_t id) {
  auto i = std::find_if(rec.updates.begin(), rec.updates.end(),
                        [id](const queued_update& u) { return u.id == id; });
  if (i == rec.updates.end())
    return make_error(errc::not_found, "there is no global update "
                                         + std::to_string(id));
  if (i->locked)
    return make_error(errc::invalid_argument,
                      "global update " + std::to_string(id)
                        + " is locked by the profile's owner and can no "
                          "longer be changed or cleared");
  return i;
}

result<void> change_or_clear(current_record& work, const update_edit& edit,
                             const storage_limits& limits) {
  if (!work.rec)
    return make_error(errc::not_found,
                      "there is no global update " + std::to_string(edit.id)
                        + ": the key holds no record");
  auto at = editable_update(*work.rec, edit.id);
  if (!at)
    return at.err();
  if (edit.kind == update_edit_kind::clear) {
    work.rec->updates.erase(*at);
    return {};
  }
  PROFILESTORE_TRY(check_payload(edit.data, limits));
  auto& u = **at;
  std::size_t others = queued_update_bytes(*work.rec) - u.data.size();
  if (others + edit.data.size() > limits.max_queued_message_bytes)
    return make_error(errc::message_queue_full,
                      "the profile's queued updates would exceed "
                        + std::to_string(limits.max_queued_message_bytes)
                        + " bytes");
  u.data = edit.data;
  u.version += 1;
  return {};
}

} // namespace

result<op_change<edit_updates_reply>>
edit_updates(const current_record& current, const edit_updates_request& req,
             const storage_limits& limits, std::int64_t now) {
  if (req.edits.empty())
    return make_error(errc::invalid_argument,
                      "a global update request without edits");
  current_record work = current;
  op_change<edit_updates_reply> change;
  for (std::size_t i = 0; i < req.edits.size(); ++i) {
    const auto& edit = req.edits[i];
    if (edit.kind == update_edit_kind::add) {
      auto added = message(work, message_request{edit.data, req.max_queue},
                           limits, now);
      if (!added)
        return edit_error(i, added.err());
      change.reply.added_ids.push_back(added->reply.id);
      work.rec = std::move(added->write->rec);
      work.corrupt = false;
      continue;
    }
    if (auto ok = change_or_clear(work, edit, limits); !ok)
      return edit_error(i, ok.err());
  }
  change.reply.updates = work.rec->updates;
  change.reply.overwritten = current.corrupt;
  if (work.rec->has_profile)
    change.reply.owner = work.rec->meta.active_session;
  change.write = record_write{std::move(*work.rec), current.corrupt};
  return change;
}

} // namespace profilestore
