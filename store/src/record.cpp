// Helpers on the record model (record.hpp).
#include "profilestore/store/record.hpp"

namespace profilestore {

std::string to_string(const session_ref& s) {
  return s.node + "#" + std::to_string(s.incarnation) + "/"
         + std::to_string(s.id);
}

record make_new_profile(std::string_view template_data, std::int64_t now) {
  record rec;
  add_profile_to(rec, template_data, now);
  return rec;
}

void add_profile_to(record& rec, std::string_view template_data,
                    std::int64_t now) {
  rec.has_profile = true;
  rec.data.assign(template_data.empty() ? std::string_view(empty_msgpack_map)
                                        : template_data);
  rec.meta = record_metadata{};
  rec.meta.profile_create_time = now;
  rec.user_ids.clear();
  rec.key_metadata = empty_msgpack_map;
  rec.was_overwritten = false;
}

const queued_update* find_update(const record& rec, std::uint64_t id) {
  for (const auto& u : rec.updates)
    if (u.id == id)
      return &u;
  return nullptr;
}

std::size_t queued_update_bytes(const record& rec) {
  std::size_t total = 0;
  for (const auto& u : rec.updates)
    total += u.data.size();
  return total;
}

} // namespace profilestore
