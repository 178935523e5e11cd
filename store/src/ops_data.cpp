// Operations on a profile's data outside a session: message, set, remove;
// and the checks of caller-supplied bytes against storage_limits (ops.hpp).
#include "profilestore/store/ops.hpp"

#include <algorithm>
#include <limits>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/names.hpp"

namespace profilestore {
namespace {

// Checks one caller-supplied MessagePack blob: within `max` bytes, and,
// with `walk`, well-formed and (when asked) a map, or a map or an array.
enum class shape : std::uint8_t { any, map, container };

result<void> check_blob(std::string_view bytes, std::string_view what,
                        std::size_t max, errc too_large, shape required,
                        const decode_limits& limits, bool walk = true) {
  if (bytes.size() > max)
    return make_error(too_large, std::string(what) + " is "
                                   + std::to_string(bytes.size())
                                   + " bytes encoded; the limit is "
                                   + std::to_string(max) + " bytes");
  if (bytes.empty())
    return make_error(errc::invalid_argument,
                      std::string(what) + " is empty (expected MessagePack)");
  if (!walk)
    return {};
  auto ok = validate_msgpack(bytes, limits);
  if (!ok)
    return make_error(ok.err().code(),
                      std::string(what) + ": " + ok.err().message());
  if (required == shape::any)
    return {};
  auto type = msgpack_reader(bytes, limits).peek();
  bool is_map = type && *type == wire_type::map;
  bool is_array = type && *type == wire_type::array;
  if (required == shape::map && !is_map)
    return make_error(errc::invalid_argument,
                      std::string(what) + " must be a map");
  if (required == shape::container && !is_map && !is_array)
    return make_error(errc::invalid_argument,
                      std::string(what) + " must be a map or an array");
  return {};
}

result<void> check_profile_fields(std::string_view data,
                                  std::string_view meta_tags,
                                  const std::vector<std::int64_t>& user_ids,
                                  std::string_view key_metadata,
                                  const storage_limits& limits,
                                  bool walk = true) {
  const auto& dl = limits.record_decode;
  PROFILESTORE_TRY(check_blob(data, "Data", limits.max_data_bytes,
                              errc::data_too_large, shape::container, dl,
                              walk));
  PROFILESTORE_TRY(check_blob(meta_tags, "MetaTags", limits.max_meta_tags_bytes,
                              errc::data_too_large, shape::map, dl, walk));
  PROFILESTORE_TRY(check_blob(key_metadata, "key metadata",
                              limits.max_key_metadata_bytes,
                              errc::metadata_too_large, shape::map, dl, walk));
  if (user_ids.size() > limits.max_user_ids)
    return make_error(errc::too_many_user_ids,
                      std::to_string(user_ids.size())
                        + " user ids; the limit is "
                        + std::to_string(limits.max_user_ids));
  return {};
}

// The most messages a record may queue and still decode under the
// storage's record_decode limits, whatever a request's MAX_MESSAGE_QUEUE
// says: the queue is one list (max_container_length), and each queued
// message costs the decoder objects_per_message objects besides its
// payload, which it skips uncounted. reserved_objects leaves room for the
// rest of the record (its fields, metadata and user ids).
std::size_t max_decodable_queue(const storage_limits& limits) {
  constexpr std::size_t objects_per_message = 4; // [id, version, locked, data]
  constexpr std::size_t reserved_objects = 1'024;
  const auto& d = limits.record_decode;
  const std::size_t reserve = reserved_objects + limits.max_user_ids;
  const std::size_t by_objects
    = d.max_objects > reserve ? (d.max_objects - reserve) / objects_per_message
                              : 0;
  return std::min(d.max_container_length, by_objects);
}

void remove_updates(record& rec, const std::vector<std::uint64_t>& ids) {
  if (ids.empty())
    return;
  rec.updates.erase(std::remove_if(rec.updates.begin(), rec.updates.end(),
                                   [&](const queued_update& u) {
                                     return std::find(ids.begin(), ids.end(),
                                                      u.id)
                                            != ids.end();
                                   }),
                    rec.updates.end());
}

} // namespace

result<void> check_save_request(const save_request& req,
                                const storage_limits& limits) {
  PROFILESTORE_TRY(check_node_name(req.session.node));
  if (req.final == final_action::handoff && !req.handoff_to)
    return make_error(errc::invalid_argument,
                      "a hand-off save must name the requester to hand to");
  return check_profile_fields(req.data, req.meta_tags, req.user_ids,
                              req.key_metadata, limits,
                              !req.payloads_checked);
}

result<void> check_profile_data(std::string_view data,
                                const storage_limits& limits) {
  return check_blob(data, "Data", limits.max_data_bytes, errc::data_too_large,
                    shape::container, limits.record_decode);
}

result<void> check_set_request(const set_request& req,
                               const storage_limits& limits) {
  return check_profile_fields(req.data, req.meta_tags, req.user_ids,
                              req.key_metadata, limits);
}

result<message_reply> add_message(record& rec, const message_request& req,
                                  const storage_limits& limits) {
  PROFILESTORE_TRY(check_blob(req.data, "message", limits.max_message_bytes,
                              errc::message_too_large, shape::any,
                              limits.record_decode));
  const std::size_t asked = req.max_queue ? req.max_queue
                                           : limits.max_message_queue;
  const std::size_t decodable = max_decodable_queue(limits);
  if (rec.updates.size() >= std::min(asked, decodable))
    return make_error(errc::message_queue_full,
                      "the profile has " + std::to_string(rec.updates.size())
                        + " queued messages ("
                        + (asked <= decodable
                             ? "MAX_MESSAGE_QUEUE is " + std::to_string(asked)
                             : "at most " + std::to_string(decodable)
                                 + " fit in a record under this storage's "
                                   "decode limits")
                        + "); its owner must process some first");
  if (queued_update_bytes(rec) + req.data.size()
      > limits.max_queued_message_bytes)
    return make_error(errc::message_queue_full,
                      "the profile's queued messages would exceed "
                        + std::to_string(limits.max_queued_message_bytes)
                        + " bytes; its owner must process some first");
  if (rec.last_update_id == std::numeric_limits<std::uint64_t>::max())
    return make_error(errc::corrupt_record,
                      "the profile's message ids are used up (its last "
                      "message id is the largest there is: damaged bytes)");
  queued_update u;
  u.id = ++rec.last_update_id;
  u.data = req.data;
  rec.updates.push_back(std::move(u));
  message_reply reply;
  reply.id = rec.last_update_id;
  if (rec.has_profile)
    reply.owner = rec.meta.active_session;
  return reply;
}

result<op_change<message_reply>> message(const current_record& current,
                                         const message_request& req,
                                         const storage_limits& limits,
                                         std::int64_t now) {
  (void) now;
  record rec;
  if (current.rec)
    rec = *current.rec;
  else
    rec.has_profile = false; // messages to a profile never created
  auto reply = add_message(rec, req, limits);
  if (!reply)
    return std::move(reply).err();
  op_change<message_reply> change;
  change.reply = std::move(*reply);
  change.reply.overwritten = !current.rec && current.corrupt;
  change.write = record_write{std::move(rec), current.corrupt};
  return change;
}

result<op_change<set_reply>> set(const current_record& current,
                                 const set_request& req, std::int64_t now) {
  op_change<set_reply> change;
  record rec;
  if (current.rec) {
    rec = *current.rec;
    if (!rec.has_profile)
      add_profile_to(rec, {}, now);
  } else {
    rec = make_new_profile({}, now);
    rec.was_overwritten = current.corrupt;
  }
  change.reply.previous_owner = rec.meta.active_session;
  rec.data = req.data;
  rec.meta.meta_tags = req.meta_tags;
  rec.user_ids = req.user_ids;
  rec.key_metadata = req.key_metadata;
  rec.meta.active_session.reset();
  rec.meta.force_load_session.reset();
  rec.meta.last_update = now;
  remove_updates(rec, req.processed_update_ids);
  change.write = record_write{std::move(rec), current.corrupt};
  return change;
}

remove_reply remove(const current_record& current) {
  remove_reply reply;
  reply.existed = current.rec.has_value() || current.corrupt;
  if (current.rec && current.rec->has_profile)
    reply.previous_owner = current.rec->meta.active_session;
  return reply;
}

} // namespace profilestore
