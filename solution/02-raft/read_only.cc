#include "read_only.h"

#include <fmt/format.h>

namespace etcdlab::raft {

std::string ReadOnly::start_round(uint64_t term) {
  Round r;
  r.context = fmt::format("read/{}/{}", term, ++rounds_);
  r.requests = std::move(queued_);
  queued_.clear();
  round_ = std::move(r);
  return round_->context;
}

}  // namespace etcdlab::raft
