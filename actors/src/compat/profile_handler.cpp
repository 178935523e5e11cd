// profile_handler: ProfileHandler's calls over node.hpp's blocking facade
// (profile_handler.hpp).
#include "profilestore/compat/profile_handler.hpp"

#include <exception>
#include <memory>
#include <string>

namespace profilestore::compat {
namespace {

// Runs `fn` on the value data inside the profile's actor; an exception of
// `fn` is the call's error (the actor would only report it).
result<void> run_on_data(const profile<value>& p,
                         std::function<result<void>(value&)> fn) {
  auto outcome = std::make_shared<result<void>>();
  auto r = p.with_context([fn = std::move(fn), outcome](profile_context& c) {
    try {
      *outcome = fn(*c.data_value());
    } catch (const std::exception& e) {
      *outcome = make_error(errc::internal,
                            std::string("the transform threw: ") + e.what());
    } catch (...) {
      *outcome = make_error(errc::internal,
                            "the transform threw a non-standard exception");
    }
  });
  if (!r)
    return r;
  return *outcome;
}

} // namespace

// ---- handler_profile ---------------------------------------------------------------

result<void> handler_profile::check_alive(const char* call) const {
  std::lock_guard<std::mutex> guard(mtx_);
  if (destroyed_)
    return make_error(errc::session_ended,
                      std::string(call) + ": the profile " + key()
                        + " has been destroyed");
  return {};
}

void handler_profile::mark_destroyed() {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (destroyed_)
      return;
    destroyed_ = true;
  }
  if (uncache_)
    uncache_();
}

result<void> handler_profile::save(bool session_ending) {
  PROFILESTORE_TRY(check_alive("save"));
  if (!session_ending)
    return session_.save();
  auto ended = session_.end_session();
  if (ended || ended.err().code() == errc::session_ended)
    mark_destroyed();
  return ended;
}

result<void> handler_profile::destroy() {
  if (is_destroyed())
    return {};
  auto ended = session_.end_session();
  // A session already over (lost to another node) has nothing to save.
  if (!ended && ended.err().code() != errc::session_ended)
    return ended;
  mark_destroyed();
  return {};
}

bool handler_profile::is_destroyed() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return destroyed_;
}

result<bool> handler_profile::remove() {
  PROFILESTORE_TRY(destroy());
  return store_.remove(key());
}

result<value> handler_profile::get_data(std::string_view path) const {
  PROFILESTORE_TRY(check_alive("get_data"));
  auto out = std::make_shared<std::optional<value>>();
  std::string p(path);
  auto r = run_on_data(session_, [out, p](value& data) -> result<void> {
    if (const auto* v = data.find(p))
      *out = *v;
    return {};
  });
  if (!r)
    return r.err();
  if (!*out)
    return make_error(errc::not_found,
                      "get_data: nothing at path '" + p + "' of " + key());
  return std::move(**out);
}

result<void> handler_profile::set_data(std::string_view path, value v) {
  PROFILESTORE_TRY(check_alive("set_data"));
  std::string p(path);
  if (p.empty() && !v.is_map())
    return make_error(errc::invalid_argument,
                      "set_data: the whole data must stay a map");
  return run_on_data(session_,
                     [p, v = std::move(v)](value& data) -> result<void> {
                       auto r = data.set(p, v);
                       if (!r)
                         return make_error(r.err().code(),
                                           "set_data('" + p
                                             + "'): " + r.err().message());
                       return {};
                     });
}

bool handler_profile::is_data_loaded() const {
  return !is_destroyed() && session_.is_active();
}

result<void> handler_profile::reconcile(const value& tmpl) {
  PROFILESTORE_TRY(check_alive("reconcile"));
  if (!tmpl.is_map())
    return make_error(errc::invalid_argument,
                      "reconcile: the template must be a map");
  return run_on_data(session_, [tmpl](value& data) -> result<void> {
    data.reconcile(tmpl);
    return {};
  });
}

// ---- profile_handler ---------------------------------------------------------------

profile_handler::profile_handler(node& n) : node_(&n) {}

result<store<value>> profile_handler::open_store(const std::string& name,
                                                 const value& tmpl) {
  if (!tmpl.is_map())
    return make_error(errc::invalid_argument,
                      "the data template of " + name + " must be a map");
  auto opened = node_->open(name, tmpl);
  if (!opened)
    return opened.err();
  std::lock_guard<std::mutex> guard(mtx_);
  stores_.insert_or_assign(name, *opened);
  return std::move(*opened);
}

result<store<value>>
profile_handler::known_or_open_store(const std::string& name) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (auto i = stores_.find(name); i != stores_.end())
      return i->second;
  }
  return open_store(name, value(value_map{}));
}

void profile_handler::uncache(const cache_key& k, const handler_profile* p) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = cache_.find(k);
  if (i != cache_.end() && i->second.get() == p)
    cache_.erase(i);
}

result<std::shared_ptr<handler_profile>>
profile_handler::new_profile(const std::string& store_name,
                             const std::string& key, bool respect_session_lock,
                             const value& tmpl) {
  cache_key k{store_name, key};
  if (get_profile(store_name, key))
    return make_error(errc::session_active,
                      "new_profile: " + key + " of " + store_name
                        + " is already loaded here; destroy it first");
  auto st = open_store(store_name, tmpl);
  if (!st)
    return st.err();
  start_options options;
  options.steal = !respect_session_lock;
  auto session = st->start_session(key, std::move(options));
  if (!session)
    return session.err();
  // The cache entry goes when the profile is destroyed (and only that
  // profile's entry: a newer one of the key stays).
  auto self_ref = std::make_shared<const handler_profile*>(nullptr);
  std::weak_ptr<profile_handler*> handler = self_;
  auto p = std::make_shared<handler_profile>(
    *st, std::move(*session), [handler, k, self_ref] {
      if (auto h = handler.lock())
        (*h)->uncache(k, *self_ref);
    });
  *self_ref = p.get();
  std::lock_guard<std::mutex> guard(mtx_);
  cache_[k] = p;
  return p;
}

std::shared_ptr<handler_profile>
profile_handler::get_profile(const std::string& store_name,
                             const std::string& key) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = cache_.find(cache_key{store_name, key});
  return i == cache_.end() ? nullptr : i->second;
}

result<value>
profile_handler::update_profile(const std::string& store_name,
                                const std::string& key,
                                std::function<void(value&)> transform) {
  if (!transform)
    return make_error(errc::invalid_argument, "update_profile: no transform");
  auto out = std::make_shared<value>();
  // On a copy: a transform that throws or leaves no map changes nothing.
  auto apply = [transform, out](value& data) -> result<void> {
    value changed = data;
    transform(changed);
    if (!changed.is_map())
      return make_error(errc::invalid_argument,
                        "update_profile: the transform must leave a map");
    data = changed;
    *out = std::move(changed);
    return {};
  };
  if (auto cached = get_profile(store_name, key); cached && !cached->is_destroyed()) {
    PROFILESTORE_TRY(run_on_data(cached->session(), apply));
    PROFILESTORE_TRY(cached->session().save());
    return std::move(*out);
  }
  auto st = known_or_open_store(store_name);
  if (!st)
    return st.err();
  auto session = st->start_session(key);
  if (!session)
    return session.err();
  auto changed = run_on_data(*session, apply);
  auto ended = session->end_session();
  if (!changed)
    return changed.err(); // the final save wrote the data unchanged
  if (!ended)
    return ended.err();
  return std::move(*out);
}

result<std::optional<value>>
profile_handler::get_profile_data(const std::string& store_name,
                                  const std::string& key) {
  if (auto cached = get_profile(store_name, key); cached && !cached->is_destroyed()) {
    auto d = cached->session().data();
    if (!d)
      return d.err();
    return std::optional<value>(std::move(*d));
  }
  auto st = known_or_open_store(store_name);
  if (!st)
    return st.err();
  auto copy = st->get(key);
  if (!copy)
    return copy.err();
  if (!*copy)
    return std::optional<value>{};
  return std::optional<value>(std::move((*copy)->data));
}

} // namespace profilestore::compat
