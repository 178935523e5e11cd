// Versioned keys over a backend: layout, window, retention, tombstones
// (versions.hpp, docs/format.md).
#include "profilestore/store/versions.hpp"

#include <algorithm>
#include <limits>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/codec/typed.hpp"
#include "profilestore/store/record.hpp"
#include "elapsed_time.hpp"

namespace profilestore {
namespace {

constexpr std::uint64_t entry_format = 1;
constexpr std::uint64_t flag_deleted = 1;

void append_be64(std::string& out, std::uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  out.append(bytes, 8);
}

// store \0 key, with room for `extra` more bytes: one allocation for a
// whole key (heads_key, versions_prefix and versions_key are on every
// save's and every start's path).
std::string key_base(std::string_view store, std::string_view key,
                     std::size_t extra) {
  std::string out;
  out.reserve(store.size() + 1 + key.size() + extra);
  out.append(store).push_back('\0');
  out.append(key);
  return out;
}

std::uint64_t read_be64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (char c : bytes.substr(0, 8))
    v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Limits for reading an entry's header. They must accept every header that
// storage writes, whatever storage_limits it runs under (a header it cannot
// read makes the whole key read as corrupt), so nothing here is tighter than
// the entry itself: every count read is also checked against the bytes left,
// which bounds the work a damaged entry can cost. The key metadata is read
// by its structure only (it was validated under the storage's limits when
// it was written, and is decoded under them again where it is used).
decode_limits entry_limits() {
  decode_limits l;
  l.max_container_length = std::numeric_limits<std::size_t>::max();
  l.max_total_bytes = std::numeric_limits<std::size_t>::max();
  return l;
}

} // namespace

std::string heads_key(std::string_view store, std::string_view key) {
  return key_base(store, key, 0);
}

std::string versions_prefix(std::string_view store, std::string_view key) {
  std::string out = key_base(store, key, 1);
  out.push_back('\0');
  return out;
}

std::string versions_key(std::string_view store, std::string_view key,
                         std::uint64_t version) {
  std::string out = key_base(store, key, 1 + 8);
  out.push_back('\0');
  append_be64(out, version);
  return out;
}

// ---- entries ------------------------------------------------------------------

std::string encode_head_entry(const head_entry& head) {
  std::string out;
  string_sink sink(out);
  msgpack::packer<string_sink> pk(sink);
  pk.pack_array(6);
  pk.pack_uint64(entry_format);
  pk.pack_uint64(head.latest_version);
  pk.pack_int64(head.created_time);
  pk.pack_int64(head.version_created_time);
  pk.pack_int64(head.updated_time);
  if (head.deleted)
    pk.pack_true();
  else
    pk.pack_false();
  sink.flush();
  return out;
}

result<head_entry> decode_head_entry(std::string_view bytes) {
  msgpack_reader r(bytes, entry_limits());
  auto bad = [](const std::string& why) {
    return make_error(errc::corrupt_record, "head entry: " + why);
  };
  auto n = r.read_array_header();
  if (!n || *n < 6)
    return bad("not an array of 6");
  auto format = r.read_uint64();
  if (!format || *format != entry_format)
    return bad("unknown entry format");
  head_entry h;
  auto latest = r.read_uint64();
  auto created = r.read_int64();
  auto vcreated = r.read_int64();
  auto updated = r.read_int64();
  auto deleted = r.read_bool();
  if (!latest || !created || !vcreated || !updated || !deleted)
    return bad("field of the wrong type");
  h.latest_version = *latest;
  h.created_time = *created;
  h.version_created_time = *vcreated;
  h.updated_time = *updated;
  h.deleted = *deleted;
  return h;
}

void encode_version_entry(const key_info& info, std::string_view record_bytes,
                          std::string& out) {
  encode_version_entry_header(info, out);
  out.append(record_bytes);
}

void encode_version_entry_header(const key_info& info, std::string& out) {
  string_sink sink(out);
  msgpack::packer<string_sink> pk(sink);
  pk.pack_array(7);
  pk.pack_uint64(entry_format);
  pk.pack_uint64(info.deleted ? flag_deleted : 0);
  pk.pack_int64(info.created_time);
  pk.pack_int64(info.version_created_time);
  pk.pack_int64(info.updated_time);
  pk.pack_array(static_cast<std::uint32_t>(info.user_ids.size()));
  for (auto id : info.user_ids)
    pk.pack_int64(id);
  sink.flush();
  if (info.key_metadata.empty())
    out += empty_msgpack_map;
  else
    out += info.key_metadata;
}

namespace {

result<void> decode_version_header(msgpack_reader& r, key_info& info) {
  auto n = r.read_array_header();
  if (!n || *n != 7)
    return make_error(errc::corrupt_record, "version header");
  auto format = r.read_uint64();
  if (!format || *format != entry_format)
    return make_error(errc::corrupt_record, "version entry format");
  auto flags = r.read_uint64();
  auto created = r.read_int64();
  auto vcreated = r.read_int64();
  auto updated = r.read_int64();
  if (!flags || !created || !vcreated || !updated)
    return make_error(errc::corrupt_record, "version header field");
  info.deleted = (*flags & flag_deleted) != 0;
  info.created_time = *created;
  info.version_created_time = *vcreated;
  info.updated_time = *updated;
  auto ids = r.read_array_header();
  if (!ids)
    return std::move(ids).err();
  info.user_ids.clear();
  for (std::uint32_t i = 0; i < *ids; ++i) {
    auto id = r.read_int64();
    if (!id)
      return std::move(id).err();
    info.user_ids.push_back(*id);
  }
  auto type = r.peek();
  if (!type || *type != wire_type::map)
    return make_error(errc::corrupt_record, "version key metadata");
  auto meta = r.read_object_structure();
  if (!meta)
    return std::move(meta).err();
  info.key_metadata = std::string(*meta);
  return {};
}

} // namespace

stored_version decode_version_entry(std::uint64_t version,
                                    std::string_view bytes) {
  stored_version out;
  out.info.version = version;
  msgpack_reader r(bytes, entry_limits());
  if (!decode_version_header(r, out.info).ok()) {
    key_info bare;
    bare.version = version;
    bare.size = bytes.size();
    out.info = std::move(bare);
    out.record_bytes = bytes;
    out.header_corrupt = true;
    return out;
  }
  out.record_bytes = bytes.substr(r.offset());
  out.info.size = out.record_bytes.size();
  return out;
}

// ---- reads ----------------------------------------------------------------------

namespace {

// Rebuilds a damaged head entry from the newest version entry of the key, so
// that a bad head never makes a key unreadable or unwritable.
result<std::optional<head_entry>> recover_head(read_transaction& txn,
                                               std::string_view store,
                                               std::string_view key) {
  std::string prefix = versions_prefix(store, key);
  auto cur = txn.open_cursor(table::versions);
  if (!cur)
    return std::move(cur).err();
  auto& c = **cur;
  std::string beyond = prefix;
  append_be64(beyond, ~std::uint64_t{0});
  PROFILESTORE_TRY(c.seek(beyond));
  bool at_maximum = c.valid() && c.key() == std::string_view(beyond);
  if (!at_maximum)
    PROFILESTORE_TRY(c.valid() ? c.prev() : c.last());
  if (!c.valid() || !starts_with(c.key(), prefix))
    return std::optional<head_entry>{};
  auto entry = decode_version_entry(read_be64(c.key().substr(prefix.size())),
                                    c.value());
  head_entry h;
  h.latest_version = entry.info.version;
  h.created_time = entry.info.created_time;
  h.version_created_time = entry.info.version_created_time;
  h.updated_time = entry.info.updated_time;
  h.deleted = entry.info.deleted;
  h.rebuilt = true;
  return std::optional<head_entry>{h};
}

} // namespace

result<std::optional<head_entry>> read_head(read_transaction& txn,
                                            std::string_view store,
                                            std::string_view key) {
  auto raw = txn.get(table::heads, heads_key(store, key));
  if (!raw)
    return std::move(raw).err();
  if (!*raw)
    return std::optional<head_entry>{};
  auto head = decode_head_entry(**raw);
  if (!head)
    return recover_head(txn, store, key);
  return std::optional<head_entry>{*head};
}

result<std::optional<stored_version>> read_version(read_transaction& txn,
                                                   std::string_view store,
                                                   std::string_view key,
                                                   std::uint64_t version) {
  auto raw = txn.get(table::versions, versions_key(store, key, version));
  if (!raw)
    return std::move(raw).err();
  if (!*raw)
    return std::optional<stored_version>{};
  return std::optional<stored_version>{decode_version_entry(version, **raw)};
}

result<std::optional<stored_version>> read_latest(read_transaction& txn,
                                                  std::string_view store,
                                                  std::string_view key) {
  auto head = read_head(txn, store, key);
  if (!head)
    return std::move(head).err();
  if (!*head)
    return std::optional<stored_version>{};
  return read_version(txn, store, key, (*head)->latest_version);
}

// ---- writes -----------------------------------------------------------------------

namespace {

// Decides the version number and times of a write (rules 1 and 2).
key_info plan_version(const std::optional<head_entry>& head,
                      const version_write& w, std::int64_t now,
                      const version_policy& policy, bool& appended) {
  key_info info;
  info.updated_time = now;
  info.deleted = w.tombstone;
  if (!head) {
    appended = true;
    info.version = 1;
    info.created_time = now;
    info.version_created_time = now;
    return info;
  }
  // A head created after `now` (a clock set back, or damaged bytes) is not
  // in the window either: the write appends rather than replace a version
  // whose time cannot be trusted.
  const std::int64_t age = elapsed_ms(now, head->version_created_time);
  bool in_window = policy.window_ms > 0 && age >= 0 && age < policy.window_ms;
  appended = head->deleted || w.tombstone || w.force_new_version || !in_window;
  if (!appended) {
    info.version = head->latest_version;
    info.created_time = head->created_time;
    info.version_created_time = head->version_created_time;
    return info;
  }
  info.version = head->latest_version + 1;
  info.created_time = head->deleted ? now : head->created_time;
  info.version_created_time = now;
  return info;
}

} // namespace

result<key_info> write_version(write_transaction& txn, std::string_view store,
                               std::string_view key, const version_write& w,
                               std::int64_t now, const version_policy& policy) {
  std::optional<head_entry> head;
  if (w.known_head) {
    head = *w.known_head;
  } else {
    auto read = read_head(txn, store, key);
    if (!read)
      return std::move(read).err();
    head = std::move(*read);
  }
  bool appended = false;
  key_info info = plan_version(head, w, now, policy, appended);
  // Only damaged bytes reach the last version number; the next would wrap
  // to 0 and sort before every other version of the key.
  if (appended && head && info.version <= head->latest_version)
    return make_error(errc::corrupt_record,
                      "the key's version numbers are used up (its head names "
                      "the largest version there is: damaged bytes)");
  if (w.user_ids)
    info.user_ids = *w.user_ids;
  info.key_metadata = w.key_metadata.empty() ? empty_msgpack_map
                                             : std::string(w.key_metadata);
  std::string entry;
  entry.reserve(std::max(w.record_bytes.size(), w.record_size_hint) + 64
                + info.key_metadata.size());
  encode_version_entry_header(info, entry);
  const auto header_size = entry.size();
  if (w.append_record)
    w.append_record(entry);
  else
    entry.append(w.record_bytes);
  info.size = entry.size() - header_size;
  PROFILESTORE_TRY(
    txn.put(table::versions, versions_key(store, key, info.version), entry));
  // A replacement in place (not appended, so the head exists) changes only
  // the head's updated_time, which nothing reads from the head: leaving the
  // head alone saves each save within the window a put, and spares the
  // transaction the head's page (saves of many keys otherwise dirty the
  // heads table's pages between the versions table's, and LMDB writes each
  // run of adjacent dirty pages with its own write call). A rebuilt head is
  // stored again.
  if (appended || head->rebuilt) {
    head_entry new_head{info.version, info.created_time,
                        info.version_created_time, info.updated_time,
                        info.deleted};
    PROFILESTORE_TRY(txn.put(table::heads, heads_key(store, key),
                             encode_head_entry(new_head)));
  }
  if (appended && info.version > 1) {
    auto pruned = prune_key(txn, store, key, now, policy, policy.prune_batch);
    if (!pruned)
      return std::move(pruned).err();
  }
  return info;
}

result<std::size_t> prune_key(write_transaction& txn, std::string_view store,
                              std::string_view key, std::int64_t now,
                              const version_policy& policy,
                              std::size_t max_versions) {
  if (max_versions == 0)
    return std::size_t{0};
  std::string prefix = versions_prefix(store, key);
  std::vector<std::string> expired;
  {
    auto cur = txn.open_cursor(table::versions);
    if (!cur)
      return std::move(cur).err();
    auto& c = **cur;
    PROFILESTORE_TRY(c.seek(prefix));
    std::string previous_key;
    while (c.valid() && starts_with(c.key(), prefix)
           && expired.size() < max_versions) {
      auto entry = decode_version_entry(read_be64(c.key().substr(prefix.size())),
                                        c.value());
      if (!previous_key.empty()) {
        // `previous` was superseded when this version was created.
        if (entry.header_corrupt
            || elapsed_ms(now, entry.info.version_created_time)
                 < policy.retention_ms)
          break;
        expired.push_back(previous_key);
      }
      previous_key = std::string(c.key());
      PROFILESTORE_TRY(c.next());
    }
  }
  for (const auto& k : expired)
    PROFILESTORE_TRY(txn.del(table::versions, k));
  return expired.size();
}

result<prune_progress> prune_versions(write_transaction& txn, std::int64_t now,
                                      const version_policy& policy,
                                      std::string_view resume_after,
                                      std::size_t max_versions,
                                      std::size_t max_keys) {
  prune_progress progress;
  std::vector<std::pair<std::string, head_entry>> batch;
  {
    auto cur = txn.open_cursor(table::heads);
    if (!cur)
      return std::move(cur).err();
    auto& c = **cur;
    PROFILESTORE_TRY(c.seek(resume_after));
    if (c.valid() && !resume_after.empty() && c.key() == resume_after)
      PROFILESTORE_TRY(c.next());
    while (c.valid() && batch.size() < max_keys) {
      auto head = decode_head_entry(c.value());
      if (head)
        batch.emplace_back(std::string(c.key()), *head);
      else
        batch.emplace_back(std::string(c.key()), head_entry{});
      PROFILESTORE_TRY(c.next());
    }
    if (!c.valid())
      batch.emplace_back(); // end marker: the pass is complete
  }
  for (const auto& [hkey, head] : batch) {
    if (hkey.empty()) {
      progress.resume_after.clear();
      progress.complete = true;
      return progress;
    }
    ++progress.keys_visited;
    if (head.latest_version > 1) {
      auto sep = hkey.find('\0');
      std::size_t budget = max_versions - progress.versions_removed;
      auto removed = prune_key(txn, std::string_view(hkey).substr(0, sep),
                               std::string_view(hkey).substr(sep + 1), now,
                               policy, budget);
      if (!removed)
        return std::move(removed).err();
      progress.versions_removed += *removed;
      // The budget ran out inside this key: it may hold more expired
      // versions, so the next step starts with it again.
      if (*removed == budget)
        return progress;
    }
    progress.resume_after = hkey;
  }
  return progress;
}

// ---- listings ---------------------------------------------------------------------

namespace {

bool in_time_range(const key_info& info, const version_query& q) {
  if (q.min_time && info.version_created_time < *q.min_time)
    return false;
  if (q.max_time && info.version_created_time > *q.max_time)
    return false;
  return true;
}

// Positions `c` at the first version to visit in the query's direction.
result<void> position(cursor& c, const std::string& prefix,
                      const version_query& q) {
  if (!q.descending) {
    std::uint64_t start = q.after_version ? *q.after_version + 1 : 0;
    std::string k = prefix;
    append_be64(k, start);
    return c.seek(k);
  }
  std::uint64_t start = q.after_version ? *q.after_version - 1
                                        : ~std::uint64_t{0};
  std::string k = prefix;
  append_be64(k, start);
  PROFILESTORE_TRY(c.seek(k));
  if (!c.valid())
    return c.last();
  if (c.key() > std::string_view(k))
    return c.prev();
  return {};
}

} // namespace

result<version_page> list_versions(read_transaction& txn,
                                   std::string_view store,
                                   std::string_view key,
                                   const version_query& q) {
  version_page page;
  if (q.limit == 0)
    return make_error(errc::invalid_argument,
                      "a version query's limit must be at least 1");
  // Nothing lies beyond the ends of the version number range.
  if (q.after_version
      && (q.descending ? *q.after_version <= 1
                       : *q.after_version == ~std::uint64_t{0}))
    return page;
  std::string prefix = versions_prefix(store, key);
  auto cur = txn.open_cursor(table::versions);
  if (!cur)
    return std::move(cur).err();
  auto& c = **cur;
  PROFILESTORE_TRY(position(c, prefix, q));
  while (c.valid() && starts_with(c.key(), prefix)) {
    auto version = read_be64(c.key().substr(prefix.size()));
    auto entry = decode_version_entry(version, c.value());
    if (entry.header_corrupt || in_time_range(entry.info, q)) {
      if (page.versions.size() == q.limit) {
        page.next_after = page.versions.back().version;
        break;
      }
      page.versions.push_back(std::move(entry.info));
    }
    PROFILESTORE_TRY(q.descending ? c.prev() : c.next());
  }
  return page;
}

result<key_listing> list_keys(read_transaction& txn, std::string_view store,
                              std::string_view prefix, std::string_view after,
                              std::size_t limit, bool include_removed) {
  key_listing out;
  if (limit == 0)
    return make_error(errc::invalid_argument,
                      "a key listing's limit must be at least 1");
  std::string lower = heads_key(store, prefix);
  std::string start = heads_key(store, after);
  if (after.empty() || start < lower)
    start = lower;
  auto cur = txn.open_cursor(table::heads);
  if (!cur)
    return std::move(cur).err();
  auto& c = **cur;
  PROFILESTORE_TRY(c.seek(start));
  if (!after.empty() && c.valid() && c.key() == heads_key(store, after))
    PROFILESTORE_TRY(c.next());
  std::size_t skip = store.size() + 1;
  while (c.valid() && starts_with(c.key(), lower)) {
    auto head = decode_head_entry(c.value());
    if (include_removed || !head || !head->deleted) {
      if (out.keys.size() == limit) {
        out.next_after = out.keys.back();
        break;
      }
      out.keys.emplace_back(c.key().substr(skip));
    }
    PROFILESTORE_TRY(c.next());
  }
  return out;
}

result<std::vector<std::string>> list_stores(read_transaction& txn) {
  std::vector<std::string> stores;
  auto cur = txn.open_cursor(table::heads);
  if (!cur)
    return std::move(cur).err();
  auto& c = **cur;
  PROFILESTORE_TRY(c.first());
  while (c.valid()) {
    auto k = c.key();
    auto sep = k.find('\0');
    std::string name(k.substr(0, sep));
    stores.push_back(name);
    if (sep == std::string_view::npos)
      break; // a damaged key; nothing sorts after it meaningfully
    PROFILESTORE_TRY(c.seek(name + '\x01'));
  }
  return stores;
}

} // namespace profilestore
