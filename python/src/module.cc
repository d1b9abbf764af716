// etcdlab._core: the C++ parts the Python package drives. Each area binds itself in its own
// file; this file only calls them (python/README.md describes the Python API built on top).
#include <pybind11/pybind11.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "etcdlab's simulator and checkers (C++), for the etcdlab Python package";
  // Simulated crashes make the storage log repairs by design; show them only when asked
  // (ETCDLAB_LOG=info or debug), as the C++ tests do.
  const char* level = std::getenv("ETCDLAB_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::err);
  etcdlab::python::bind_checkers(m);
  etcdlab::python::bind_sim(m);
  etcdlab::python::bind_kv(m);
  etcdlab::python::bind_watch(m);
  etcdlab::python::bind_txn(m);
  etcdlab::python::refuse_none_receivers(m);
}
