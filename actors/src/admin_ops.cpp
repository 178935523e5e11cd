// The storage node's side of the administration protocol
// (admin_messages.hpp): bounded table scans, all-or-nothing admin writes,
// pruning steps. The store actors call these in their own threads.
#include <algorithm>
#include <exception>
#include <string>
#include <type_traits>
#include <variant>

#include "admin_messages.hpp"
#include "profilestore/store/atomic_batch.hpp"

namespace profilestore {
namespace {

// Positions `c` where the scan starts.
result<void> position(cursor& c, const admin_scan_request& req) {
  switch (req.from) {
    case scan_from::at_or_after:
      return c.seek(req.key);
    case scan_from::after:
      PROFILESTORE_TRY(c.seek(req.key));
      if (c.valid() && c.key() == req.key)
        return c.next();
      return {};
    case scan_from::before:
      PROFILESTORE_TRY(c.seek(req.key));
      return c.valid() ? c.prev() : c.last();
    case scan_from::last:
      return c.last();
  }
  return make_error(errc::invalid_argument, "unknown scan start");
}

bool forward(scan_from from) {
  return from == scan_from::at_or_after || from == scan_from::after;
}

result<admin_scan_page> scan_unguarded(backend& b,
                                       const admin_scan_request& req) {
  if (static_cast<std::uint8_t>(req.tab) >= table_count)
    return make_error(errc::invalid_argument, "unknown table");
  const std::size_t max_entries
    = std::clamp<std::uint32_t>(req.max_entries, 1, max_scan_entries);
  const std::size_t max_bytes
    = std::clamp<std::uint32_t>(req.max_bytes, 1, max_scan_bytes);
  auto txn = b.begin_read();
  if (!txn)
    return std::move(txn).err();
  auto c = (*txn)->open_cursor(req.tab);
  if (!c)
    return std::move(c).err();
  PROFILESTORE_TRY(position(**c, req));
  admin_scan_page page;
  std::size_t bytes = 0;
  while ((*c)->valid() && page.entries.size() < max_entries
         && (page.entries.empty() || bytes < max_bytes)) {
    auto k = (*c)->key();
    auto v = (*c)->value();
    bytes += k.size() + v.size();
    page.entries.emplace_back(std::string(k), std::string(v));
    PROFILESTORE_TRY(forward(req.from) ? (*c)->next() : (*c)->prev());
  }
  page.complete = !(*c)->valid();
  return page;
}

admin_write_reply write_unguarded(storage& st, const admin_write_request& req,
                                  std::int64_t now) {
  admin_write_reply out;
  for (std::size_t i = 0; i < req.ops.size(); ++i) {
    const auto& op = req.ops[i];
    if (!std::holds_alternative<set_op>(op)
        && !std::holds_alternative<message_op>(op)
        && !std::holds_alternative<remove_op>(op)) {
      out.failure = admin_write_failure{
        i, errc::invalid_argument,
        "an administration write carries set, message and remove "
        "operations only; nothing written"};
      return out;
    }
  }
  atomic_batch_failure failure;
  auto applied = apply_all_or_nothing(st.get_backend(), st.options(), req.ops,
                                      now, &failure);
  if (!applied) {
    out.failure = admin_write_failure{failure.index, failure.err.code(),
                                      failure.err.message()};
    return out;
  }
  out.applied = std::move(*applied);
  return out;
}

result<admin_prune_reply> prune_unguarded(storage& st,
                                          const admin_prune_request& req,
                                          std::int64_t now) {
  if (req.retention_ms < 0)
    return make_error(errc::invalid_argument, "a negative retention");
  // Bounds of one step, so the writer returns to its group commits soon.
  auto max_versions = static_cast<std::size_t>(
    std::clamp<std::uint64_t>(req.max_versions, 1, 10'000));
  auto max_keys = static_cast<std::size_t>(
    std::clamp<std::uint64_t>(req.max_keys, 1, 100'000));
  admin_prune_reply out;
  if (req.retention_ms == 0) {
    auto step = st.prune(now, req.resume_after, max_versions, max_keys);
    if (!step)
      return std::move(step).err();
    out.progress = std::move(*step);
    out.retention_ms = st.options().versions.retention_ms;
    return out;
  }
  storage_options options = st.options();
  options.versions.retention_ms = req.retention_ms;
  storage with_retention(st.get_backend(), options);
  auto step = with_retention.prune(now, req.resume_after, max_versions,
                                   max_keys);
  if (!step)
    return std::move(step).err();
  out.progress = std::move(*step);
  out.retention_ms = req.retention_ms;
  return out;
}

// What the store layer throws (bad_alloc on a huge request, a stream
// failure) becomes an error answer: an administration request must never
// end the storage node's writer or reader.
error thrown(const std::exception& e) {
  return make_error(errc::internal,
                    std::string("storage node failed: ") + e.what());
}

} // namespace

result<admin_scan_page> admin_scan(backend& b, const admin_scan_request& req) {
  try {
    return scan_unguarded(b, req);
  } catch (const std::exception& e) {
    return thrown(e);
  }
}

admin_write_reply admin_write(storage& st, const admin_write_request& req,
                              std::int64_t now) {
  try {
    return write_unguarded(st, req, now);
  } catch (const std::exception& e) {
    admin_write_reply out;
    auto err = thrown(e);
    out.failure = admin_write_failure{req.ops.size(), err.code(),
                                      err.message() + "; nothing written"};
    return out;
  }
}

result<admin_prune_reply> admin_prune(storage& st,
                                      const admin_prune_request& req,
                                      std::int64_t now) {
  try {
    return prune_unguarded(st, req, now);
  } catch (const std::exception& e) {
    return thrown(e);
  }
}

} // namespace profilestore
