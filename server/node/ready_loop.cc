#include "etcdlab/node/ready_loop.h"

#include <utility>

namespace etcdlab {

bool ReadyLoop::step() {
  if (syncing_ || !node_.has_ready()) return false;
  Ready rd = node_.ready();
  bool leader = io_.taken(rd);
  if (leader) io_.send(rd.messages);
  if (rd.snapshot) io_.install_snapshot(*rd.snapshot);
  io_.write(rd);
  if (rd.must_sync) {
    syncing_ = true;
    io_.start_sync(std::move(rd), leader);
    return true;
  }
  finish(rd, leader);
  return true;
}

void ReadyLoop::synced(Ready& rd, bool leader) {
  syncing_ = false;
  finish(rd, leader);
}

void ReadyLoop::finish(Ready& rd, bool leader) {
  io_.persisted(rd);
  if (!leader) io_.send(rd.messages);
  node_.apply(rd);
  io_.applied(rd);
  node_.advance(rd);
  io_.advanced(rd);
}

}  // namespace etcdlab
