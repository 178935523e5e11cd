// The wire format of the runtime's remote messages (wire_codec.hpp): each
// struct is a MessagePack array of its fields in declaration order; optionals
// are nil or the value; variants are [index, value]; user payloads are bin
// blobs validated on the way in; records use the record format.
#include "wire_codec.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include "profilestore/actors/errors.hpp"
#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/store/record_codec.hpp"

namespace profilestore::wire {
namespace {

using packer = msgpack::packer<string_sink>;

// Bounds of one wire blob: the largest operation is a save group of many
// profiles of up to 4 MiB each; CAF has already read the whole blob into
// memory, so these bound the work of decoding it, not its transfer.
decode_limits wire_limits() {
  decode_limits l;
  l.max_total_bytes = std::size_t{256} << 20;
  l.max_string_bytes = std::size_t{16} << 20;
  l.max_binary_bytes = std::size_t{16} << 20;
  return l;
}

// ---- encoding -------------------------------------------------------------------

void put_str(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void put_bin(packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<std::uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void put_bool(packer& pk, bool b) {
  if (b)
    pk.pack_true();
  else
    pk.pack_false();
}

template <class T, class F>
void put_opt(packer& pk, const std::optional<T>& x, F&& put) {
  if (x)
    put(*x);
  else
    pk.pack_nil();
}

template <class T, class F>
void put_vec(packer& pk, const std::vector<T>& xs, F&& put) {
  pk.pack_array(static_cast<std::uint32_t>(xs.size()));
  for (const auto& x : xs)
    put(x);
}

void put(packer& pk, const session_ref& s) {
  pk.pack_array(3);
  put_str(pk, s.node);
  pk.pack_uint64(s.incarnation);
  pk.pack_uint64(s.id);
}

void put_opt_session(packer& pk, const std::optional<session_ref>& s) {
  put_opt(pk, s, [&](const session_ref& x) { put(pk, x); });
}

void put_ids(packer& pk, const std::vector<std::int64_t>& xs) {
  put_vec(pk, xs, [&](std::int64_t x) { pk.pack_int64(x); });
}

void put_uids(packer& pk, const std::vector<std::uint64_t>& xs) {
  put_vec(pk, xs, [&](std::uint64_t x) { pk.pack_uint64(x); });
}

void put(packer& pk, const queued_update& u) {
  pk.pack_array(4);
  pk.pack_uint64(u.id);
  pk.pack_uint64(u.version);
  put_bool(pk, u.locked);
  put_bin(pk, u.data);
}

void put_record(packer& pk, const record& rec) {
  put_bin(pk, encode_record(rec));
}

void put(packer& pk, const key_info& k) {
  pk.pack_array(8);
  pk.pack_uint64(k.version);
  pk.pack_int64(k.created_time);
  pk.pack_int64(k.version_created_time);
  pk.pack_int64(k.updated_time);
  pk.pack_uint64(k.size);
  put_ids(pk, k.user_ids);
  put_bin(pk, k.key_metadata);
  put_bool(pk, k.deleted);
}

void put(packer& pk, const start_session_op& op) {
  pk.pack_array(9);
  put_str(pk, op.store);
  put_str(pk, op.key);
  put(pk, op.request.requester);
  put_bool(pk, op.request.steal);
  put_bool(pk, op.request.first_attempt);
  put_bool(pk, op.request.owner_lease_expired);
  pk.pack_int64(op.request.assume_dead_ms);
  if (op.template_data)
    put_bin(pk, *op.template_data);
  else
    pk.pack_nil();
  pk.pack_nil(); // reserved
}

void put(packer& pk, const save_op& op) {
  const auto& r = op.request;
  pk.pack_array(11);
  put_str(pk, op.store);
  put_str(pk, op.key);
  put(pk, r.session);
  put_bin(pk, r.data);
  put_bin(pk, r.meta_tags);
  put_ids(pk, r.user_ids);
  put_bin(pk, r.key_metadata);
  put_uids(pk, r.processed_update_ids);
  put_uids(pk, r.lock_update_ids);
  pk.pack_uint8(static_cast<std::uint8_t>(r.final));
  put_opt_session(pk, r.handoff_to);
}

void put(packer& pk, const save_group_op& op) {
  pk.pack_array(2);
  put_str(pk, op.store);
  put_vec(pk, op.saves, [&](const save_op& s) { put(pk, s); });
}

void put(packer& pk, const message_op& op) {
  pk.pack_array(4);
  put_str(pk, op.store);
  put_str(pk, op.key);
  put_bin(pk, op.request.data);
  pk.pack_uint64(op.request.max_queue);
}

void put(packer& pk, const set_op& op) {
  const auto& r = op.request;
  pk.pack_array(7);
  put_str(pk, op.store);
  put_str(pk, op.key);
  put_bin(pk, r.data);
  put_bin(pk, r.meta_tags);
  put_ids(pk, r.user_ids);
  put_bin(pk, r.key_metadata);
  put_uids(pk, r.processed_update_ids);
}

void put(packer& pk, const remove_op& op) {
  pk.pack_array(2);
  put_str(pk, op.store);
  put_str(pk, op.key);
}

void put(packer& pk, const update_edit& e) {
  pk.pack_array(3);
  pk.pack_uint8(static_cast<std::uint8_t>(e.kind));
  pk.pack_uint64(e.id);
  put_bin(pk, e.data);
}

void put(packer& pk, const edit_updates_op& op) {
  pk.pack_array(4);
  put_str(pk, op.store);
  put_str(pk, op.key);
  put_vec(pk, op.request.edits, [&](const update_edit& e) { put(pk, e); });
  pk.pack_uint64(op.request.max_queue);
}

void put(packer& pk, const save_reply& r) {
  pk.pack_array(6);
  put_opt_session(pk, r.force_load);
  put_vec(pk, r.updates, [&](const queued_update& u) { put(pk, u); });
  pk.pack_uint64(r.session_load_count);
  put_bool(pk, r.released);
  put_bool(pk, r.handed_off);
  put_opt_session(pk, r.new_owner);
}

void put(packer& pk, const op_reply& reply) {
  pk.pack_array(2);
  pk.pack_uint64(reply.index());
  std::visit(
    [&](const auto& r) {
      using T = std::decay_t<decltype(r)>;
      if constexpr (std::is_same_v<T, start_session_reply>) {
        pk.pack_array(6);
        pk.pack_uint8(static_cast<std::uint8_t>(r.outcome));
        put_opt(pk, r.rec, [&](const record& x) { put_record(pk, x); });
        put_bool(pk, r.created);
        put_bool(pk, r.overwritten);
        put_opt_session(pk, r.owner);
        pk.pack_int64(r.owner_last_update);
      } else if constexpr (std::is_same_v<T, save_reply>) {
        put(pk, r);
      } else if constexpr (std::is_same_v<T, std::vector<save_reply>>) {
        put_vec(pk, r, [&](const save_reply& x) { put(pk, x); });
      } else if constexpr (std::is_same_v<T, message_reply>) {
        pk.pack_array(3);
        pk.pack_uint64(r.id);
        put_opt_session(pk, r.owner);
        put_bool(pk, r.overwritten);
      } else if constexpr (std::is_same_v<T, set_reply>) {
        pk.pack_array(1);
        put_opt_session(pk, r.previous_owner);
      } else if constexpr (std::is_same_v<T, remove_reply>) {
        pk.pack_array(2);
        put_bool(pk, r.existed);
        put_opt_session(pk, r.previous_owner);
      } else {
        static_assert(std::is_same_v<T, edit_updates_reply>);
        pk.pack_array(4);
        put_vec(pk, r.updates, [&](const queued_update& u) { put(pk, u); });
        put_uids(pk, r.added_ids);
        put_opt_session(pk, r.owner);
        put_bool(pk, r.overwritten);
      }
    },
    reply);
}

void put(packer& pk, const applied_op& a) {
  pk.pack_array(3);
  put(pk, a.reply);
  put_opt(pk, a.written, [&](const key_info& k) { put(pk, k); });
  put_vec(pk, a.group_written, [&](const key_info& k) { put(pk, k); });
}

void put(packer& pk, const read_request& r) {
  pk.pack_array(4);
  put_str(pk, r.store);
  put_str(pk, r.key);
  put_opt(pk, r.version, [&](std::uint64_t v) { pk.pack_uint64(v); });
  if (r.template_data)
    put_bin(pk, *r.template_data);
  else
    pk.pack_nil();
}

void put(packer& pk, const read_result& r) {
  put_opt(pk, r.found, [&](const read_reply& x) {
    pk.pack_array(3);
    put_record(pk, x.rec);
    put(pk, x.info);
    put_bool(pk, x.overwritten);
  });
}

void put(packer& pk, const version_query& q) {
  pk.pack_array(5);
  put_bool(pk, q.descending);
  put_opt(pk, q.min_time, [&](std::int64_t t) { pk.pack_int64(t); });
  put_opt(pk, q.max_time, [&](std::int64_t t) { pk.pack_int64(t); });
  pk.pack_uint64(q.limit);
  put_opt(pk, q.after_version, [&](std::uint64_t v) { pk.pack_uint64(v); });
}

void put(packer& pk, const version_page& p) {
  pk.pack_array(2);
  put_vec(pk, p.versions, [&](const key_info& k) { put(pk, k); });
  put_opt(pk, p.next_after, [&](std::uint64_t v) { pk.pack_uint64(v); });
}

void put(packer& pk, const list_request& r) {
  pk.pack_array(3);
  put_str(pk, r.store);
  put_str(pk, r.key);
  put(pk, r.query);
}

void put(packer& pk, const list_result& r) { put(pk, r.page); }

void put(packer& pk, const lease_request& r) {
  pk.pack_array(4);
  put_str(pk, r.node);
  pk.pack_uint64(r.incarnation);
  put_str(pk, r.address);
  pk.pack_int64(r.lease_ms);
}

void put(packer& pk, const lease_reply& r) {
  pk.pack_array(2);
  pk.pack_int64(r.lease_until);
  pk.pack_int64(r.now);
}

// ---- administration (admin_messages.hpp) ----------------------------------

void put(packer& pk, const admin_scan_request& r) {
  pk.pack_array(5);
  pk.pack_uint8(static_cast<std::uint8_t>(r.tab));
  pk.pack_uint8(static_cast<std::uint8_t>(r.from));
  put_bin(pk, r.key);
  pk.pack_uint32(r.max_entries);
  pk.pack_uint32(r.max_bytes);
}

void put(packer& pk, const admin_scan_page& p) {
  pk.pack_array(2);
  pk.pack_array(static_cast<std::uint32_t>(p.entries.size()));
  for (const auto& [k, v] : p.entries) {
    pk.pack_array(2);
    put_bin(pk, k);
    put_bin(pk, v);
  }
  put_bool(pk, p.complete);
}

// An administration write's operation: [variant index, operation]; only
// message_op, set_op and remove_op are admitted (admin_messages.hpp).
void put(packer& pk, const operation& op) {
  pk.pack_array(2);
  pk.pack_uint64(op.index());
  std::visit(
    [&](const auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, message_op> || std::is_same_v<T, set_op>
                    || std::is_same_v<T, remove_op>)
        put(pk, x);
      else
        pk.pack_nil(); // refused by the decoder: not an admin operation
    },
    op);
}

void put(packer& pk, const admin_write_request& r) {
  put_vec(pk, r.ops, [&](const operation& op) { put(pk, op); });
}

void put(packer& pk, const admin_write_reply& r) {
  pk.pack_array(2);
  put_vec(pk, r.applied, [&](const applied_op& a) { put(pk, a); });
  put_opt(pk, r.failure, [&](const admin_write_failure& f) {
    pk.pack_array(3);
    pk.pack_uint64(f.index);
    pk.pack_uint8(static_cast<std::uint8_t>(f.code));
    put_str(pk, f.message);
  });
}

void put(packer& pk, const admin_prune_request& r) {
  pk.pack_array(4);
  put_bin(pk, r.resume_after);
  pk.pack_int64(r.retention_ms);
  pk.pack_uint64(r.max_versions);
  pk.pack_uint64(r.max_keys);
}

void put(packer& pk, const admin_prune_reply& r) {
  pk.pack_array(5);
  pk.pack_uint64(r.progress.keys_visited);
  pk.pack_uint64(r.progress.versions_removed);
  put_bin(pk, r.progress.resume_after);
  put_bool(pk, r.progress.complete);
  pk.pack_int64(r.retention_ms);
}

template <class T>
std::string encode_any(const T& x) {
  std::string out;
  {
    string_sink sink(out);
    packer pk(sink);
    pk.pack_array(2);
    pk.pack_uint64(wire_version);
    put(pk, x);
  }
  return out;
}

// ---- decoding -------------------------------------------------------------------

// Reads one wire blob. Every method returns false on the first failure and
// records why; later calls then do nothing.
class in {
public:
  explicit in(std::string_view bytes) : r_(bytes, wire_limits()) {}

  bool ok() const noexcept { return !failed_; }
  const std::string& why() const noexcept { return why_; }

  bool fail(std::string what) {
    if (!failed_) {
      failed_ = true;
      why_ = std::move(what);
    }
    return false;
  }
  template <class R>
  bool check(R&& r, const char* what) {
    if (failed_)
      return false;
    if (!r.ok())
      return fail(std::string(what) + ": " + r.err().message());
    return true;
  }

  bool array(std::uint32_t expected, const char* what) {
    auto n = r_.read_array_header();
    if (!check(n, what))
      return false;
    if (*n != expected)
      return fail(std::string(what) + ": expected " + std::to_string(expected)
                  + " fields, got " + std::to_string(*n));
    return true;
  }
  bool array_any(std::uint32_t& n, const char* what) {
    auto c = r_.read_array_header();
    if (!check(c, what))
      return false;
    n = *c;
    return true;
  }
  bool str(std::string& out, const char* what) {
    auto s = r_.read_string();
    if (!check(s, what))
      return false;
    out.assign(s->data(), s->size());
    return true;
  }
  bool bin(std::string& out, const char* what) {
    auto s = r_.read_binary();
    if (!check(s, what))
      return false;
    out.assign(s->data(), s->size());
    return true;
  }
  // A user payload: empty (storage refuses it where it matters) or valid
  // MessagePack.
  bool payload(std::string& out, const char* what) {
    if (!bin(out, what))
      return false;
    return out.empty() || check(validate_msgpack(out, wire_limits()), what);
  }
  bool u64(std::uint64_t& out, const char* what) {
    auto v = r_.read_uint64();
    if (!check(v, what))
      return false;
    out = *v;
    return true;
  }
  bool i64(std::int64_t& out, const char* what) {
    auto v = r_.read_int64();
    if (!check(v, what))
      return false;
    out = *v;
    return true;
  }
  bool boolean(bool& out, const char* what) {
    auto v = r_.read_bool();
    if (!check(v, what))
      return false;
    out = *v;
    return true;
  }
  // True when the next value is nil (consumed); false otherwise.
  bool nil() {
    if (failed_ || !r_.next_is_nil())
      return false;
    return check(r_.read_nil(), "nil");
  }
  template <class T, class F>
  bool opt(std::optional<T>& out, F&& read) {
    if (failed_)
      return false;
    if (nil()) {
      out.reset();
      return true;
    }
    out.emplace();
    return read(*out);
  }
  template <class T, class F>
  bool vec(std::vector<T>& out, const char* what, F&& read) {
    std::uint32_t n = 0;
    if (!array_any(n, what))
      return false;
    out.clear();
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      out.emplace_back();
      if (!read(out.back()))
        return false;
    }
    return true;
  }
  bool at_end() {
    if (failed_)
      return false;
    if (!r_.at_end())
      return fail("trailing bytes");
    return true;
  }

private:
  msgpack_reader r_;
  bool failed_ = false;
  std::string why_;
};

bool get(in& d, session_ref& s) {
  return d.array(3, "session") && d.str(s.node, "session node")
         && d.u64(s.incarnation, "session incarnation")
         && d.u64(s.id, "session id");
}

bool get_opt_session(in& d, std::optional<session_ref>& s) {
  return d.opt(s, [&](session_ref& x) { return get(d, x); });
}

bool get_ids(in& d, std::vector<std::int64_t>& xs) {
  return d.vec(xs, "user ids", [&](std::int64_t& x) { return d.i64(x, "id"); });
}

bool get_uids(in& d, std::vector<std::uint64_t>& xs) {
  return d.vec(xs, "update ids",
               [&](std::uint64_t& x) { return d.u64(x, "id"); });
}

bool get(in& d, queued_update& u) {
  return d.array(4, "update") && d.u64(u.id, "update id")
         && d.u64(u.version, "update version")
         && d.boolean(u.locked, "update locked")
         && d.payload(u.data, "update data");
}

bool get_record(in& d, record& rec) {
  std::string bytes;
  if (!d.bin(bytes, "record"))
    return false;
  auto r = decode_record(bytes, wire_limits());
  if (!d.check(r, "record"))
    return false;
  rec = std::move(*r);
  return true;
}

bool get(in& d, key_info& k) {
  return d.array(8, "key info") && d.u64(k.version, "version")
         && d.i64(k.created_time, "created time")
         && d.i64(k.version_created_time, "version created time")
         && d.i64(k.updated_time, "updated time") && d.u64(k.size, "size")
         && get_ids(d, k.user_ids) && d.bin(k.key_metadata, "key metadata")
         && d.boolean(k.deleted, "deleted");
}

bool get_enum(in& d, std::uint8_t& out, std::uint8_t max, const char* what) {
  std::uint64_t v = 0;
  if (!d.u64(v, what))
    return false;
  if (v > max)
    return d.fail(std::string(what) + ": unknown value " + std::to_string(v));
  out = static_cast<std::uint8_t>(v);
  return true;
}

bool get_template(in& d, std::shared_ptr<const std::string>& out) {
  if (d.nil()) {
    out.reset();
    return d.ok();
  }
  std::string bytes;
  if (!d.payload(bytes, "template"))
    return false;
  out = std::make_shared<const std::string>(std::move(bytes));
  return true;
}

bool get(in& d, start_session_op& op) {
  auto& r = op.request;
  return d.array(9, "start_session_op") && d.str(op.store, "store")
         && d.str(op.key, "key") && get(d, r.requester)
         && d.boolean(r.steal, "steal")
         && d.boolean(r.first_attempt, "first attempt")
         && d.boolean(r.owner_lease_expired, "owner lease expired")
         && d.i64(r.assume_dead_ms, "assume dead")
         && get_template(d, op.template_data) && d.nil();
}

bool get(in& d, save_op& op) {
  auto& r = op.request;
  std::uint8_t final = 0;
  if (!(d.array(11, "save_op") && d.str(op.store, "store")
        && d.str(op.key, "key") && get(d, r.session)
        && d.payload(r.data, "data") && d.payload(r.meta_tags, "meta tags")
        && get_ids(d, r.user_ids) && d.payload(r.key_metadata, "key metadata")
        && get_uids(d, r.processed_update_ids)
        && get_uids(d, r.lock_update_ids)
        && get_enum(d, final, static_cast<std::uint8_t>(final_action::handoff),
                    "final action")
        && get_opt_session(d, r.handoff_to)))
    return false;
  r.final = static_cast<final_action>(final);
  return true;
}

bool get(in& d, save_group_op& op) {
  return d.array(2, "save_group_op") && d.str(op.store, "store")
         && d.vec(op.saves, "saves", [&](save_op& s) { return get(d, s); });
}

bool get(in& d, message_op& op) {
  std::uint64_t max_queue = 0;
  if (!(d.array(4, "message_op") && d.str(op.store, "store")
        && d.str(op.key, "key") && d.payload(op.request.data, "message")
        && d.u64(max_queue, "max queue")))
    return false;
  op.request.max_queue = static_cast<std::size_t>(max_queue);
  return true;
}

bool get(in& d, set_op& op) {
  auto& r = op.request;
  return d.array(7, "set_op") && d.str(op.store, "store")
         && d.str(op.key, "key") && d.payload(r.data, "data")
         && d.payload(r.meta_tags, "meta tags") && get_ids(d, r.user_ids)
         && d.payload(r.key_metadata, "key metadata")
         && get_uids(d, r.processed_update_ids);
}

bool get(in& d, remove_op& op) {
  return d.array(2, "remove_op") && d.str(op.store, "store")
         && d.str(op.key, "key");
}

bool get(in& d, update_edit& e) {
  std::uint8_t kind = 0;
  if (!(d.array(3, "update edit")
        && get_enum(d, kind, static_cast<std::uint8_t>(update_edit_kind::clear),
                    "update edit kind")
        && d.u64(e.id, "update id")))
    return false;
  e.kind = static_cast<update_edit_kind>(kind);
  return d.payload(e.data, "update data"); // empty for a clear
}

bool get(in& d, edit_updates_op& op) {
  std::uint64_t max_queue = 0;
  if (!(d.array(4, "edit_updates_op") && d.str(op.store, "store")
        && d.str(op.key, "key")
        && d.vec(op.request.edits, "edits",
                 [&](update_edit& e) { return get(d, e); })
        && d.u64(max_queue, "max queue")))
    return false;
  op.request.max_queue = static_cast<std::size_t>(max_queue);
  return true;
}

bool get(in& d, save_reply& r) {
  return d.array(6, "save reply") && get_opt_session(d, r.force_load)
         && d.vec(r.updates, "updates",
                  [&](queued_update& u) { return get(d, u); })
         && d.u64(r.session_load_count, "session load count")
         && d.boolean(r.released, "released")
         && d.boolean(r.handed_off, "handed off")
         && get_opt_session(d, r.new_owner);
}

bool get(in& d, op_reply& reply) {
  std::uint64_t index = 0;
  if (!(d.array(2, "reply") && d.u64(index, "reply kind")))
    return false;
  switch (index) {
    case 0: {
      start_session_reply r;
      std::uint8_t outcome = 0;
      if (!(d.array(6, "start reply")
            && get_enum(d, outcome,
                        static_cast<std::uint8_t>(start_outcome::superseded),
                        "start outcome")
            && d.opt(r.rec, [&](record& x) { return get_record(d, x); })
            && d.boolean(r.created, "created")
            && d.boolean(r.overwritten, "overwritten")
            && get_opt_session(d, r.owner)
            && d.i64(r.owner_last_update, "owner last update")))
        return false;
      r.outcome = static_cast<start_outcome>(outcome);
      reply = std::move(r);
      return true;
    }
    case 1: {
      save_reply r;
      if (!get(d, r))
        return false;
      reply = std::move(r);
      return true;
    }
    case 2: {
      std::vector<save_reply> rs;
      if (!d.vec(rs, "group replies", [&](save_reply& r) { return get(d, r); }))
        return false;
      reply = std::move(rs);
      return true;
    }
    case 3: {
      message_reply r;
      if (!(d.array(3, "message reply") && d.u64(r.id, "id")
            && get_opt_session(d, r.owner)
            && d.boolean(r.overwritten, "overwritten")))
        return false;
      reply = std::move(r);
      return true;
    }
    case 4: {
      set_reply r;
      if (!(d.array(1, "set reply") && get_opt_session(d, r.previous_owner)))
        return false;
      reply = std::move(r);
      return true;
    }
    case 5: {
      remove_reply r;
      if (!(d.array(2, "remove reply") && d.boolean(r.existed, "existed")
            && get_opt_session(d, r.previous_owner)))
        return false;
      reply = std::move(r);
      return true;
    }
    case 6: {
      edit_updates_reply r;
      if (!(d.array(4, "edit updates reply")
            && d.vec(r.updates, "updates",
                     [&](queued_update& u) { return get(d, u); })
            && get_uids(d, r.added_ids) && get_opt_session(d, r.owner)
            && d.boolean(r.overwritten, "overwritten")))
        return false;
      reply = std::move(r);
      return true;
    }
    default:
      return d.fail("unknown reply kind " + std::to_string(index));
  }
}

bool get(in& d, applied_op& a) {
  return d.array(3, "applied_op") && get(d, a.reply)
         && d.opt(a.written, [&](key_info& k) { return get(d, k); })
         && d.vec(a.group_written, "group written",
                  [&](key_info& k) { return get(d, k); });
}

bool get(in& d, read_request& r) {
  return d.array(4, "read_request") && d.str(r.store, "store")
         && d.str(r.key, "key")
         && d.opt(r.version,
                  [&](std::uint64_t& v) { return d.u64(v, "version"); })
         && get_template(d, r.template_data);
}

bool get(in& d, read_result& r) {
  return d.opt(r.found, [&](read_reply& x) {
    return d.array(3, "read reply") && get_record(d, x.rec)
           && get(d, x.info) && d.boolean(x.overwritten, "overwritten");
  });
}

bool get(in& d, version_query& q) {
  std::uint64_t limit = 0;
  if (!(d.array(5, "version_query") && d.boolean(q.descending, "descending")
        && d.opt(q.min_time, [&](std::int64_t& t) { return d.i64(t, "min"); })
        && d.opt(q.max_time, [&](std::int64_t& t) { return d.i64(t, "max"); })
        && d.u64(limit, "limit")
        && d.opt(q.after_version,
                 [&](std::uint64_t& v) { return d.u64(v, "after"); })))
    return false;
  q.limit = static_cast<std::size_t>(limit);
  return true;
}

bool get(in& d, version_page& p) {
  return d.array(2, "version_page")
         && d.vec(p.versions, "versions", [&](key_info& k) { return get(d, k); })
         && d.opt(p.next_after,
                  [&](std::uint64_t& v) { return d.u64(v, "next after"); });
}

bool get(in& d, list_request& r) {
  return d.array(3, "list_request") && d.str(r.store, "store")
         && d.str(r.key, "key") && get(d, r.query);
}

bool get(in& d, list_result& r) { return get(d, r.page); }

bool get(in& d, lease_request& r) {
  return d.array(4, "lease_request") && d.str(r.node, "node")
         && d.u64(r.incarnation, "incarnation") && d.str(r.address, "address")
         && d.i64(r.lease_ms, "lease");
}

bool get(in& d, lease_reply& r) {
  return d.array(2, "lease_reply") && d.i64(r.lease_until, "lease until")
         && d.i64(r.now, "now");
}

// ---- administration (admin_messages.hpp) ----------------------------------

bool get(in& d, admin_scan_request& r) {
  std::uint8_t tab = 0, from = 0;
  std::uint64_t entries = 0, bytes = 0;
  if (!(d.array(5, "admin_scan_request")
        && get_enum(d, tab, static_cast<std::uint8_t>(table_count - 1), "table")
        && get_enum(d, from, static_cast<std::uint8_t>(scan_from::last),
                    "scan start")
        && d.bin(r.key, "scan key") && d.u64(entries, "max entries")
        && d.u64(bytes, "max bytes")))
    return false;
  r.tab = static_cast<table>(tab);
  r.from = static_cast<scan_from>(from);
  // Clamped, not refused: the reader clamps again to its own bounds.
  r.max_entries = static_cast<std::uint32_t>(
    std::min<std::uint64_t>(entries, max_scan_entries));
  r.max_bytes = static_cast<std::uint32_t>(
    std::min<std::uint64_t>(bytes, max_scan_bytes));
  return true;
}

bool get(in& d, admin_scan_page& p) {
  return d.array(2, "admin_scan_page")
         && d.vec(p.entries, "entries",
                  [&](std::pair<std::string, std::string>& e) {
                    return d.array(2, "entry") && d.bin(e.first, "entry key")
                           && d.bin(e.second, "entry value");
                  })
         && d.boolean(p.complete, "complete");
}

bool get(in& d, operation& op) {
  std::uint64_t index = 0;
  if (!(d.array(2, "admin operation") && d.u64(index, "operation kind")))
    return false;
  auto take = [&](auto x) {
    if (!get(d, x))
      return false;
    op = std::move(x);
    return true;
  };
  if (index == operation(message_op{}).index())
    return take(message_op{});
  if (index == operation(set_op{}).index())
    return take(set_op{});
  if (index == operation(remove_op{}).index())
    return take(remove_op{});
  return d.fail("operation kind " + std::to_string(index)
                + " is not an administration write (set, message, remove)");
}

bool get(in& d, admin_write_request& r) {
  return d.vec(r.ops, "operations", [&](operation& op) { return get(d, op); });
}

bool get(in& d, admin_write_reply& r) {
  return d.array(2, "admin_write_reply")
         && d.vec(r.applied, "applied",
                  [&](applied_op& a) { return get(d, a); })
         && d.opt(r.failure, [&](admin_write_failure& f) {
              std::uint8_t code = 0;
              if (!(d.array(3, "write failure") && d.u64(f.index, "index")
                    && get_enum(d, code, 255, "error code")
                    && d.str(f.message, "message")))
                return false;
              f.code = static_cast<errc>(code);
              return true;
            });
}

bool get(in& d, admin_prune_request& r) {
  return d.array(4, "admin_prune_request")
         && d.bin(r.resume_after, "resume after")
         && d.i64(r.retention_ms, "retention")
         && d.u64(r.max_versions, "max versions")
         && d.u64(r.max_keys, "max keys");
}

bool get(in& d, admin_prune_reply& r) {
  std::uint64_t keys = 0, removed = 0;
  if (!(d.array(5, "admin_prune_reply") && d.u64(keys, "keys visited")
        && d.u64(removed, "versions removed")
        && d.bin(r.progress.resume_after, "resume after")
        && d.boolean(r.progress.complete, "complete")
        && d.i64(r.retention_ms, "retention")))
    return false;
  r.progress.keys_visited = static_cast<std::size_t>(keys);
  r.progress.versions_removed = static_cast<std::size_t>(removed);
  return true;
}

template <class T>
caf::error decode_any(std::string_view bytes, T& out, const char* type) {
  in d(bytes);
  std::uint64_t version = 0;
  T tmp;
  if (d.array(2, "envelope") && d.u64(version, "wire version")) {
    if (version != wire_version)
      d.fail("wire version " + std::to_string(version)
             + " is not this build's version " + std::to_string(wire_version)
             + "; run the same profilestore version on every node");
    else
      get(d, tmp) && d.at_end();
  }
  if (!d.ok())
    return to_caf_error(errc::malformed_input,
                        std::string("a remote ") + type
                          + " message is malformed: " + d.why());
  out = std::move(tmp);
  return caf::none;
}

} // namespace

#define PROFILESTORE_WIRE_DEFINE(T)                                            \
  std::string encode(const T& x) { return encode_any(x); }                     \
  caf::error decode(std::string_view bytes, T& x) {                            \
    return decode_any(bytes, x, #T);                                           \
  }
PROFILESTORE_WIRE_TYPES(PROFILESTORE_WIRE_DEFINE)
#undef PROFILESTORE_WIRE_DEFINE

} // namespace profilestore::wire
