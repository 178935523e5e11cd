// The doctest main shared by every test executable.
//
// CTest runs one test case per process (`--test-case=<name>`). doctest exits
// 0 when a filter matches nothing, which would let a renamed or mistyped case
// pass silently; this main counts the cases that ran and fails when a filter
// was given and none matched.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace {

std::atomic<int> cases_started{0};

struct case_counter : doctest::IReporter {
  explicit case_counter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {
    ++cases_started;
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

} // namespace

DOCTEST_REGISTER_LISTENER("case_counter", 1, case_counter);

int main(int argc, char** argv) {
  bool filtered = false;
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--test-case=", 12) == 0
        || std::strncmp(argv[i], "-tc=", 4) == 0)
      filtered = true;
    if (std::strncmp(argv[i], "--list", 6) == 0
        || std::strncmp(argv[i], "-ltc", 4) == 0
        || std::strncmp(argv[i], "-lts", 4) == 0
        || std::strcmp(argv[i], "--help") == 0
        || std::strcmp(argv[i], "-h") == 0)
      listing = true;
  }
  doctest::Context context(argc, argv);
  int rc = context.run();
  if (context.shouldExit() || listing)
    return rc;
  if (rc == 0 && filtered && cases_started.load() == 0) {
    std::fprintf(stderr, "no test case matched the filter\n");
    return 3;
  }
  return rc;
}
