// profilestore-storage-tour: a walk through the storage layer on its own.
//
// Opens an embedded LMDB environment in a temporary folder, starts a session
// on a profile, saves it a few times (every save a version), sends it a
// message, ends the session, lists the versions and reads an older one back,
// printing each step. No server, no actors: just store/ and codec/.
//
//   profilestore-storage-tour [--db DIR]   (default: a temporary folder,
//                                           removed at exit)
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "profilestore/codec.hpp"
#include "profilestore/store.hpp"

using namespace profilestore;

namespace {

std::int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

[[noreturn]] void fail(const std::string& what, const error& e) {
  std::cerr << "error: " << what << ": " << e.to_string() << "\n";
  std::exit(1);
}

template <class T>
T check(result<T> r, const std::string& what) {
  if (!r.ok())
    fail(what, r.err());
  return std::move(*r);
}

std::string iso_time(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

std::string json_of(std::string_view msgpack_bytes) {
  auto v = check(decode_msgpack(msgpack_bytes), "decode data");
  return to_json(v);
}

struct temp_folder {
  std::string path;
  bool remove = true;
  ~temp_folder() {
    if (remove && !path.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  }
};

} // namespace

int main(int argc, char** argv) {
  temp_folder folder;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--db" && i + 1 < argc) {
      folder.path = argv[++i];
      folder.remove = false;
    } else {
      std::cerr << "usage: profilestore-storage-tour [--db DIR]\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (folder.path.empty()) {
    auto base = std::filesystem::temp_directory_path() / "profilestore-tourXXXXXX";
    std::string pattern = base.string();
    if (!mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      return 1;
    }
    folder.path = pattern;
  }
  std::cout << "LMDB environment: " << folder.path << "\n";

  lmdb_options lo;
  lo.path = folder.path;
  auto env = check(lmdb_backend::open(lo), "open LMDB");
  storage_options options;
  options.versions.window_ms = 0; // every save a version, to show them all
  storage store(*env, options);

  const std::string store_name = "PlayerData";
  const std::string key = "Player_2312310";
  auto tmpl = std::make_shared<const std::string>(encode_msgpack(
    value::object({{"coins", 0}, {"inventory", value_array{}}})));
  session_ref me{"tour-node", 1, 1};

  // 1. Start a session: the profile is created from the template.
  start_session_op start{store_name, key, {}, tmpl};
  start.request.requester = me;
  auto started = check(store.apply(start, now_ms()), "start session");
  auto& reply = std::get<start_session_reply>(started.reply);
  std::cout << "session started (new profile: " << std::boolalpha
            << reply.created << "), data " << json_of(reply.rec->data) << "\n";
  value data = check(decode_msgpack(reply.rec->data), "decode");

  // 2. Change the data in memory and save it a few times.
  for (int round = 1; round <= 3; ++round) {
    data["coins"] = value(round * 100);
    data["inventory"].if_array()->push_back(value("item-" + std::to_string(round)));
    save_request save;
    save.session = me;
    save.data = encode_msgpack(data);
    auto saved = check(store.apply(save_op{store_name, key, save}, now_ms()),
                       "save");
    std::cout << "saved version " << saved.written->version << ": "
              << to_json(data) << "\n";
  }

  // 3. A message (a gift) from elsewhere, then the last save that processes
  //    it and releases the lock in one write.
  message_op gift{store_name, key,
                  {encode_msgpack(value::object({{"gift", 50}})), 0}};
  auto sent = check(store.apply(gift, now_ms()), "send message");
  auto gift_id = std::get<message_reply>(sent.reply).id;
  std::cout << "message " << gift_id << " queued\n";
  data["coins"] = value(*data.get("coins")->to_int64() + 50);
  save_request last;
  last.session = me;
  last.data = encode_msgpack(data);
  last.processed_update_ids = {gift_id};
  last.final = final_action::release;
  auto ended = check(store.apply(save_op{store_name, key, last}, now_ms()),
                     "final save");
  std::cout << "session ended with version " << ended.written->version
            << " (lock released: "
            << std::get<save_reply>(ended.reply).released << ")\n";

  // 4. List the versions and read an older one back.
  auto page = check(store.list_versions(store_name, key, {}), "list versions");
  std::cout << "\n  version  created (UTC)              size  deleted\n";
  for (const auto& v : page.versions)
    std::printf("  %7llu  %s  %5llu  %s\n",
                static_cast<unsigned long long>(v.version),
                iso_time(v.version_created_time).c_str(),
                static_cast<unsigned long long>(v.size),
                v.deleted ? "yes" : "no");
  auto old = check(store.get(store_name, key, 2), "read version 2");
  if (!old) {
    std::cerr << "error: version 2 is missing\n";
    return 1;
  }
  std::cout << "\nversion 2 read back: " << json_of(old->rec.data) << "\n";
  auto latest = check(store.get(store_name, key), "read latest");
  std::cout << "latest: " << json_of(latest->rec.data)
            << ", queued messages: " << latest->rec.updates.size()
            << ", session load count: "
            << latest->rec.meta.session_load_count << "\n";
  return 0;
}
