#pragma once
// The last steps of a randomized test, for failure messages. A SCOPED_TRACE of text() at the
// top of each step makes every failure inside that step print them, whichever assertion (or
// unexpected exception) it is:
//
//   StepTrail trail;
//   for (int step = 0; ...; ++step) {
//     SCOPED_TRACE(trail.text());
//     ... do the step, assert ...
//     trail.add("step 7: append [3, 5]");
//   }

#include <string>
#include <vector>

namespace etcdlab::testing {

class StepTrail {
 public:
  explicit StepTrail(size_t keep = 8) : keep_(keep) {}
  void add(std::string step) {
    steps_.push_back(std::move(step));
    if (steps_.size() > keep_) steps_.erase(steps_.begin());
  }
  std::string text() const {
    if (steps_.empty()) return "the first step";
    std::string out = "the last steps before this one:";
    for (const auto& s : steps_) out += "\n    " + s;
    return out;
  }

 private:
  size_t keep_;
  std::vector<std::string> steps_;
};

}  // namespace etcdlab::testing
