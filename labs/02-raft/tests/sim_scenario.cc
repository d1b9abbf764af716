#include "sim_scenario.h"

#include "etcdlab/sim/app.h"

namespace etcdlab::lab2 {

std::vector<std::string> commands_in_log(const Cluster& c, int node) {
  std::vector<std::string> out;
  for (const Entry& e : c.log(node)) {
    auto [op, data] = sim::decode_command(e.data);
    if (op != 0 && e.type == EntryType::kNormal) out.emplace_back(data);
  }
  return out;
}

}  // namespace etcdlab::lab2
