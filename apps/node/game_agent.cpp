#include "game_agent.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <caf/event_based_actor.hpp>

#include "profilestore/actors/errors.hpp"
#include "profilestore/codec/json.hpp"

namespace profilestore::node_app {
namespace {

using run_atom = caf::atom_constant<caf::atom("ag_run")>;

// What every request's worker shares: the open stores and the sessions.
struct agent_shared {
  node* n = nullptr;
  std::mutex mutex;
  std::map<std::string, store<value>> stores;
  std::map<std::string, profile<value>> sessions; // store \0 key

  static std::string id(const std::string& s, const std::string& k) {
    return s + '\0' + k;
  }
  result<store<value>> get_store(const std::string& name) {
    std::lock_guard<std::mutex> g(mutex);
    auto i = stores.find(name);
    if (i == stores.end())
      return make_error(errc::invalid_argument,
                        "store " + name + " is not open (ag_open first)");
    return i->second;
  }
  result<profile<value>> get_session(const std::string& s,
                                     const std::string& k) {
    std::lock_guard<std::mutex> g(mutex);
    auto i = sessions.find(id(s, k));
    if (i == sessions.end())
      return make_error(errc::session_ended,
                        "no session of " + k + " on this node");
    return i->second;
  }
};

// Adds `delta` to the integer at `path` (missing counts as 0).
result<std::int64_t> add_at(value& data, const std::string& path,
                            std::int64_t delta) {
  std::int64_t now = 0;
  if (auto* v = data.find(path)) {
    auto x = v->to_int64();
    if (!x)
      return make_error(errc::type_mismatch, path + " is not an integer");
    now = *x;
  }
  PROFILESTORE_TRY(data.set(path, value(now + delta)));
  return now + delta;
}

message_handler gift_handler() {
  return [](profile_context& c, const incoming_message& m,
            const std::function<void()>& processed) {
    auto* path = m.data.get("path");
    auto* delta = m.data.get("delta");
    if (!path || !path->if_string() || !delta || !delta->to_int64())
      return; // not a gift: left for another handler
    if (add_at(*c.data_value(), *path->if_string(), *delta->to_int64()))
      processed();
  };
}

template <class T>
caf::result<T> answer(result<T> r) {
  if (!r)
    return to_caf_error(r.err());
  return std::move(*r);
}

caf::result<caf::unit_t> answer(result<void> r) {
  if (!r)
    return to_caf_error(r.err());
  return caf::unit;
}

// A worker runs one job and quits. (`job` is passed as a spawn argument: CAF
// 0.17 dereferences a null argument tuple when a function takes none.)
template <class F>
caf::behavior worker(caf::event_based_actor* w, F job) {
  return {[w, job](run_atom) {
    w->quit();
    return answer(job());
  }};
}

// Runs `job` on a detached worker of its own and answers the current request
// with its result.
template <class F>
auto on_worker(caf::event_based_actor* self, F job) {
  auto w = self->spawn<caf::detached>(worker<F>, job);
  auto rp = self->make_response_promise();
  rp.delegate(w, run_atom::value);
  return rp;
}

caf::behavior agent(caf::event_based_actor* self,
                    std::shared_ptr<agent_shared> sh) {
  return {
    [self, sh](ag_open_atom, const std::string& s, const std::string& tmpl) {
      return on_worker(self, [sh, s, tmpl]() -> result<void> {
        auto t = from_json(tmpl);
        if (!t)
          return t.err();
        auto st = sh->n->open(s, *t);
        if (!st)
          return st.err();
        std::lock_guard<std::mutex> g(sh->mutex);
        sh->stores.insert_or_assign(s, *st);
        return {};
      });
    },
    [self, sh](ag_start_atom, const std::string& s, const std::string& k) {
      return on_worker(self, [sh, s, k]() -> result<void> {
        auto st = sh->get_store(s);
        if (!st)
          return st.err();
        start_options opts;
        opts.hooks.message_handlers.push_back(gift_handler());
        opts.hooks.on_session_end.push_back([sh, s, k](profile_context&) {
          std::lock_guard<std::mutex> g(sh->mutex);
          sh->sessions.erase(agent_shared::id(s, k));
        });
        auto p = st->start_session(k, std::move(opts));
        if (!p)
          return p.err();
        std::lock_guard<std::mutex> g(sh->mutex);
        sh->sessions.insert_or_assign(agent_shared::id(s, k), *p);
        return {};
      });
    },
    [self, sh](ag_end_atom, const std::string& s, const std::string& k) {
      return on_worker(self, [sh, s, k]() -> result<void> {
        auto p = sh->get_session(s, k);
        if (!p)
          return p.err();
        return p->end_session();
      });
    },
    [self, sh](ag_add_atom, const std::string& s, const std::string& k,
               const std::string& path, std::int64_t delta) {
      return on_worker(self, [sh, s, k, path, delta]() -> result<std::int64_t> {
        auto p = sh->get_session(s, k);
        if (!p)
          return p.err();
        auto out = std::make_shared<result<std::int64_t>>(std::int64_t{0});
        PROFILESTORE_TRY(p->with_context([out, path, delta](profile_context& c) {
          *out = add_at(*c.data_value(), path, delta);
        }));
        return *out;
      });
    },
    [self, sh](ag_save_atom, const std::string& s, const std::string& k) {
      return on_worker(self, [sh, s, k]() -> result<void> {
        auto p = sh->get_session(s, k);
        if (!p)
          return p.err();
        return p->save();
      });
    },
    [self, sh](ag_data_atom, const std::string& s, const std::string& k) {
      return on_worker(self, [sh, s, k]() -> result<std::string> {
        auto p = sh->get_session(s, k);
        if (!p)
          return p.err();
        auto d = p->data();
        if (!d)
          return d.err();
        return to_json(*d);
      });
    },
    [self, sh](ag_read_atom, const std::string& s, const std::string& k) {
      return on_worker(self, [sh, s, k]() -> result<std::string> {
        auto st = sh->get_store(s);
        if (!st)
          return st.err();
        auto c = st->get(k);
        if (!c)
          return c.err();
        return *c ? to_json((*c)->data) : std::string();
      });
    },
    [self, sh](ag_gift_atom, const std::string& s, const std::string& k,
               const std::string& path, std::int64_t delta) {
      return on_worker(self, [sh, s, k, path, delta]() -> result<std::uint64_t> {
        auto st = sh->get_store(s);
        if (!st)
          return st.err();
        return st->message(k, value::object({{"path", path}, {"delta", delta}}));
      });
    },
    [self, sh](ag_trade_atom, const std::string& s, const std::string& from,
               const std::string& to, const std::string& path,
               std::int64_t amount) {
      return on_worker(self, [sh, s, from, to, path, amount]() -> result<void> {
        auto a = sh->get_session(s, from);
        if (!a)
          return a.err();
        auto b = sh->get_session(s, to);
        if (!b)
          return b.err();
        return sh->n->transact(
          {a->handle(), b->handle()},
          [path, amount](std::vector<profile_context*>& ps) -> result<void> {
            auto left = add_at(*ps[0]->data_value(), path, -amount);
            if (!left)
              return left.err();
            if (*left < 0)
              return make_error(errc::invalid_argument,
                                "not enough at " + path + " to trade");
            auto right = add_at(*ps[1]->data_value(), path, amount);
            if (!right)
              return right.err();
            return {};
          });
      });
    },
  };
}

} // namespace

caf::actor spawn_game_agent(caf::actor_system& sys, node& n) {
  auto sh = std::make_shared<agent_shared>();
  sh->n = &n;
  return sys.spawn(agent, std::move(sh));
}

} // namespace profilestore::node_app
