// gocxx-chan-close-by-receiver: golden input.
#include <gocxx/gocxx.hpp>

// The receiver takes the first answer and closes: the other senders panic.
int bad_receiver_closes() {
  gocxx::Chan<int> answers;
  for (int i = 0; i < 3; ++i) {
    gocxx::go([answers, i]() mutable { answers.send(i); });
  }
  int first = *answers.recv();
  answers.close();
  return first;
}

// A goroutine that only receives gives up waiting and closes the channel the sender still has.
void bad_consumer_closes() {
  gocxx::Chan<int> work;
  gocxx::go([work]() mutable { work.send(1); });
  gocxx::go([work]() mutable {
    gocxx::select(gocxx::recv_case(work), gocxx::recv_case(gocxx::time::after(std::chrono::milliseconds(1))));
    work.close();
  });
}

// Several senders, each closing when done: the second close panics too.
void bad_each_sender_closes() {
  gocxx::Chan<int> results(8);
  for (int w = 0; w < 4; ++w) {
    gocxx::go([results, w]() mutable {
      results.send(w);
      results.close();
    });
  }
}

// The one sender closes (Go's rule).
void ok_sender_closes() {
  gocxx::Chan<int> jobs(10);
  gocxx::go([jobs]() mutable {
    for (int i = 0; i < 10; ++i) jobs.send(i);
    jobs.close();
  });
  for (int j : jobs) (void)j;
}

// Closed after every sender is done (WaitGroup::wait), by a goroutine or by the spawner.
void ok_closed_after_wait() {
  gocxx::Chan<int> results(8);
  gocxx::sync::WaitGroup wg;
  for (int w = 0; w < 4; ++w) {
    wg.add(1);
    gocxx::go([&wg, results, w]() mutable {
      results.send(w);
      wg.done();
    });
  }
  gocxx::go([&wg, results]() mutable {
    wg.wait();
    results.close();
  });
  for (int r : results) (void)r;
}
void ok_spawner_closes_after_wait() {
  gocxx::Chan<int> results(8);
  gocxx::sync::WaitGroup wg;
  wg.add(1);
  gocxx::go([&wg, results]() mutable {
    results.send(1);
    wg.done();
  });
  wg.wait();
  results.close();
}

// A channel of its own per goroutine, closed by it.
void ok_one_channel_each() {
  for (int w = 0; w < 4; ++w) {
    gocxx::Chan<int> mine(1);
    gocxx::go([mine]() mutable {
      mine.send(1);
      mine.close();
    });
    mine.recv();
  }
}

// NOLINT is honoured.
void suppressed() {
  gocxx::Chan<int> c;
  gocxx::go([c]() mutable { c.send(1); });
  c.close();  // NOLINT(gocxx-chan-close-by-receiver)
}
