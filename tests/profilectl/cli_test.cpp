// profilectl's command line: help, usage errors, TIME arguments.
#include "cli_args.hpp"
#include "ctl_harness.hpp"
#include "time_arg.hpp"

using namespace profilestore;
using namespace profilestore::testing;

TEST_CASE("profilectl --help lists every command and exits 0") {
  ctl_fixture f;
  auto r = f.run({"--help"}, "", false, false);
  CHECK(r.status == 0);
  for (const auto& c : ctl::commands())
    CHECK(contains(r.out, "  " + c.spec.name));
}

TEST_CASE("every command answers --help with its usage and options") {
  ctl_fixture f;
  for (const auto& c : ctl::commands()) {
    auto r = f.run({c.spec.name, "--help"}, "", false, false);
    CHECK(r.status == 0);
    CHECK(contains(r.out, "usage: profilectl " + c.spec.name));
    CHECK(contains(r.out, "--db DIR"));
    for (const auto& o : c.spec.options)
      CHECK(contains(r.out, o.name));
  }
}

TEST_CASE("no command, an unknown command or an unknown option is a usage error") {
  ctl_fixture f;
  CHECK(f.run({}, "", false, false).status == ctl::exit_usage);
  auto unknown = f.run({"frobnicate"});
  CHECK(unknown.status == ctl::exit_usage);
  CHECK(contains(unknown.err, "unknown command 'frobnicate'"));
  auto option = f.run({"stores", "--colour"});
  CHECK(option.status == ctl::exit_usage);
  CHECK(contains(option.err, "unknown option '--colour'"));
  auto missing = f.run({"get", "Players"});
  CHECK(missing.status == ctl::exit_usage);
  CHECK(contains(missing.err, "missing arguments"));
  auto extra = f.run({"stores", "surplus"});
  CHECK(extra.status == ctl::exit_usage);
  auto twice = f.run({"keys", "S", "--limit", "1", "--limit", "2"});
  CHECK(contains(twice.err, "given twice"));
  auto no_value = f.run({"keys", "S", "--db", f.db(), "--limit"}, "", false,
                        false);
  CHECK(no_value.status == ctl::exit_usage);
  CHECK(contains(no_value.err, "needs a value"));
}

TEST_CASE("a command without --db says that --db is required") {
  ctl_fixture f;
  auto r = f.run({"stores"}, "", false, false);
  CHECK(r.status == ctl::exit_failed);
  CHECK(contains(r.err, "--db DIR is required"));
}

TEST_CASE("a read-only command on a missing folder fails and creates nothing") {
  ctl_fixture f;
  std::string missing = f.file("nowhere");
  auto r = f.run({"stores", "--db", missing}, "", false, false);
  CHECK(r.status == ctl::exit_failed);
  CHECK(contains(r.err, "does not exist"));
  auto again = f.run({"get", "S", "k", "--db", missing}, "", false, false);
  CHECK(again.status == ctl::exit_failed);
  CHECK_FALSE(std::filesystem::exists(missing));
}

TEST_CASE("a write command on a folder without storage fails and creates nothing") {
  ctl_fixture f;
  std::string missing = f.file("nowhere");
  auto r = f.run({"message", "S", "k", "--data", "1", "--db", missing}, "",
                 false, false);
  CHECK(r.status == ctl::exit_failed);
  CHECK(contains(r.err, "no profilestore storage"));
  CHECK_FALSE(std::filesystem::exists(missing));
}

TEST_CASE("TIME accepts ISO 8601 with a zone and unix seconds") {
  CHECK(must(ctl::parse_time("--t", "1794909600")) == fixed_now);
  CHECK(must(ctl::parse_time("--t", "1794909600.25")) == fixed_now + 250);
  CHECK(must(ctl::parse_time("--t", "2026-11-17T10:00:00Z")) == fixed_now);
  CHECK(must(ctl::parse_time("--t", "2026-11-17T10:00Z")) == fixed_now);
  CHECK(must(ctl::parse_time("--t", "2026-11-17T11:00:00.5+01:00"))
        == fixed_now + 500);
  CHECK(must(ctl::parse_time("--t", "2026-11-17")) == fixed_now - 36'000'000);
  CHECK(ctl::format_time(fixed_now + 250) == "2026-11-17T10:00:00.250Z");
}

TEST_CASE("TIME refuses a missing zone, impossible dates and junk") {
  for (const char* bad : {"2026-11-17T10:00:00", "2026-02-30", "2026-13-01",
                          "2026-11-17T25:00Z", "yesterday", "", "12.3.4",
                          "2026-11-17T10:00:00Zjunk"}) {
    auto r = ctl::parse_time("--before", bad);
    CHECK(code_of(r) == errc::invalid_argument);
    if (!r)
      CHECK(contains(r.err().message(), "--before"));
  }
}
