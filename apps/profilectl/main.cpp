// profilectl: the administration tool of a profilestore storage folder.
// Lists stores, keys and versions, shows and repairs profiles, lists
// sessions, exports and imports JSON lines (also from Roblox ProfileService
// and ProfileStore), compacts and checks. `profilectl --help` lists the
// commands; docs/profilectl.md documents them and the file layouts.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  profilestore::ctl::cli_io io{std::cin, std::cout, std::cerr,
                               isatty(STDIN_FILENO) == 1,
                               isatty(STDERR_FILENO) == 1, [] {
                                 using namespace std::chrono;
                                 return static_cast<std::int64_t>(
                                   duration_cast<milliseconds>(
                                     system_clock::now().time_since_epoch())
                                     .count());
                               }};
  int status = profilestore::ctl::run(
    std::vector<std::string>(argv + 1, argv + argc), io);
  std::cout.flush();
  return std::cout.good() ? status : 1;
}
