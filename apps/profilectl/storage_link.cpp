// The two storage links of profilectl (storage_link.hpp).
#include "storage_link.hpp"

#include <filesystem>

#include "node_connection.hpp"
#include "profilestore/actors/cluster.hpp"

namespace profilestore::ctl {
namespace {

class local_storage_link final : public storage_link {
public:
  local_storage_link(lmdb_backend& env, storage_options options,
                     std::string dir)
    : env_(env), options_(options), dir_(std::move(dir)) {}

  std::string where() const override { return "'" + dir_ + "'"; }
  bool remote() const noexcept override { return false; }

  result<std::vector<applied_op>>
  write_all_or_nothing(const std::vector<operation>& ops, std::int64_t now,
                       atomic_batch_failure* failure) override {
    return apply_all_or_nothing(env_, options_, ops, now, failure);
  }

  result<pruned_step> prune_step(std::int64_t now,
                                 const std::string& resume_after,
                                 std::int64_t retention_ms) override {
    storage_options options = options_;
    if (retention_ms > 0)
      options.versions.retention_ms = retention_ms;
    storage st(env_, options);
    auto step = st.prune(now, resume_after);
    if (!step)
      return std::move(step).err();
    return pruned_step{std::move(*step), options.versions.retention_ms};
  }

  result<storage_sizes> sizes() override {
    storage_sizes out;
    std::error_code ec;
    auto bytes = std::filesystem::file_size(
      std::filesystem::path(dir_) / "data.mdb", ec);
    if (!ec)
      out.data_file_bytes = bytes;
    out.map_size = env_.stats().map_size;
    return out;
  }

private:
  lmdb_backend& env_;
  storage_options options_;
  std::string dir_;
};

// Over a connection, an import is one message (all or nothing on the node);
// this bounds it well below the wire's own limit of one blob.
constexpr std::size_t max_remote_write_bytes = std::size_t{64} << 20;

// What one operation adds to the message beyond its payload, about.
constexpr std::size_t wire_bytes_per_operation = 64;

class remote_storage_link final : public storage_link {
public:
  explicit remote_storage_link(std::shared_ptr<node_connection> c)
    : conn_(std::move(c)) {}

  std::string where() const override {
    return "the storage node at " + to_string(conn_->where());
  }
  bool remote() const noexcept override { return true; }

  result<std::vector<applied_op>>
  write_all_or_nothing(const std::vector<operation>& ops, std::int64_t,
                       atomic_batch_failure* failure) override {
    std::size_t bytes = 0;
    for (const auto& op : ops)
      bytes += payload_bytes(op) + wire_bytes_per_operation;
    if (bytes > max_remote_write_bytes)
      return fail(failure, ops.size(),
                  make_error(errc::invalid_argument,
                             "over --connect all records go in one message "
                             "of at most "
                               + std::to_string(max_remote_write_bytes >> 20)
                               + " MiB (this write is about "
                               + std::to_string(bytes >> 20)
                               + " MiB); split the input into smaller files"));
    admin_write_request req;
    req.ops = ops;
    auto reply = conn_->write(req);
    if (!reply)
      return fail(failure, ops.size(), reply.err());
    if (reply->failure)
      return fail(failure, reply->failure->index,
                  make_error(reply->failure->code, reply->failure->message));
    if (reply->applied.size() != ops.size())
      return fail(failure, ops.size(),
                  make_error(errc::internal,
                             "the storage node answered "
                               + std::to_string(reply->applied.size())
                               + " results for " + std::to_string(ops.size())
                               + " operations"));
    return std::move(reply->applied);
  }

  result<pruned_step> prune_step(std::int64_t,
                                 const std::string& resume_after,
                                 std::int64_t retention_ms) override {
    admin_prune_request req;
    req.resume_after = resume_after;
    req.retention_ms = retention_ms;
    auto reply = conn_->prune(req);
    if (!reply)
      return std::move(reply).err();
    return pruned_step{std::move(reply->progress), reply->retention_ms};
  }

  result<storage_sizes> sizes() override {
    auto map = conn_->map_size();
    if (!map)
      return std::move(map).err();
    storage_sizes out;
    out.map_size = *map;
    return out;
  }

private:
  static error fail(atomic_batch_failure* failure, std::size_t index,
                    error e) {
    if (failure) {
      failure->index = index;
      failure->err = e;
    }
    return e;
  }

  std::shared_ptr<node_connection> conn_;
};

} // namespace

std::unique_ptr<storage_link> local_link(lmdb_backend& env,
                                         storage_options options,
                                         std::string dir) {
  return std::make_unique<local_storage_link>(env, options, std::move(dir));
}

std::unique_ptr<storage_link> remote_link(std::shared_ptr<node_connection> c) {
  return std::make_unique<remote_storage_link>(std::move(c));
}

} // namespace profilestore::ctl
