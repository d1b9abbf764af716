# The reference as prebuilt libraries: what a student release has instead of solution/.
#
# grader/release exports the course without solution/ and ships the reference of every layer as
# prebuilt/lib/libetcdlab_<lib>_reference.a, with prebuilt/manifest.json saying what built them
# (compiler, system, build type) and the SHA-256 of each header they were compiled against.
# Static C++ libraries link only with the compiler and the system libraries (libstdc++, fmt,
# spdlog, SQLite) they were built with, and only against the headers they were built from: a
# mismatch does not fail at link time, it crashes at run time. So this file refuses, with a
# message that says why, to configure a build that would link them wrongly.
#
#   etcdlab_prebuilt_reference(<lib> <found-var>)
#       makes the IMPORTED target etcdlab_<lib>_reference when prebuilt/ has it
#
# ETCDLAB_PREBUILT_ANY_TOOLCHAIN=ON skips the compiler and system check (at your own risk: a
# Debian 12 derivative, say); the header check always runs.

set(ETCDLAB_PREBUILT_DIR ${CMAKE_SOURCE_DIR}/prebuilt)
option(ETCDLAB_PREBUILT_ANY_TOOLCHAIN
       "Link prebuilt/ even on a compiler or system it was not built for (may crash)" OFF)

function(_etcdlab_os_release key out)
  set(value "")
  if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release lines REGEX "^${key}=")
    if(lines)
      list(GET lines 0 line)
      string(REGEX REPLACE "^${key}=\"?([^\"]*)\"?$" "\\1" value "${line}")
    endif()
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# Once per configure: the manifest read, the toolchain and the headers checked.
function(_etcdlab_check_prebuilt)
  get_property(done GLOBAL PROPERTY ETCDLAB_PREBUILT_CHECKED)
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY ETCDLAB_PREBUILT_CHECKED TRUE)
  set(manifest_path ${ETCDLAB_PREBUILT_DIR}/manifest.json)
  if(NOT EXISTS ${manifest_path})
    message(FATAL_ERROR "prebuilt/ has libraries but no manifest.json: the release is damaged "
                        "(restore it with `git checkout -- prebuilt`)")
  endif()
  file(READ ${manifest_path} manifest)
  string(JSON built_for GET "${manifest}" toolchain description)
  string(JSON want_id GET "${manifest}" toolchain compiler_id)
  string(JSON want_version GET "${manifest}" toolchain compiler_version)
  string(JSON want_os GET "${manifest}" toolchain os_id)
  string(JSON want_os_version GET "${manifest}" toolchain os_version_id)
  string(JSON want_arch GET "${manifest}" toolchain processor)

  string(REGEX MATCH "^[0-9]+" want_major "${want_version}")
  string(REGEX MATCH "^[0-9]+" have_major "${CMAKE_CXX_COMPILER_VERSION}")
  _etcdlab_os_release(ID have_os)
  _etcdlab_os_release(VERSION_ID have_os_version)
  _etcdlab_os_release(PRETTY_NAME have_os_name)
  set(have "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} on ${have_os_name} "
           "(${have_os} ${have_os_version}), ${CMAKE_SYSTEM_PROCESSOR}")
  string(JOIN "" have ${have})
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL want_id OR NOT have_major STREQUAL want_major
     OR NOT have_os STREQUAL want_os OR NOT have_os_version STREQUAL want_os_version
     OR NOT CMAKE_SYSTEM_PROCESSOR STREQUAL want_arch)
    if(ETCDLAB_PREBUILT_ANY_TOOLCHAIN)
      message(WARNING "prebuilt/ was built for ${built_for}; this is ${have}. Linking it anyway "
                      "(ETCDLAB_PREBUILT_ANY_TOOLCHAIN=ON): crashes in the reference are this "
                      "mismatch, not your code.")
    else()
      message(FATAL_ERROR
        "This release ships the reference implementation as prebuilt libraries (prebuilt/), "
        "built for ${built_for}.\nThis machine is ${have}.\n"
        "C++ libraries link only with the compiler and system libraries they were built with, "
        "so the build stops here rather than crash later. Build on Debian 12 with its g++ 12: "
        "a virtual machine, WSL's Debian, or a container (`docker run -it -v $PWD:/src "
        "debian:12`, then `make deps`). See README.md, \"Which machine\".\n"
        "(-DETCDLAB_PREBUILT_ANY_TOOLCHAIN=ON links them anyway, at your own risk.)")
    endif()
  endif()

  # The headers: a changed one means the libraries disagree with the code that calls them.
  string(JSON count LENGTH "${manifest}" headers)
  set(changed "")
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      string(JSON path MEMBER "${manifest}" headers ${i})
      string(JSON want GET "${manifest}" headers ${path})
      set(file ${CMAKE_SOURCE_DIR}/${path})
      if(NOT EXISTS ${file})
        list(APPEND changed "${path} (missing)")
        continue()
      endif()
      file(SHA256 ${file} have_sha)
      if(NOT have_sha STREQUAL want)
        list(APPEND changed ${path})
      endif()
    endforeach()
  endif()
  if(changed)
    list(JOIN changed "\n  " listed)
    message(FATAL_ERROR
      "These headers differ from the ones the prebuilt reference (prebuilt/) was compiled "
      "against:\n  ${listed}\nThe API headers and common/include are given, not yours to "
      "change: the reference would run with a different layout of the same types and crash. "
      "Restore them (`git checkout -- <file>`), or `git pull` the course's newer release.")
  endif()
endfunction()

function(etcdlab_prebuilt_reference lib found)
  set(archive ${ETCDLAB_PREBUILT_DIR}/lib/libetcdlab_${lib}_reference.a)
  if(NOT EXISTS ${archive})
    set(${found} FALSE PARENT_SCOPE)
    return()
  endif()
  _etcdlab_check_prebuilt()
  add_library(etcdlab_${lib}_reference STATIC IMPORTED GLOBAL)
  set_target_properties(etcdlab_${lib}_reference PROPERTIES IMPORTED_LOCATION ${archive})
  set(${found} TRUE PARENT_SCOPE)
endfunction()
