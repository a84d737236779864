// The runtime's panics and fatal errors (panic.cpp), Go's panic.go: raising a panic with Go's
// message, and the fatal entry points. The reports themselves are written by the diag layer's
// crash reporter (hooks.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gocxx::detail {

// Panics with Go's message on the calling goroutine (or thread).
[[noreturn]] void throw_panic(const char* message);
// Go's fatal error (not recoverable): "fatal error: <message>", the stack, exit(2).
[[noreturn]] void fatal(const char* message);
// Prints `heading`, then every goroutine's traceback (as GOCXX_TRACEBACK allows), exits 2.
[[noreturn]] void fatal_with_dump(const std::string& heading);

// Makes an exception that escapes a goroutine a Go-style panic report.
void install_terminate_handler();

// Return addresses of the calling thread's stack, innermost first, from the caller's frame
// on, less its `skip` innermost frames (1: from the caller's caller).
std::vector<std::uintptr_t> capture_stack(int skip);

// Runs f on a new thread that stands in for a goroutine when no gocxx::run is active (after a
// failed spawn_if_running). Its crash reports say "created by <the caller>", as a goroutine's.
void start_stand_in_thread(std::function<void()> f);
// Where the calling thread was started if it stands in for a goroutine, else 0.
std::uintptr_t stand_in_create_pc();

}  // namespace gocxx::detail
