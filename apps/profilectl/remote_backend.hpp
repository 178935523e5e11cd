// remote_backend: the read side of a storage node as a backend
// (store/backend.hpp), so that profilectl's commands read a remote storage
// through the same store-layer code as a local LMDB folder (storage::get,
// list_versions, the catalog walks).
//
// Every get() and every cursor page is one bounded scan request to the
// node's reader (admin_messages.hpp). Cursors fetch pages that start small
// and grow (a point lookup moves little, a walk moves large pages), so no
// walk ever becomes one giant message.
//
// Differences from the backend contracts, by design:
//  - A read transaction is not one snapshot: each page comes from its own
//    read transaction on the node. A walk over a storage that is being
//    written may see a key's head and its versions from slightly different
//    moments. The store layer reads a head that names a missing version as
//    a corrupt record; that needs a version pruned between the two reads,
//    which the default retention (30 days) rules out.
//  - Views returned by get() stay valid for the next recent_values get()
//    calls of the same transaction, not until its end, so that a walk over
//    a large storage does not keep every value in memory (the store layer
//    uses each view before its next few reads). Cursor views follow
//    contract 4.
//  - begin_write() is refused: profilectl writes through the node's writer
//    (storage_link), never as a second writer.
//
// Thread safety: one thread (node_connection is not thread-safe).
#pragma once

#include <memory>

#include "node_connection.hpp"
#include "profilestore/store/backend.hpp"

namespace profilestore::ctl {

class remote_backend final : public backend {
public:
  explicit remote_backend(std::shared_ptr<node_connection> conn)
    : conn_(std::move(conn)) {}

  static constexpr std::size_t recent_values = 64;

  result<std::unique_ptr<read_transaction>> begin_read() override;
  result<std::unique_ptr<write_transaction>> begin_write() override;
  result<void> grow() override;
  bool durable() const noexcept override { return true; }
  backend_stats stats() const override { return {}; }

private:
  std::shared_ptr<node_connection> conn_;
};

} // namespace profilestore::ctl
