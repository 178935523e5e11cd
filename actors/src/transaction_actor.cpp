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
//    failure with its data restored to the copy, so memory and storage agree
//    that the transaction never happened.
#include <algorithm>
#include <exception>
#include <numeric>
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

// Gives the transaction write access to a borrowed profile's data slot.
struct transaction_access {
  static std::unique_ptr<profile_data>& data_slot(profile_context& c) {
    return c.data_;
  }
};

namespace {

struct transaction_state {
  std::vector<profile_handle> profiles; // caller's order
  std::vector<std::size_t> order;       // borrow order
  std::vector<profile_context*> borrowed; // caller's order, null until lent
  std::vector<std::unique_ptr<profile_data>> copies;
  transact_fn fn;
  caf::actor writer;
  duration timeout{};
  caf::response_promise rp;
  static inline const char* name = "profilestore.transaction";
};

using transaction_actor = caf::stateful_actor<transaction_state>;

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
    } else if (i < s.copies.size() && s.copies[i]) {
      transaction_access::data_slot(*s.borrowed[i]) = std::move(s.copies[i]);
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
    s.copies.push_back(ctx->data().clone());
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
  self->request(s.writer, s.timeout, std::move(group))
    .then(
      [self](applied_op& applied) {
        auto& replies = std::get<std::vector<save_reply>>(applied.reply);
        self->state.rp.deliver(caf::unit);
        give_back(self, &replies, &applied.group_written);
      },
      [self](caf::error& err) { fail(self, from_caf_error(err)); });
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
