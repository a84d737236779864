// gocxx-waitgroup-add-in-goroutine: golden input.
#include <gocxx/gocxx.hpp>

// The goroutine counts itself: wait() may return before it runs.
void bad_add_inside() {
  gocxx::sync::WaitGroup wg;
  for (int i = 0; i < 4; ++i) {
    gocxx::go([&wg] {
      wg.add(1);
      wg.done();
    });
  }
  wg.wait();
}

// Through a shared_ptr, in an errgroup goroutine.
void bad_shared(gocxx::errgroup::Group& g, std::shared_ptr<gocxx::sync::WaitGroup> wg) {
  g.go([wg]() -> gocxx::error {
    wg->add(1);
    wg->done();
    return nullptr;
  });
}

// add before the spawn; a WaitGroup of the goroutine's own; add not first.
void ok_cases() {
  gocxx::sync::WaitGroup wg;
  wg.add(1);
  gocxx::go([&wg] {
    gocxx::sync::WaitGroup inner;
    inner.add(1);
    gocxx::go([&inner] { inner.done(); });
    inner.wait();
    wg.done();
  });
  wg.wait();
}

// NOLINT is honoured.
void suppressed() {
  gocxx::sync::WaitGroup wg;
  gocxx::go([&wg] {
    wg.add(1);  // NOLINT(gocxx-waitgroup-add-in-goroutine)
    wg.done();
  });
  wg.wait();
}
