// The whole of gocxx: Go's concurrency runtime in C++20.
#pragma once

#include "gocxx/chan.hpp"
#include "gocxx/concurrent_map.hpp"
#include "gocxx/context.hpp"
#include "gocxx/defer.hpp"
#include "gocxx/errgroup.hpp"
#include "gocxx/errors.hpp"
#include "gocxx/io.hpp"
#include "gocxx/net.hpp"
#include "gocxx/os.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/rwmutex_map.hpp"
#include "gocxx/sharded_map.hpp"
#include "gocxx/sync.hpp"
#include "gocxx/sync_map.hpp"
#include "gocxx/time.hpp"
