#include "record_cache.hpp"

namespace profilestore {

const std::string& record_cache::map_key(std::string_view store,
                                         std::string_view key) const {
  map_key_.assign(store);
  map_key_.push_back('\0');
  map_key_.append(key);
  return map_key_;
}

void record_cache::begin(std::uint64_t txn_id) {
  // A batch that never ended (an exception) may have staged writes that
  // were never committed; someone else's commit since then makes nothing
  // here sure.
  if (in_batch_ || expected_next_ != txn_id)
    entries_.clear();
  in_batch_ = true;
  current_txn_ = txn_id;
  batch_wrote_ = false;
}

const record_cache::entry* record_cache::find(std::string_view store,
                                              std::string_view key) const {
  if (!enabled())
    return nullptr;
  auto e = entries_.find(map_key(store, key));
  return e == entries_.end() ? nullptr : &e->second;
}

void record_cache::stage(std::string_view store, std::string_view key,
                         const head_entry& head, record rec,
                         std::size_t bytes_without_data) {
  batch_wrote_ = true;
  if (!enabled())
    return;
  if (bytes_without_data > max_cached_record_bytes) {
    forget(store, key);
    return;
  }
  std::string().swap(rec.data); // frees Data's buffer, not just its length
  // The key is copied into the map only when it is new.
  entry& at = entries_.try_emplace(map_key(store, key)).first->second;
  at.head = head;
  at.current = current_record{std::move(rec), false};
}

void record_cache::forget(std::string_view store, std::string_view key) {
  batch_wrote_ = true;
  if (!enabled())
    return;
  entries_.erase(map_key(store, key));
}

void record_cache::committed() {
  in_batch_ = false;
  if (entries_.size() > max_entries_)
    entries_.clear();
  expected_next_ = batch_wrote_ ? current_txn_ + 1 : current_txn_;
}

void record_cache::aborted() {
  in_batch_ = false;
  entries_.clear(); // this batch's writes never happened (rule 1)
  // The transaction left no trace, so the next one has its number again.
  expected_next_ = current_txn_;
}

} // namespace profilestore
