// storage: runs the pure operations of ops.hpp inside backend transactions,
// one durable commit per batch (storage.hpp).
#include "profilestore/store/storage.hpp"

#include <algorithm>
#include <cassert>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include "profilestore/codec/msgpack.hpp"
#include "profilestore/store/names.hpp"
#include "profilestore/store/node_directory.hpp"
#include "profilestore/store/record_codec.hpp"
#include "record_cache.hpp"

namespace profilestore {
namespace {

// Failures of the backend itself end the whole batch; any other error belongs
// to one operation. errc::internal (the backend ran out of memory, or
// misused a transaction) is one of them: it can come part-way through an
// operation's writes, and committing the batch would keep the half written.
bool is_backend_failure(errc code) {
  return code == errc::map_full || code == errc::storage_error
         || code == errc::storage_full || code == errc::storage_busy
         || code == errc::internal;
}

result<void> check_names(std::string_view store, std::string_view key) {
  PROFILESTORE_TRY(check_store_name(store));
  return check_key(key);
}

// How many templates storage remembers as checked (storage.hpp).
constexpr std::size_t max_checked_templates = 16;

// What an operation found under its key: the decoded record for the pure
// operation, and the head for the write that may follow.
struct loaded_key {
  current_record current;
  std::optional<head_entry> head;
};

// With `keep_data` false the record's Data is not copied out (an operation
// that replaces Data, a save, has no use for it).
result<loaded_key> load_current(read_transaction& txn, std::string_view store,
                                std::string_view key,
                                const decode_limits& limits,
                                bool keep_data = true) {
  loaded_key out;
  auto head = read_head(txn, store, key);
  if (!head)
    return std::move(head).err();
  out.head = std::move(*head);
  if (!out.head || out.head->deleted)
    return out;
  auto latest = read_version(txn, store, key, out.head->latest_version);
  if (!latest)
    return std::move(latest).err();
  if (!*latest) {
    // The head names a version that is not there. Every write puts a
    // version and its head in one transaction, and pruning never removes
    // the latest, so the bytes are damaged: the key reads as corrupt (a
    // start then replaces it and says so, OnOverwrite), not as absent.
    out.current.corrupt = true;
    return out;
  }
  if ((*latest)->info.deleted)
    return out;
  auto rec = keep_data ? decode_record((*latest)->record_bytes, limits)
                       : decode_record_without_data((*latest)->record_bytes,
                                                    limits);
  if (rec)
    out.current.rec = std::move(*rec);
  else if (rec.err().code() == errc::unsupported_format)
    return std::move(rec).err(); // never overwrite a newer writer's data
  else
    out.current.corrupt = true;
  return out;
}

// Executes one operation inside a write transaction.
class op_runner {
public:
  // `results`: the batch's results, where operation i's goes at index i
  // (messages held back are completed there when written).
  op_runner(write_transaction& txn, const storage_options& options,
            std::int64_t now, std::vector<std::string>& checked_templates,
            record_cache& cache, std::vector<result<applied_op>>& results)
    : txn_(txn), options_(options), now_(now),
      checked_templates_(checked_templates), cache_(cache),
      results_(results) {}

  // Before operation `index`, `op`: writes the held-back messages of the
  // keys it touches (see pending_messages). An error is a backend failure,
  // which aborts the batch.
  error before(std::size_t index, const operation& op);
  // After the last operation: writes every held-back message.
  error finish_batch();

  result<applied_op> operator()(const start_session_op& op);
  result<applied_op> operator()(const save_op& op);
  result<applied_op> operator()(const save_group_op& op);
  result<applied_op> operator()(const message_op& op);
  result<applied_op> operator()(const set_op& op);
  result<applied_op> operator()(const remove_op& op);
  result<applied_op> operator()(const edit_updates_op& op);

private:
  // A pure operation's outcome, with the head its key had when loaded.
  template <class Reply>
  struct planned {
    op_change<Reply> change;
    std::optional<head_entry> head;
  };

  result<loaded_key> load(std::string_view store, std::string_view key,
                          bool keep_data = true) {
    return load_current(txn_, store, key, options_.limits.record_decode,
                        keep_data);
  }

  // Loads the key and runs `pure(current)` on it; `keep_data` as in
  // load_current.
  template <class Reply, class Pure>
  result<planned<Reply>> plan(std::string_view store, std::string_view key,
                              Pure&& pure, bool keep_data = true) {
    auto loaded = load(store, key, keep_data);
    if (!loaded)
      return std::move(loaded).err();
    result<op_change<Reply>> change = pure(loaded->current);
    if (!change)
      return std::move(change).err();
    return planned<Reply>{std::move(*change), std::move(loaded->head)};
  }

  // Writes `w` as the key's next version. Every record write goes through
  // here (a removal forgets the key itself): a save that keeps its session
  // hands its record to the cache, since the session's next save will want
  // it (`remember`, worth_remembering); any other write
  // makes the cache forget the key (a start's record is as likely the last
  // write of a short session as the first of many, and keeping it cost
  // session-start bursts more than it saved).
  result<key_info> write(std::string_view store, std::string_view key,
                         record_write&& w,
                         const std::optional<head_entry>& head,
                         bool remember = false) {
    // The record is encoded straight into the version entry.
    version_write vw;
    vw.append_record = [&w](std::string& out) {
      encode_record(w.rec, w.data_bytes(), out);
    };
    vw.record_size_hint = w.data_bytes().size() + 256;
    vw.user_ids = &w.rec.user_ids;
    vw.key_metadata = w.rec.has_profile ? std::string_view(w.rec.key_metadata)
                                        : std::string_view{};
    vw.force_new_version = w.force_new_version;
    vw.known_head = &head;
    auto info = write_version(txn_, store, key, vw, now_, options_.versions);
    if (!info || !remember) {
      cache_.forget(store, key); // (on failure: some of it may be written)
      return info;
    }
    head_entry written{info->version, info->created_time,
                       info->version_created_time, info->updated_time,
                       info->deleted};
    const auto data_size = w.data_bytes().size();
    cache_.stage(store, key, written, std::move(w.rec),
                 info->size - std::min(info->size, data_size));
    return info;
  }

  template <class Reply>
  result<applied_op> finish(std::string_view store, std::string_view key,
                            result<planned<Reply>>&& p, bool remember = false) {
    if (!p)
      return std::move(p).err();
    applied_op out{op_reply{std::move(p->change.reply)}, std::nullopt, {}};
    if (p->change.write) {
      auto& w = *p->change.write;
      auto info = write(store, key, std::move(w), p->head, remember);
      if (!info)
        return std::move(info).err();
      out.written = std::move(*info);
      if constexpr (std::is_same_v<Reply, start_session_reply>) {
        // A started record goes back in the reply as written (ops.hpp). A
        // start is never remembered, so write() left the record in `w`.
        assert(!remember);
        auto& reply = std::get<start_session_reply>(out.reply);
        if (reply.outcome == start_outcome::started)
          reply.rec = std::move(w.rec);
      }
    }
    return out;
  }

  result<planned<save_reply>> plan_save(const save_op& op);

  // A new profile's Data must pass the checks of a save's Data; a template
  // seen before (by content) passed them already.
  result<void> check_template(std::string_view tmpl) {
    for (const auto& known : checked_templates_)
      if (known == tmpl)
        return {};
    PROFILESTORE_TRY(check_profile_data(tmpl, options_.limits));
    if (checked_templates_.size() >= max_checked_templates)
      checked_templates_.erase(checked_templates_.begin());
    checked_templates_.emplace_back(tmpl);
    return {};
  }

  // Messages to one key in a batch go into one record in memory, written
  // once: before any other operation on the key, or when the batch ends.
  // A write rewrites the key's whole record with every queued message, so
  // writing each message made a batch of n messages to one key cost O(n^2)
  // (1,000 messages of 4,000 B to one key took 9.8 s, holding up every
  // save behind it). Only with a version window: where every write is a
  // version of its own (window 0), each message keeps its own.
  struct pending_messages {
    std::string store;
    std::string key;
    record rec; // the key's record with the messages added so far
    std::optional<head_entry> head;
    bool force_new_version = false; // corrupt bytes were there
    std::vector<std::size_t> ops;   // the messages' indexes in results_
    bool written = false;
  };

  bool holds_messages_back() const noexcept {
    return options_.versions.window_ms > 0;
  }
  result<applied_op> hold_message(const message_op& op);
  error write_pending(pending_messages& p);
  error write_pending_of(std::string_view store, std::string_view key);

  write_transaction& txn_;
  const storage_options& options_;
  std::int64_t now_;
  std::vector<std::string>& checked_templates_;
  record_cache& cache_;
  std::vector<result<applied_op>>& results_;
  std::size_t index_ = 0; // of the operation being applied
  // In the order the keys got their first message; index_of_ finds a key's
  // entry (by heads_key) until it is written.
  std::vector<pending_messages> pending_;
  std::unordered_map<std::string, std::size_t> index_of_;
};

result<applied_op> op_runner::operator()(const start_session_op& op) {
  PROFILESTORE_TRY(check_names(op.store, op.key));
  PROFILESTORE_TRY(check_node_name(op.request.requester.node));
  std::string_view tmpl = op.template_data ? std::string_view(*op.template_data)
                                           : std::string_view{};
  if (!tmpl.empty())
    PROFILESTORE_TRY(check_template(tmpl));
  return finish(op.store, op.key,
                plan<start_session_reply>(
                  op.store, op.key,
                  [&](const current_record& current)
                    -> result<op_change<start_session_reply>> {
                    // Rule S3 is storage's to judge, never the caller's: the
                    // flag comes from the node directory.
                    start_session_request req = op.request;
                    req.owner_lease_expired = false;
                    if (current.rec && current.rec->meta.active_session) {
                      const auto& owner = *current.rec->meta.active_session;
                      auto entry = read_node(txn_, owner.node);
                      // An unreadable entry vouches for nobody and
                      // expires nobody.
                      if (entry)
                        req.owner_lease_expired
                          = owner_lease_expired(*entry, owner, now_);
                    }
                    return start_session(current, req, tmpl, now_);
                  }));
}

result<op_runner::planned<save_reply>>
op_runner::plan_save(const save_op& op) {
  PROFILESTORE_TRY(check_names(op.store, op.key));
  PROFILESTORE_TRY(check_save_request(op.request, options_.limits));
  // The record this storage wrote last, if it still knows it: no read.
  if (const auto* known = cache_.find(op.store, op.key)) {
    auto change = save(known->current, op.request, now_);
    if (!change)
      return std::move(change).err();
    return planned<save_reply>{std::move(*change), known->head};
  }
  // A save replaces Data: the stored Data is not copied out.
  return plan<save_reply>(
    op.store, op.key,
    [&](const current_record& current) {
      return save(current, op.request, now_);
    },
    false);
}

// Only a save that keeps its session going is remembered. After a release
// the key's next write through this storage is a start, which forgets it
// anyway, so keeping that record only grows the cache (measured: a cache
// filled by the final saves of ended sessions cost session-start bursts 2-4
// ms of CPU each; one kept tiny cost nothing). After a hand-off the new
// owner's first save reads the key once more: the price of keeping no ended
// session.
bool worth_remembering(const save_request& req) {
  return req.final == final_action::none;
}

result<applied_op> op_runner::operator()(const save_op& op) {
  return finish(op.store, op.key, plan_save(op),
                worth_remembering(op.request));
}

result<applied_op> op_runner::operator()(const save_group_op& op) {
  std::set<std::string_view> keys;
  for (const auto& s : op.saves) {
    if (s.store != op.store)
      return make_error(errc::invalid_argument,
                        "an atomic save group spans stores '" + op.store
                          + "' and '" + s.store + "'");
    if (!keys.insert(s.key).second)
      return make_error(errc::invalid_argument,
                        "an atomic save group names key '" + s.key
                          + "' twice");
  }
  // Plan every save before writing any, so a refusal writes nothing.
  std::vector<planned<save_reply>> plans;
  for (const auto& s : op.saves) {
    auto p = plan_save(s);
    if (!p)
      return make_error(p.err().code(),
                        "atomic save of key '" + s.key
                          + "' refused, nothing written: "
                          + p.err().message());
    plans.push_back(std::move(*p));
  }
  applied_op out{op_reply{std::vector<save_reply>{}}, std::nullopt, {}};
  auto& replies = std::get<std::vector<save_reply>>(out.reply);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    auto info = write(op.store, op.saves[i].key,
                      std::move(*plans[i].change.write), plans[i].head,
                      worth_remembering(op.saves[i].request));
    if (!info)
      return std::move(info).err();
    out.group_written.push_back(*info);
    out.written = std::move(*info);
    replies.push_back(std::move(plans[i].change.reply));
  }
  return out;
}

result<applied_op> op_runner::operator()(const message_op& op) {
  PROFILESTORE_TRY(check_names(op.store, op.key));
  if (holds_messages_back())
    return hold_message(op);
  return finish(op.store, op.key,
                plan<message_reply>(
                  op.store, op.key, [&](const current_record& current) {
                    return message(current, op.request, options_.limits,
                                   now_);
                  }));
}

result<applied_op> op_runner::hold_message(const message_op& op) {
  auto k = heads_key(op.store, op.key);
  auto found = index_of_.find(k);
  if (found != index_of_.end()) {
    auto& p = pending_[found->second];
    auto reply = add_message(p.rec, op.request, options_.limits);
    if (!reply)
      return std::move(reply).err(); // p.rec is as it was
    p.ops.push_back(index_);
    return applied_op{op_reply{std::move(*reply)}, std::nullopt, {}};
  }
  auto loaded = load(op.store, op.key);
  if (!loaded)
    return std::move(loaded).err();
  pending_messages p;
  p.store = op.store;
  p.key = op.key;
  p.head = std::move(loaded->head);
  p.force_new_version = loaded->current.corrupt;
  const bool existed = loaded->current.rec.has_value();
  if (existed)
    p.rec = std::move(*loaded->current.rec);
  else
    p.rec.has_profile = false; // messages to a profile never created
  auto reply = add_message(p.rec, op.request, options_.limits);
  if (!reply)
    return std::move(reply).err(); // nothing held: the key stays as it was
  reply->overwritten = !existed && p.force_new_version;
  p.ops.push_back(index_);
  index_of_.emplace(std::move(k), pending_.size());
  pending_.push_back(std::move(p));
  return applied_op{op_reply{std::move(*reply)}, std::nullopt, {}};
}

// Writes one key's held-back messages and gives their results the version
// written. A failure other than the backend's fails those messages alone.
error op_runner::write_pending(pending_messages& p) {
  p.written = true;
  index_of_.erase(heads_key(p.store, p.key));
  auto info = write(p.store, p.key,
                    record_write{std::move(p.rec), p.force_new_version},
                    p.head);
  if (!info) {
    if (is_backend_failure(info.err().code()))
      return info.err();
    for (auto i : p.ops)
      results_[i] = result<applied_op>(info.err());
    return {};
  }
  for (auto i : p.ops)
    results_[i]->written = *info;
  return {};
}

error op_runner::write_pending_of(std::string_view store,
                                  std::string_view key) {
  auto found = index_of_.find(heads_key(store, key));
  if (found == index_of_.end())
    return {};
  return write_pending(pending_[found->second]);
}

error op_runner::before(std::size_t index, const operation& op) {
  index_ = index;
  if (index_of_.empty())
    return {};
  return std::visit(
    [&](const auto& o) -> error {
      using op_type = std::decay_t<decltype(o)>;
      if constexpr (std::is_same_v<op_type, message_op>) {
        return {}; // joins its key's held-back messages
      } else if constexpr (std::is_same_v<op_type, save_group_op>) {
        for (const auto& save : o.saves)
          if (auto e = write_pending_of(save.store, save.key))
            return e;
        return {};
      } else {
        return write_pending_of(o.store, o.key);
      }
    },
    op);
}

error op_runner::finish_batch() {
  for (auto& p : pending_)
    if (!p.written)
      if (auto e = write_pending(p))
        return e;
  return {};
}

result<applied_op> op_runner::operator()(const edit_updates_op& op) {
  PROFILESTORE_TRY(check_names(op.store, op.key));
  return finish(op.store, op.key,
                plan<edit_updates_reply>(
                  op.store, op.key, [&](const current_record& current) {
                    return edit_updates(current, op.request, options_.limits,
                                        now_);
                  }));
}

result<applied_op> op_runner::operator()(const set_op& op) {
  PROFILESTORE_TRY(check_names(op.store, op.key));
  PROFILESTORE_TRY(check_set_request(op.request, options_.limits));
  return finish(op.store, op.key,
                plan<set_reply>(op.store, op.key,
                                [&](const current_record& current) {
                                  return set(current, op.request, now_);
                                }));
}

result<applied_op> op_runner::operator()(const remove_op& op) {
  PROFILESTORE_TRY(check_names(op.store, op.key));
  auto loaded = load(op.store, op.key);
  if (!loaded)
    return std::move(loaded).err();
  remove_reply reply = remove(loaded->current);
  applied_op out{op_reply{reply}, std::nullopt, {}};
  if (reply.existed) {
    version_write tombstone;
    tombstone.tombstone = true;
    tombstone.known_head = &loaded->head;
    auto info = write_version(txn_, op.store, op.key, tombstone, now_,
                              options_.versions);
    cache_.forget(op.store, op.key);
    if (!info)
      return std::move(info).err();
    out.written = std::move(*info);
  }
  return out;
}

std::vector<result<applied_op>> all_failed(std::size_t n, const error& e) {
  return std::vector<result<applied_op>>(n, result<applied_op>(e));
}

} // namespace

storage::storage(backend& b, storage_options options)
  : backend_(b), options_(std::move(options)),
    cache_(std::make_unique<record_cache>(options_.record_cache_entries)) {}

storage::~storage() = default;
storage::storage(storage&&) noexcept = default;

namespace {

// A save's or a set's names, Data, tags, key metadata and user ids.
template <class Op>
std::size_t record_fields_bytes(const Op& op) noexcept {
  const auto& r = op.request;
  return op.store.size() + op.key.size() + r.data.size() + r.meta_tags.size()
         + r.key_metadata.size() + r.user_ids.size() * sizeof(std::int64_t);
}

} // namespace

std::size_t payload_bytes(const operation& op) noexcept {
  struct visitor {
    std::size_t operator()(const start_session_op& o) const noexcept {
      return o.store.size() + o.key.size()
             + (o.template_data ? o.template_data->size() : 0);
    }
    std::size_t operator()(const save_op& o) const noexcept {
      return record_fields_bytes(o);
    }
    std::size_t operator()(const save_group_op& o) const noexcept {
      std::size_t n = o.store.size();
      for (const auto& s : o.saves)
        n += record_fields_bytes(s);
      return n;
    }
    std::size_t operator()(const message_op& o) const noexcept {
      return o.store.size() + o.key.size() + o.request.data.size();
    }
    std::size_t operator()(const set_op& o) const noexcept {
      return record_fields_bytes(o);
    }
    std::size_t operator()(const remove_op& o) const noexcept {
      return o.store.size() + o.key.size();
    }
    std::size_t operator()(const edit_updates_op& o) const noexcept {
      std::size_t n = o.store.size() + o.key.size();
      for (const auto& e : o.request.edits)
        n += e.data.size();
      return n;
    }
  };
  return std::visit(visitor{}, op);
}

std::vector<result<applied_op>>
storage::apply_batch(const std::vector<operation>& ops, std::int64_t now) {
  for (int attempt = 0;; ++attempt) {
    auto txn = backend_.begin_write();
    if (!txn)
      return all_failed(ops.size(), txn.err());
    std::vector<result<applied_op>> results;
    results.reserve(ops.size());
    error fatal;
    cache_->begin((*txn)->id());
    op_runner runner(**txn, options_, now, checked_templates_, *cache_,
                     results);
    for (const auto& op : ops) {
      fatal = runner.before(results.size(), op);
      if (fatal)
        break;
      auto r = std::visit(runner, op);
      if (!r.ok() && is_backend_failure(r.err().code())) {
        fatal = r.err();
        break;
      }
      results.push_back(std::move(r));
    }
    if (!fatal)
      fatal = runner.finish_batch();
    if (!fatal) {
      auto committed = (*txn)->commit();
      if (committed.ok()) {
        cache_->committed();
        return results;
      }
      fatal = committed.err();
    }
    txn->reset(); // aborts: nothing of this batch was written
    cache_->aborted();
    if (fatal.code() == errc::map_full) {
      if (attempt < options_.max_grow_attempts) {
        auto grown = backend_.grow();
        if (grown.ok())
          continue;
        fatal = grown.err();
      } else {
        fatal = make_error(errc::storage_full,
                           "the batch does not fit even after growing the "
                           "map "
                             + std::to_string(attempt) + " times");
      }
    }
    for (auto& r : results)
      if (r.ok())
        r = result<applied_op>(fatal);
    while (results.size() < ops.size())
      results.emplace_back(fatal);
    return results;
  }
}

result<applied_op> storage::apply(const operation& op, std::int64_t now) {
  return std::move(apply_batch({op}, now).front());
}

result<std::optional<read_reply>>
storage::get(std::string_view store, std::string_view key,
             std::optional<std::uint64_t> version,
             const std::string* template_data) const {
  PROFILESTORE_TRY(check_names(store, key));
  auto txn = backend_.begin_read();
  if (!txn)
    return std::move(txn).err();
  auto overwritten = [&](key_info info) {
    read_reply out;
    out.info = std::move(info);
    out.rec = make_new_profile(template_data ? *template_data : std::string{},
                               out.info.updated_time);
    out.rec.was_overwritten = true;
    out.overwritten = true;
    return std::optional<read_reply>{std::move(out)};
  };
  std::optional<head_entry> head;
  if (!version) {
    auto read = read_head(**txn, store, key);
    if (!read)
      return std::move(read).err();
    head = std::move(*read);
    if (!head || head->deleted)
      return std::optional<read_reply>{};
  }
  auto found = read_version(**txn, store, key,
                            version ? *version : head->latest_version);
  if (!found)
    return std::move(found).err();
  if (!*found) {
    if (version)
      return std::optional<read_reply>{};
    // The head names a version that is not there: damaged bytes, read as
    // a corrupt record (as load_current does), not as an absent key.
    key_info info;
    info.version = head->latest_version;
    info.created_time = head->created_time;
    info.version_created_time = head->version_created_time;
    info.updated_time = head->updated_time;
    return overwritten(std::move(info));
  }
  if ((*found)->info.deleted)
    return std::optional<read_reply>{};
  auto rec = decode_record((*found)->record_bytes,
                           options_.limits.record_decode);
  if (!rec && rec.err().code() == errc::unsupported_format)
    return std::move(rec).err();
  if (!rec)
    return overwritten((*found)->info);
  read_reply out;
  out.info = (*found)->info;
  out.rec = std::move(*rec);
  return std::optional<read_reply>{std::move(out)};
}

result<version_page> storage::list_versions(std::string_view store,
                                            std::string_view key,
                                            const version_query& query) const {
  PROFILESTORE_TRY(check_names(store, key));
  auto txn = backend_.begin_read();
  if (!txn)
    return std::move(txn).err();
  return profilestore::list_versions(**txn, store, key, query);
}

result<key_listing> storage::list_keys(std::string_view store,
                                       std::string_view prefix,
                                       std::string_view after,
                                       std::size_t limit,
                                       bool include_removed) const {
  PROFILESTORE_TRY(check_store_name(store));
  auto txn = backend_.begin_read();
  if (!txn)
    return std::move(txn).err();
  return profilestore::list_keys(**txn, store, prefix, after, limit,
                                 include_removed);
}

result<std::vector<std::string>> storage::list_stores() const {
  auto txn = backend_.begin_read();
  if (!txn)
    return std::move(txn).err();
  return profilestore::list_stores(**txn);
}

result<prune_progress> storage::prune(std::int64_t now,
                                      std::string_view resume_after,
                                      std::size_t max_versions,
                                      std::size_t max_keys) {
  // A step of 0 would return its resume point unchanged: a caller looping
  // until the walk ends would loop for ever.
  if (max_versions == 0 || max_keys == 0)
    return make_error(errc::invalid_argument,
                      "a pruning step must cover at least 1 version and 1 key");
  for (int attempt = 0;; ++attempt) {
    auto txn = backend_.begin_write();
    if (!txn)
      return std::move(txn).err();
    auto progress = prune_versions(**txn, now, options_.versions, resume_after,
                                   max_versions, max_keys);
    error failure;
    if (progress) {
      auto committed = (*txn)->commit();
      if (committed.ok())
        return progress;
      failure = committed.err();
    } else {
      failure = progress.err();
    }
    txn->reset();
    if (failure.code() != errc::map_full
        || attempt >= options_.max_grow_attempts)
      return failure;
    PROFILESTORE_TRY(backend_.grow());
  }
}

} // namespace profilestore
