# Warnings for our own targets (not for third-party code): strict everywhere, fatal in CI.
add_library(etcdlab_warnings INTERFACE)
target_compile_options(etcdlab_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)
if(ETCDLAB_WERROR)
  target_compile_options(etcdlab_warnings INTERFACE -Werror)
endif()
