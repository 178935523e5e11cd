#include "record_cache.hpp"

namespace profilestore {

void record_cache::begin(std::uint64_t txn_id) {
  undo(); // a batch that never ended (an exception) left no trace either
  if (expected_next_ != txn_id)
    entries_.clear(); // someone else committed since: nothing here is sure
  current_txn_ = txn_id;
  batch_wrote_ = false;
}

const record_cache::entry* record_cache::find(std::string_view store,
                                              std::string_view key) const {
  if (!enabled())
    return nullptr;
  auto e = entries_.find(heads_key(store, key));
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
  entry fresh{head, current_record{std::move(rec), false}};
  std::string k = heads_key(store, key);
  auto [at, inserted] = entries_.try_emplace(k);
  if (inserted) {
    undo_log_.emplace_back(std::move(k), std::nullopt);
  } else {
    undo_log_.emplace_back(std::move(k), std::move(at->second));
  }
  at->second = std::move(fresh);
}

void record_cache::forget(std::string_view store, std::string_view key) {
  batch_wrote_ = true;
  if (!enabled())
    return;
  std::string k = heads_key(store, key);
  auto at = entries_.find(k);
  if (at == entries_.end())
    return; // nothing to forget, nothing to put back
  undo_log_.emplace_back(std::move(k), std::move(at->second));
  entries_.erase(at);
}

void record_cache::committed() {
  undo_log_.clear();
  if (entries_.size() > max_entries_)
    entries_.clear();
  expected_next_ = batch_wrote_ ? current_txn_ + 1 : current_txn_;
}

void record_cache::aborted() {
  undo();
  // The transaction left no trace, so the next one has its number again.
  expected_next_ = current_txn_;
}

void record_cache::undo() {
  for (auto i = undo_log_.rbegin(); i != undo_log_.rend(); ++i) {
    if (i->second)
      entries_.insert_or_assign(i->first, std::move(*i->second));
    else
      entries_.erase(i->first);
  }
  undo_log_.clear();
}

} // namespace profilestore
