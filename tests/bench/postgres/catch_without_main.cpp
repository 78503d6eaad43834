// Catch2's implementation without a main, for the benchmark programs that
// link the test support library (the private PostgreSQL, postgres_server.hpp)
// and have a main of their own. Some of the support library's files use
// Catch2's assertions; without this file the linker takes Catch2's code from
// the library's catch_main.cpp and, with it, a second main. Linked as an
// object file (an OBJECT library), so it is found before that archive member.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
