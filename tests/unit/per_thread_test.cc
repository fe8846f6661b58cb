// PerThread / AtThreadExit (core/util/per_thread.h): one object per thread
// and tag, destroyed at the thread's exit, newest first, including ones
// made again by an exit function; the epoch slot handed back at exit.
#include "core/util/per_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/util/epoch.h"

namespace firkin {
namespace {

std::atomic<int> g_alive{0};
struct Counted {
  Counted() { g_alive.fetch_add(1); }
  ~Counted() { g_alive.fetch_sub(1); }
  int value = 0;
};
struct TagA;
struct TagB;

TEST(PerThread, OnePerThreadAndTagFreedAtExit) {
  g_alive.store(0);
  std::vector<std::thread> threads;
  std::atomic<int> distinct{0};
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&distinct, t] {
      Counted& a = PerThread<Counted, TagA>();
      Counted& b = PerThread<Counted, TagB>();
      if (&a != &b) distinct.fetch_add(1);
      a.value = t;
      Counted* again = &PerThread<Counted, TagA>();
      EXPECT_EQ(&a, again);  // the same object again
      EXPECT_EQ(again->value, t);
      Counted* made_b = PerThreadIfMade<Counted, TagB>();
      EXPECT_EQ(&b, made_b);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(distinct.load(), 8);
  EXPECT_EQ(g_alive.load(), 0);  // every thread's two objects destroyed
}

TEST(PerThread, NotMadeUntilUsed) {
  std::thread([] {
    std::string* made = PerThreadIfMade<std::string, TagA>();
    EXPECT_EQ(made, nullptr);
  }).join();
}

std::vector<int>* g_order;
void Record(void* arg) { g_order->push_back(static_cast<int>(reinterpret_cast<intptr_t>(arg))); }
void RegisterAgain(void* arg) {
  Record(arg);
  AtThreadExit(&Record, reinterpret_cast<void*>(intptr_t{99}));  // registered while the list runs
}

TEST(AtThreadExit, NewestFirstAndRegisteredDuringExit) {
  std::vector<int> order;
  g_order = &order;
  std::thread([] {
    AtThreadExit(&Record, reinterpret_cast<void*>(intptr_t{1}));
    AtThreadExit(&RegisterAgain, reinterpret_cast<void*>(intptr_t{2}));
    AtThreadExit(&Record, reinterpret_cast<void*>(intptr_t{3}));
  }).join();
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1, 99}));
}

// A made-again object at exit is destroyed too (glibc calls the key's
// destructor again while it has a value).
struct TagC;
void TouchAgain(void*) { PerThread<Counted, TagC>().value = 7; }
TEST(AtThreadExit, PerThreadMadeByAnExitFunctionIsFreed) {
  g_alive.store(0);
  std::thread([] {
    PerThread<Counted, TagC>();
    AtThreadExit(&TouchAgain, nullptr);  // runs first: the object still there
  }).join();
  EXPECT_EQ(g_alive.load(), 0);
  std::thread([] {
    AtThreadExit(&TouchAgain, nullptr);  // runs after nothing; makes one at exit
  }).join();
  EXPECT_EQ(g_alive.load(), 0);
}

// The epoch slot a thread takes at its first guard is handed back at its
// exit: many short-lived threads reuse a few indexes.
TEST(AtThreadExit, EpochSlotsComeBack) {
  uint32_t most = 0;
  for (int i = 0; i < 200; i++) {
    std::thread([&most] {
      Epoch::Guard g;
      most = std::max(most, Epoch::ThreadIndex());
    }).join();
  }
  EXPECT_LT(most, 16u);
}

}  // namespace
}  // namespace firkin
