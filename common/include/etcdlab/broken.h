#pragma once
// Deliberately broken variants of the reference implementations, to prove the tests catch real
// bugs. They are compiled only into the dedicated test builds (labNN-tests-broken, built with
// ETCDLAB_BROKEN_VARIANTS) and chosen at run time with ETCDLAB_BROKEN=<name>. In every other
// build ETCDLAB_BROKEN(name) is the constant false and the compiler removes the broken branch.
//
//   if (ETCDLAB_BROKEN("commit-previous-term")) { ...the bug... }

#include <string_view>

namespace etcdlab::broken {

// Whether ETCDLAB_BROKEN names this variant (read once per process).
bool active(std::string_view name);

}  // namespace etcdlab::broken

#ifdef ETCDLAB_BROKEN_VARIANTS
#define ETCDLAB_BROKEN(name) (::etcdlab::broken::active(name))
#else
#define ETCDLAB_BROKEN(name) (false)
#endif
