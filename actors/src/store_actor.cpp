#include "profilestore/actors/store_actor.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "internal_messages.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/store/node_directory.hpp"

namespace profilestore {

std::int64_t system_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

namespace {

// A start_group_op being applied: answered once, when its last start is.
struct start_group_answer {
  caf::response_promise rp;
  std::vector<start_group_result> results;
  std::size_t waiting = 0; // starts not yet committed or refused
};

// Where a queued write's outcome goes: the promise of its own request, or
// its place in a group's answer.
struct reply_slot {
  caf::response_promise rp; // when not in a group
  std::shared_ptr<start_group_answer> group;
  std::size_t index = 0;
};

struct writer_state {
  std::shared_ptr<storage> st;
  store_actor_options options;
  std::vector<operation> pending_ops;
  std::vector<reply_slot> pending_replies; // one per pending op
  bool commit_scheduled = false;
  // Node name -> its node actor, for telling owners at once.
  std::unordered_map<std::string, caf::actor> nodes;
  static inline const char* name = "profilestore.store_writer";
};

using writer_actor = caf::stateful_actor<writer_state>;

std::int64_t now_ms(const store_actor_options& o) {
  return o.clock ? o.clock() : system_clock_ms();
}

void schedule_commit(writer_actor* self) {
  auto& s = self->state;
  if (!s.commit_scheduled) {
    s.commit_scheduled = true;
    self->send(self, commit_atom::value);
  }
}

// Queues one write for the next group commit.
caf::response_promise enqueue(writer_actor* self, operation op) {
  auto& s = self->state;
  s.pending_ops.push_back(std::move(op));
  s.pending_replies.push_back(reply_slot{self->make_response_promise(), {}, 0});
  schedule_commit(self);
  return s.pending_replies.back().rp;
}

// Queues a group's starts, in order, each as if it had come alone; the
// group is answered when the last of them is.
caf::response_promise enqueue_group(writer_actor* self, start_group_op& g) {
  auto& s = self->state;
  auto answer = std::make_shared<start_group_answer>();
  answer->rp = self->make_response_promise();
  if (g.ops.empty()) {
    answer->rp.deliver(start_group_reply{});
    return answer->rp;
  }
  answer->results.resize(g.ops.size());
  answer->waiting = g.ops.size();
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    s.pending_ops.emplace_back(std::move(g.ops[i]));
    s.pending_replies.push_back(reply_slot{{}, answer, i});
  }
  schedule_commit(self);
  return answer->rp;
}

// Delivers one write's outcome to where it is awaited.
void answer(reply_slot& slot, result<applied_op>&& outcome) {
  if (!slot.group) {
    if (outcome)
      slot.rp.deliver(std::move(*outcome));
    else
      slot.rp.deliver(to_caf_error(outcome.err()));
    return;
  }
  auto& g = *slot.group;
  auto& r = g.results[slot.index];
  if (outcome)
    r.applied = std::move(*outcome);
  else
    r.err = outcome.err();
  if (--g.waiting == 0)
    g.rp.deliver(start_group_reply{std::move(g.results)});
}

// A start found the key locked by another node's session. If the directory
// knows that node's lease, the requester is told to try again the moment the
// lease runs out (rule S3 then lets it take the lock), instead of at its next
// retry period. An owner that renews meanwhile just costs one more attempt.
void schedule_lease_kick(writer_actor* self, const start_session_op& op,
                         const session_ref& owner) {
  auto& s = self->state;
  if (s.nodes.count(op.request.requester.node) == 0)
    return;
  auto txn = s.st->get_backend().begin_read();
  if (!txn)
    return;
  auto entry = read_node(**txn, owner.node);
  if (!entry || !*entry || (*entry)->incarnation != owner.incarnation)
    return;
  auto wait_ms = (*entry)->lease_until - now_ms(s.options);
  if (wait_ms < 0)
    wait_ms = 0;
  // Delayed here and then sent: CAF 0.17 delivers a delayed_send to a remote
  // actor at once.
  self->delayed_send(self, std::chrono::milliseconds(wait_ms + 1),
                     handed_atom::value, op.store, op.key,
                     op.request.requester);
}

// A final save handed the lock to `new_owner`: its node gets the record as
// it now stands (read after the commit, in this thread), so the waiting start
// completes without another write. If the read fails, the notice goes
// without it and the requester takes the lock with one more attempt.
void tell_handed(writer_actor* self, const save_op& op,
                 const session_ref& new_owner) {
  auto& s = self->state;
  auto node = s.nodes.find(new_owner.node);
  if (node == s.nodes.end())
    return;
  read_result current;
  if (auto r = s.st->get(op.store, op.key); r && *r
      && (*r)->rec.meta.active_session == new_owner)
    current.found = std::move(**r);
  self->send(node->second, handed_atom::value, op.store, op.key, new_owner,
             std::move(current));
}

void notify_owners(writer_actor* self, const operation& op,
                   const applied_op& applied) {
  auto& nodes = self->state.nodes;
  auto tell = [&](const std::string& node, auto&&... xs) {
    auto i = nodes.find(node);
    if (i != nodes.end())
      self->send(i->second, std::forward<decltype(xs)>(xs)...);
  };
  if (auto* m = std::get_if<message_op>(&op)) {
    const auto& reply = std::get<message_reply>(applied.reply);
    if (reply.owner) {
      queued_update update;
      update.id = reply.id;
      update.data = m->request.data;
      tell(reply.owner->node, notify_atom::value, m->store, m->key,
           std::move(update));
    }
  } else if (auto* e = std::get_if<edit_updates_op>(&op)) {
    // Added and changed updates reach the owner at once, as messages do;
    // a clear needs no notice (the owner's next save sees the queue).
    const auto& reply = std::get<edit_updates_reply>(applied.reply);
    if (reply.owner) {
      std::size_t adds = 0;
      for (const auto& edit : e->request.edits) {
        if (edit.kind == update_edit_kind::clear)
          continue;
        auto id = edit.kind == update_edit_kind::add
                    ? reply.added_ids.at(adds++)
                    : edit.id;
        for (const auto& u : reply.updates)
          if (u.id == id)
            tell(reply.owner->node, notify_atom::value, e->store, e->key, u);
      }
    }
  } else if (auto* s = std::get_if<start_session_op>(&op)) {
    const auto& reply = std::get<start_session_reply>(applied.reply);
    if (reply.outcome == start_outcome::locked && reply.owner
        && reply.owner->node != s->request.requester.node) {
      tell(reply.owner->node, release_atom::value, s->store, s->key,
           *reply.owner, s->request.requester);
      schedule_lease_kick(self, *s, *reply.owner);
    }
  } else if (auto* so = std::get_if<set_op>(&op)) {
    // The owner's session is over: tell it now rather than at its next save,
    // so it stops taking changes that can no longer be saved.
    const auto& reply = std::get<set_reply>(applied.reply);
    if (reply.previous_owner)
      tell(reply.previous_owner->node, lost_atom::value, so->store, so->key,
           *reply.previous_owner);
  } else if (auto* ro = std::get_if<remove_op>(&op)) {
    const auto& reply = std::get<remove_reply>(applied.reply);
    if (reply.previous_owner)
      tell(reply.previous_owner->node, lost_atom::value, ro->store, ro->key,
           *reply.previous_owner);
  } else if (auto* sv = std::get_if<save_op>(&op)) {
    // A final save handed the lock to a waiting requester: tell its node at
    // once, so the hand-off costs no retry period.
    const auto& reply = std::get<save_reply>(applied.reply);
    if (reply.handed_off && reply.new_owner)
      tell_handed(self, *sv, *reply.new_owner);
  }
}

// How many of the oldest queued writes the next transaction takes: at most
// max_batch (at least one), and beyond the first no more than
// max_batch_bytes of payload.
std::size_t next_batch_size(const writer_state& s) {
  const auto max_ops = std::max<std::size_t>(1, s.options.max_batch);
  std::size_t n = 0;
  std::size_t bytes = 0;
  for (; n < s.pending_ops.size() && n < max_ops; ++n) {
    bytes += payload_bytes(s.pending_ops[n]);
    if (n > 0 && bytes > s.options.max_batch_bytes)
      break;
  }
  return n;
}

void commit(writer_actor* self) {
  auto& s = self->state;
  s.commit_scheduled = false;
  std::vector<operation> ops;
  std::vector<reply_slot> replies;
  const auto take = next_batch_size(s);
  if (take == s.pending_ops.size()) {
    ops.swap(s.pending_ops);
    replies.swap(s.pending_replies);
  } else {
    // Take the oldest `take`; the rest form the next batch.
    auto n = static_cast<std::ptrdiff_t>(take);
    ops.assign(std::make_move_iterator(s.pending_ops.begin()),
               std::make_move_iterator(s.pending_ops.begin() + n));
    replies.assign(std::make_move_iterator(s.pending_replies.begin()),
                   std::make_move_iterator(s.pending_replies.begin() + n));
    s.pending_ops.erase(s.pending_ops.begin(), s.pending_ops.begin() + n);
    s.pending_replies.erase(s.pending_replies.begin(),
                            s.pending_replies.begin() + n);
    s.commit_scheduled = true;
    self->send(self, commit_atom::value);
  }
  std::vector<result<applied_op>> results;
  try {
    results = s.st->apply_batch(ops, now_ms(s.options));
  } catch (const std::exception& e) {
    auto err = make_error(errc::internal,
                          std::string("storage failed: ") + e.what());
    for (auto& slot : replies)
      answer(slot, result<applied_op>(err));
    return;
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i])
      notify_owners(self, ops[i], *results[i]);
    answer(replies[i], std::move(results[i]));
  }
}

caf::behavior store_writer(writer_actor* self, std::shared_ptr<storage> st,
                           store_actor_options options) {
  self->state.st = std::move(st);
  self->state.options = std::move(options);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& nodes = self->state.nodes;
    for (auto i = nodes.begin(); i != nodes.end();) {
      if (i->second.address() == msg.source)
        i = nodes.erase(i);
      else
        ++i;
    }
  });
  return {
    [self](start_session_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](start_group_op& g) -> caf::result<start_group_reply> {
      return enqueue_group(self, g);
    },
    [self](save_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](save_group_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](message_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](set_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](remove_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](edit_updates_op& op) -> caf::result<applied_op> {
      return enqueue(self, std::move(op));
    },
    [self](commit_atom) { commit(self); },
    // A lease kick come due (schedule_lease_kick): tell the requester's node.
    [self](handed_atom, const std::string& store, const std::string& key,
           const session_ref& requester) {
      auto& nodes = self->state.nodes;
      if (auto i = nodes.find(requester.node); i != nodes.end())
        self->send(i->second, handed_atom::value, store, key, requester);
    },
    // A node's heartbeat: renews its lease in the node directory, in a small
    // transaction of its own on the writer's thread, between group commits
    // (LMDB has one writer; this keeps lease writes from blocking on it).
    [self](lease_atom, const lease_request& req) -> caf::result<lease_reply> {
      auto& s = self->state;
      auto now = now_ms(s.options);
      auto e = renew_lease(s.st->get_backend(), req.node, req.incarnation,
                           req.address, req.lease_ms, now);
      if (!e)
        return to_caf_error(e.err());
      return lease_reply{e->lease_until, now};
    },
    // Administration (admin_messages.hpp): after every write queued before
    // it, so an admin write keeps mailbox order with the group commits.
    [self](admin_write_request& req) -> caf::result<admin_write_reply> {
      while (!self->state.pending_ops.empty())
        commit(self);
      auto reply = admin_write(*self->state.st, req, now_ms(self->state.options));
      for (std::size_t i = 0; i < reply.applied.size(); ++i)
        notify_owners(self, req.ops[i], reply.applied[i]);
      return reply;
    },
    [self](admin_prune_request& req) -> caf::result<admin_prune_reply> {
      while (!self->state.pending_ops.empty())
        commit(self);
      auto r = admin_prune(*self->state.st, req, now_ms(self->state.options));
      if (!r)
        return to_caf_error(r.err());
      return std::move(*r);
    },
    [self](hello_atom, const std::string& node, const caf::actor& handle) {
      auto& slot = self->state.nodes[node];
      if (slot != handle) {
        slot = handle;
        self->monitor(handle);
      }
      return caf::unit;
    },
  };
}

struct reader_state {
  std::shared_ptr<storage> st;
  static inline const char* name = "profilestore.store_reader";
};

caf::behavior store_reader(caf::stateful_actor<reader_state>* self,
                           std::shared_ptr<storage> st) {
  self->state.st = std::move(st);
  return {
    [self](read_atom, const read_request& req) -> caf::result<read_result> {
      auto r = self->state.st->get(req.store, req.key, req.version,
                                   req.template_data.get());
      if (!r)
        return to_caf_error(r.err());
      return read_result{std::move(*r)};
    },
    [self](const admin_scan_request& req) -> caf::result<admin_scan_page> {
      auto r = admin_scan(self->state.st->get_backend(), req);
      if (!r)
        return to_caf_error(r.err());
      return std::move(*r);
    },
    [self](admin_atom, info_atom) -> std::uint64_t {
      return self->state.st->get_backend().stats().map_size;
    },
    [self](list_atom, const list_request& req) -> caf::result<list_result> {
      auto r = self->state.st->list_versions(req.store, req.key, req.query);
      if (!r)
        return to_caf_error(r.err());
      return list_result{std::move(*r)};
    },
  };
}

} // namespace

std::size_t recommended_workers(bool hosts_storage, unsigned cores) {
  if (cores == 0)
    return 4;
  std::size_t spare = hosts_storage ? 1 : 0;
  return cores > spare ? cores - spare : 1;
}

void use_recommended_workers(caf::actor_system_config& cfg,
                             bool hosts_storage) {
  cfg.set("scheduler.max-threads",
          recommended_workers(hosts_storage,
                              std::thread::hardware_concurrency()));
}

void store_actors::stop() const {
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
}

store_actors spawn_store_actors(caf::actor_system& sys,
                                std::shared_ptr<backend> b,
                                store_actor_options options) {
  // The storage keeps a reference to the backend; this aliasing pointer
  // keeps the backend alive as long as the storage.
  auto holder = std::make_shared<std::pair<std::shared_ptr<backend>, storage>>(
    b, storage(*b, options.storage));
  std::shared_ptr<storage> st(holder, &holder->second);
  store_actors out;
  if (options.detached_writer)
    out.writer = sys.spawn<caf::detached>(store_writer, st, std::move(options));
  else
    out.writer = sys.spawn(store_writer, st, std::move(options));
  out.reader = sys.spawn(store_reader, st);
  out.shared_storage = std::move(st);
  return out;
}

} // namespace profilestore
