// A transaction over several profiles of this node (transact_atom): the
// node spawns one per call and asks it (transact_atom) once.
//
// 1. Borrows the profiles one by one in (store, key) order, so two
//    transactions over overlapping sets cannot wait for each other in a
//    cycle; each borrow has the store request timeout.
// 2. Copies their data, runs the caller's function on all of them.
// 3. Saves them all in one save_group_op: one storage transaction, fencing
//    checked for each; all or nothing.
// 4. Returns every profile: on success with the save's outcome; on any
//    failure with what the function could change restored from the copy
//    (transaction_access::snapshot), so memory and storage agree that the
//    transaction never happened.
#include <algorithm>
#include <exception>
#include <numeric>
#include <set>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "internal_messages.hpp"
#include "node_actor.hpp"
#include "profile_actor.hpp"
#include "profilestore/actors/errors.hpp"
#include "profilestore/actors/profile_context.hpp"

namespace profilestore {

// What a transaction function can change through a borrowed profile's
// context, kept so that a failed transaction puts all of it back: the data,
// user ids, key metadata, meta tags, the asked locks and clears of queued
// messages, and the asked save or end (a function that asked for its
// profile's end and then failed must not end it).
struct transaction_access {
  struct snapshot {
    std::unique_ptr<profile_data> data;
    std::vector<std::int64_t> user_ids;
    value key_metadata;
    value meta_tags;
    std::set<std::uint64_t> lock_asked;
    std::set<std::uint64_t> clear_asked;
    bool save_asked = false;
    bool end_asked = false;
  };

  static snapshot take(const profile_context& c) {
    snapshot s;
    s.data = c.data_->clone();
    s.user_ids = c.user_ids_;
    s.key_metadata = c.key_metadata_;
    s.meta_tags = c.meta_tags_;
    if (c.updates_) {
      s.lock_asked = c.updates_->lock_asked;
      s.clear_asked = c.updates_->clear_asked;
    }
    s.save_asked = c.save_asked_;
    s.end_asked = c.end_asked_;
    return s;
  }

  static void restore(profile_context& c, snapshot&& s) {
    c.data_ = std::move(s.data);
    c.user_ids_ = std::move(s.user_ids);
    c.key_metadata_ = std::move(s.key_metadata);
    c.meta_tags_ = std::move(s.meta_tags);
    if (c.updates_) {
      c.updates_->lock_asked = std::move(s.lock_asked);
      c.updates_->clear_asked = std::move(s.clear_asked);
    }
    c.save_asked_ = s.save_asked;
    c.end_asked_ = s.end_asked;
  }
};

namespace {

struct transaction_state {
  std::vector<profile_handle> profiles; // caller's order
  std::vector<std::size_t> order;       // borrow order
  std::vector<profile_context*> borrowed; // caller's order, null until lent
  // Taken before the function runs, in the caller's order.
  std::vector<transaction_access::snapshot> copies;
  transact_fn fn;
  caf::actor writer;
  duration timeout{};
  caf::response_promise rp;
  static inline const char* name = "profilestore.transaction";
};

using transaction_actor = caf::stateful_actor<transaction_state>;

// A transaction waits transact_group_save_timeouts store request timeouts
// (node_actor.hpp) for the answer to its group save before it gives its
// profiles back unsaved. More than one: giving them back restores their
// data, and a group save the writer still commits after that leaves storage
// with the trade and memory without it; the profiles' separate saves would
// then write the trade's undoing one profile at a time, and a crash between
// two of them makes half a trade durable. A writer that is merely behind (a
// long queue, a slow commit) answers within this wait: it answers every
// operation once its commit ended or failed. Only a writer stuck on its disk
// (or a link to remote storage that loses requests without failing them)
// outlasts it, and then memory and storage may disagree.

// Hands every borrowed profile back; restores data unless saved.
void give_back(transaction_actor* self, const std::vector<save_reply>* replies,
               const std::vector<key_info>* written) {
  auto& s = self->state;
  for (std::size_t i = 0; i < s.profiles.size(); ++i) {
    if (s.borrowed[i] == nullptr)
      continue;
    return_outcome out;
    if (replies != nullptr) {
      out.saved = true;
      out.reply = (*replies)[i];
      if (written != nullptr && i < written->size())
        out.written = (*written)[i];
    } else if (i < s.copies.size()) {
      transaction_access::restore(*s.borrowed[i], std::move(s.copies[i]));
    }
    self->send(s.profiles[i].actor, return_atom::value, std::move(out));
  }
  self->quit();
}

void fail(transaction_actor* self, const error& e) {
  self->state.rp.deliver(to_caf_error(e));
  give_back(self, nullptr, nullptr);
}

void run_and_commit(transaction_actor* self) {
  auto& s = self->state;
  for (auto* ctx : s.borrowed)
    s.copies.push_back(transaction_access::take(*ctx));
  result<void> outcome = error(errc::internal, "not run");
  try {
    outcome = s.fn(s.borrowed);
  } catch (const std::exception& e) {
    outcome = make_error(errc::internal,
                         std::string("the transaction function threw: ")
                           + e.what());
  } catch (...) {
    // Anything else would kill this actor with every profile still lent.
    outcome = make_error(errc::internal,
                         "the transaction function threw a non-standard "
                         "exception");
  }
  if (!outcome) {
    fail(self, outcome.err());
    return;
  }
  save_group_op group;
  group.store = s.profiles.front().store->name;
  for (auto* ctx : s.borrowed)
    group.saves.push_back(prepare_group_save(*ctx));
  // No CAF timeout on the group save: its answer, however late, decides
  // what the profiles go back with (see transact_group_save_timeouts). The
  // deadline message below bounds the wait instead.
  self->request(s.writer, caf::infinite, std::move(group))
    .then(
      [self](applied_op& applied) {
        auto& replies = std::get<std::vector<save_reply>>(applied.reply);
        self->state.rp.deliver(caf::unit);
        give_back(self, &replies, &applied.group_written);
      },
      [self](caf::error& err) { fail(self, from_caf_error(err)); });
  self->delayed_send(self, s.timeout * transact_group_save_timeouts,
                     deadline_atom::value);
}

void borrow_next(transaction_actor* self, std::size_t step) {
  auto& s = self->state;
  if (step == s.order.size()) {
    run_and_commit(self);
    return;
  }
  auto index = s.order[step];
  self->request(s.profiles[index].actor, s.timeout, lend_atom::value)
    .then(
      [self, step, index](lent_profile& lent) {
        self->state.borrowed[index] = lent.context;
        borrow_next(self, step + 1);
      },
      [self](caf::error& err) {
        auto e = from_caf_error(err);
        fail(self, make_error(e.code(), "transact could not take a profile: "
                                          + e.message()));
      });
}

caf::behavior transaction(transaction_actor* self,
                          std::vector<profile_handle> profiles, transact_fn fn,
                          caf::actor writer, duration timeout) {
  auto& s = self->state;
  s.profiles = std::move(profiles);
  s.fn = std::move(fn);
  s.writer = std::move(writer);
  s.timeout = timeout;
  s.borrowed.assign(s.profiles.size(), nullptr);
  s.order.resize(s.profiles.size());
  std::iota(s.order.begin(), s.order.end(), std::size_t{0});
  std::sort(s.order.begin(), s.order.end(), [&](std::size_t a, std::size_t b) {
    return s.profiles[a].key < s.profiles[b].key;
  });
  return {
    [self](transact_atom) -> caf::result<caf::unit_t> {
      // The promise is this actor's own, so it is delivered from here.
      self->state.rp = self->make_response_promise();
      borrow_next(self, 0);
      return self->state.rp;
    },
    // The group save's wait ran out (run_and_commit); its answer, had it
    // come, would have ended this actor.
    [self](deadline_atom) {
      fail(self, make_error(errc::timeout,
                            "storage did not answer the transaction's group "
                            "save in time; its profiles go back with their "
                            "data as before the transaction"));
    },
  };
}

} // namespace

caf::actor spawn_transaction(caf::actor_system& sys,
                             std::vector<profile_handle> profiles,
                             transact_fn fn, caf::actor writer,
                             duration timeout) {
  return sys.spawn(transaction, std::move(profiles), std::move(fn),
                   std::move(writer), timeout);
}

} // namespace profilestore
