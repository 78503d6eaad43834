// The test programs' main: Catch2's, after one safeguard. The tablets the
// tests make keep their device keys in TANDEM_KEY_DIR; ctest sets it, and a
// test program run by hand gets the build's folder too, never the user's own.
#define CATCH_CONFIG_RUNNER
#include <stdlib.h>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  ::setenv("TANDEM_KEY_DIR", TANDEM_TEST_KEY_DIR, 0);  // 0: an existing value wins
  return Catch::Session().run(argc, argv);
}
