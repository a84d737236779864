// What the execution trace's recorder (trace_record.cpp) hands its JSON writer
// (trace_json.cpp): the records and the session they belong to.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/goroutine.hpp"

namespace gocxx::diag {

using detail::WaitReason;

enum class Kind : std::uint8_t { kCreate, kStart, kStop, kUnblock };
enum class Why : std::uint8_t { kUnknown, kBlock, kYield, kExit, kBlocking, kRunning };

struct Record {
  std::int64_t ts;     // CLOCK_MONOTONIC ns
  std::uint64_t g;     // the goroutine the event is about
  std::uint64_t a;     // create: parent id; unblock: waker id (0: not a goroutine)
  std::uint64_t b;     // create: creation PC
  std::int32_t p;      // the P it happened on, -1: none
  std::uint32_t live;  // create, stop(exit): goroutines alive after it
  Kind kind;
  Why why;             // stop
  WaitReason reason;   // stop(block), unblock
};

// ---- the active trace (guarded by control_lock, trace_record.cpp) ---------------------------

struct Known {  // what names a goroutine
  std::uint64_t parent = 0;
  std::uintptr_t create_pc = 0;
};

struct Session {
  bool active = false;
  std::FILE* file = nullptr;
  std::string path;
  std::size_t max_bytes = 0;
  std::int64_t start_ns = 0;
  std::int64_t live_at_start = 0;
  std::unordered_map<std::uint64_t, Known> known;  // goroutines alive when it started
};

// Writes the trace of session s (`events` merged by time, cut at end_ns; `dropped`: events
// lost) to `file` as Chrome Trace Event JSON. Errors are thrown.
void write_trace_json(Session& s, std::vector<Record> events, std::int64_t end_ns,
                      std::uint64_t dropped, std::FILE* file, int procs);

}  // namespace gocxx::diag
