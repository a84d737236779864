// The errgroup example of the article this project started from (README.md), in gocxx: process
// tasks concurrently with errgroup::with_context; the first failure cancels the others, and
// wait() returns that one (aggregated) error.
//
//   g, ctx := errgroup.WithContext(context.Background())
//   for i := range tasks {
//       i := i // avoid capturing the loop variable
//       g.Go(func() error {
//           return processTask(ctx, tasks[i])
//       })
//   }
//   if err := g.Wait(); err != nil { /* handle the aggregated error */ }
//
// Run it with an argument to make task 3 fail: `errgroup fail`.
#include <chrono>
#include <cstdio>
#include <gocxx/context.hpp>
#include <gocxx/errgroup.hpp>
#include <gocxx/gocxx.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct Task {
  int id;
  std::chrono::milliseconds cost;
  bool fails;
};

// Works on one task for task.cost, unless the group's context is cancelled first.
gocxx::error process_task(const gocxx::context::Context& ctx, const Task& task) {
  gocxx::error result;
  gocxx::select(
      gocxx::recv_case(gocxx::time::after(task.cost),
                       [&] {
                         if (task.fails) {
                           result = gocxx::errors::make("task " + std::to_string(task.id) +
                                                        ": invalid payload");
                         } else {
                           std::printf("task %d done after %lld ms\n", task.id,
                                       static_cast<long long>(task.cost.count()));
                         }
                       }),
      gocxx::recv_case(ctx.done(), [&] {
        std::printf("task %d stopped: %s\n", task.id, ctx.err().message().c_str());
        result = gocxx::errors::wrap(ctx.err(), "task " + std::to_string(task.id));
      }));
  return result;
}

}  // namespace

int main(int argc, char**) {
  bool fail = argc > 1;
  return gocxx::run([fail] {
    std::vector<Task> tasks;
    for (int i = 0; i < 8; ++i) {
      tasks.push_back({i, std::chrono::milliseconds(10 + 15 * i), fail && i == 3});
    }
    auto [g, ctx] = gocxx::errgroup::with_context(gocxx::context::background());
    for (const Task& task : tasks) {
      // A lambda captures `task` by reference to an element that outlives wait(), and `ctx`
      // by value: each goroutine holds its own handle.
      g.go([&task, ctx = ctx] { return process_task(ctx, task); });
    }
    if (gocxx::error err = g.wait()) {
      std::printf("error: %s (cause of the cancellation: %s)\n", err.message().c_str(),
                  gocxx::context::cause(ctx).message().c_str());
      return 1;
    }
    std::printf("all %zu tasks done\n", tasks.size());
    return 0;
  });
}
