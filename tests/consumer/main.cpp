#include <gocxx/gocxx.hpp>
#include <cstdio>

int main() {
  return gocxx::run([] {
    gocxx::Chan<int> c;
    gocxx::go([c]() mutable { c.send(42); });
    int v = *c.recv();
    std::printf("consumer got %d\n", v);
    return v == 42 ? 0 : 1;
  });
}
