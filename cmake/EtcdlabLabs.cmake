# The lab mechanism.
#
# Every layer has one public API (the headers in labs/NN-name/include) and two implementations:
# the student's (labs/NN-name/src, a skeleton in this repository) and the reference
# (solution/NN-name). A lab has one layer, or several (lab 4: lease and watch), each with its
# sources in a subfolder of src/ and of solution/NN-name/. For lab N with layer L this file
# makes (<lib> is labNN for a lab of one layer, labNN_L for a layer of a lab of several):
#
#   etcdlab_L_api              the headers (and the APIs of the layers below): what provided
#                              code such as the simulator compiles against
#   etcdlab_<lib>_student      the student's implementation (static library)
#   etcdlab_<lib>_reference    the reference implementation: built from solution/, or in a
#                              student release imported from prebuilt/ (EtcdlabPrebuilt.cmake)
#   etcdlab_L                  the implementation everything links: the reference, or the
#                              student's when ETCDLAB_OWN_LABS lists N (every layer of the lab)
#                              or L (that layer alone: `OWN=lease` keeps the reference watch)
#   labNN-tests                the lab's tests linked against the student's implementation
#   labNN-tests-reference      the same tests against the reference (registered in ctest)
#   labNN-tests-broken         (labs with broken variants) the reference compiled with
#                              ETCDLAB_BROKEN_VARIANTS, the variant chosen at run time
#
# So `make labN` tests the student's lab N on top of the reference for every other lab, and
# `make labN OWN=1,2,N` stacks the student's own earlier labs underneath.
#
# Libraries of provided code that call into a layer (the simulator, the node) are OBJECT
# libraries linked against etcdlab_L_api only; executables link the implementations. That way
# one binary can hold the simulator with the student's Raft, another with the reference's.

include(${CMAKE_CURRENT_LIST_DIR}/EtcdlabPrebuilt.cmake)

string(REPLACE "," ";" ETCDLAB_OWN_LABS_LIST "${ETCDLAB_OWN_LABS}")
set_property(GLOBAL PROPERTY ETCDLAB_LAYERS "")

function(etcdlab_lab_nn number out)
  if(number LESS 10)
    set(${out} "0${number}" PARENT_SCOPE)
  else()
    set(${out} "${number}" PARENT_SCOPE)
  endif()
endfunction()

# etcdlab_add_lab(NUMBER 2 LAYER raft DIR labs/02-raft REFERENCE solution/02-raft
#                 LOWER log [TEST_DEPENDS etcdlab_sim] [API_DEPENDS etcdlab_sqlite]
#                 [BROKEN_VARIANTS] [SUBDIR lease])
# API_DEPENDS: provided libraries the layer is written against (lab 3's SQLite wrapper); the API
# target links them, so both implementations, the tests and every user get them.
# SUBDIR: for a lab of several layers, the layer's subfolder of src/ and of REFERENCE.
function(etcdlab_add_lab)
  cmake_parse_arguments(LAB "BROKEN_VARIANTS" "NUMBER;LAYER;DIR;REFERENCE;SUBDIR"
                        "LOWER;TEST_DEPENDS;API_DEPENDS" ${ARGN})
  etcdlab_lab_nn(${LAB_NUMBER} nn)
  set(lab_dir ${CMAKE_SOURCE_DIR}/${LAB_DIR})
  set(ref_dir ${CMAKE_SOURCE_DIR}/${LAB_REFERENCE})
  set(src_dir ${lab_dir}/src)
  set(lib lab${nn})
  if(LAB_SUBDIR)
    set(src_dir ${lab_dir}/src/${LAB_SUBDIR})
    set(ref_dir ${ref_dir}/${LAB_SUBDIR})
    set(lib lab${nn}_${LAB_LAYER})
  endif()
  set(L ${LAB_LAYER})

  add_library(etcdlab_${L}_api INTERFACE)
  target_include_directories(etcdlab_${L}_api INTERFACE ${lab_dir}/include)
  target_link_libraries(etcdlab_${L}_api INTERFACE etcdlab_common ${LAB_API_DEPENDS})
  set(lower_impls "")
  foreach(lower ${LAB_LOWER})
    target_link_libraries(etcdlab_${L}_api INTERFACE etcdlab_${lower}_api)
    list(APPEND lower_impls etcdlab_${lower})
  endforeach()

  file(GLOB student_sources CONFIGURE_DEPENDS ${src_dir}/*.cc)
  add_library(etcdlab_${lib}_student STATIC ${student_sources})
  target_include_directories(etcdlab_${lib}_student PRIVATE ${src_dir})
  target_link_libraries(etcdlab_${lib}_student PUBLIC etcdlab_${L}_api ${lower_impls}
                        PRIVATE etcdlab_warnings)

  file(GLOB ref_sources CONFIGURE_DEPENDS ${ref_dir}/*.cc)
  set(has_reference FALSE)
  set(broken_variants ${LAB_BROKEN_VARIANTS})
  if(NOT ref_sources)
    # A student release: no solution/, the reference prebuilt (cmake/EtcdlabPrebuilt.cmake),
    # and no broken variants (they are compiled from the reference's sources).
    etcdlab_prebuilt_reference(${lib} has_reference)
    set(broken_variants FALSE)
    if(has_reference)
      target_link_libraries(etcdlab_${lib}_reference INTERFACE etcdlab_${L}_api ${lower_impls})
    endif()
  else()
    set(has_reference TRUE)
    add_library(etcdlab_${lib}_reference STATIC ${ref_sources})
    target_include_directories(etcdlab_${lib}_reference PRIVATE ${ref_dir})
    target_link_libraries(etcdlab_${lib}_reference PUBLIC etcdlab_${L}_api ${lower_impls}
                          PRIVATE etcdlab_warnings)
    if(LAB_BROKEN_VARIANTS)
      add_library(etcdlab_${lib}_reference_broken STATIC ${ref_sources})
      target_include_directories(etcdlab_${lib}_reference_broken PRIVATE ${ref_dir})
      target_compile_definitions(etcdlab_${lib}_reference_broken PRIVATE
                                 ETCDLAB_BROKEN_VARIANTS=1)
      target_link_libraries(etcdlab_${lib}_reference_broken PUBLIC etcdlab_${L}_api
                            ${lower_impls} PRIVATE etcdlab_warnings)
    endif()
  endif()

  add_library(etcdlab_${L} INTERFACE)
  if(has_reference AND NOT "${LAB_NUMBER}" IN_LIST ETCDLAB_OWN_LABS_LIST
     AND NOT "${L}" IN_LIST ETCDLAB_OWN_LABS_LIST)
    target_link_libraries(etcdlab_${L} INTERFACE etcdlab_${lib}_reference)
  else()
    target_link_libraries(etcdlab_${L} INTERFACE etcdlab_${lib}_student)
  endif()

  get_property(numbers GLOBAL PROPERTY ETCDLAB_LAB_NUMBERS)
  if(NOT "${LAB_NUMBER}" IN_LIST numbers)
    set_property(GLOBAL APPEND PROPERTY ETCDLAB_LAB_NUMBERS ${LAB_NUMBER})
  endif()
  set_property(GLOBAL APPEND PROPERTY ETCDLAB_LAYERS "${LAB_NUMBER}:${L}")
  set_property(GLOBAL APPEND PROPERTY ETCDLAB_LAB${nn}_LAYERS ${L})
  set_property(GLOBAL PROPERTY ETCDLAB_LAYER_${L}_LIB ${lib})
  set_property(GLOBAL PROPERTY ETCDLAB_LAYER_${L}_LOWER "${LAB_LOWER}")
  set_property(GLOBAL PROPERTY ETCDLAB_LAYER_${L}_BROKEN ${broken_variants})
  set_property(GLOBAL PROPERTY ETCDLAB_LAB${nn}_DIR ${lab_dir})
  set_property(GLOBAL PROPERTY ETCDLAB_LAB${nn}_HAS_REFERENCE ${has_reference})
  if(broken_variants)
    set_property(GLOBAL PROPERTY ETCDLAB_LAB${nn}_BROKEN TRUE)
  endif()
  set_property(GLOBAL APPEND PROPERTY ETCDLAB_LAB${nn}_TEST_DEPENDS ${LAB_TEST_DEPENDS})
endfunction()

# Makes every lab's test binaries; call once all labs and the provided code they test with
# (TEST_DEPENDS) are declared. A lab's tests link its own implementations under test (every
# layer of the lab), which bring the selected implementation of each layer below, and nothing
# above.
function(etcdlab_add_lab_tests)
  get_property(numbers GLOBAL PROPERTY ETCDLAB_LAB_NUMBERS)
  foreach(number ${numbers})
    etcdlab_lab_nn(${number} nn)
    get_property(lab_dir GLOBAL PROPERTY ETCDLAB_LAB${nn}_DIR)
    get_property(layers GLOBAL PROPERTY ETCDLAB_LAB${nn}_LAYERS)
    get_property(has_reference GLOBAL PROPERTY ETCDLAB_LAB${nn}_HAS_REFERENCE)
    get_property(broken GLOBAL PROPERTY ETCDLAB_LAB${nn}_BROKEN)
    get_property(test_depends GLOBAL PROPERTY ETCDLAB_LAB${nn}_TEST_DEPENDS)

    file(GLOB test_sources CONFIGURE_DEPENDS ${lab_dir}/tests/*.cc)
    if(NOT test_sources)
      continue()
    endif()
    set(apis "")
    foreach(L ${layers})
      list(APPEND apis etcdlab_${L}_api)
    endforeach()
    # The tests are compiled once and linked into each variant.
    add_library(lab${nn}_test_objects OBJECT ${test_sources})
    target_include_directories(lab${nn}_test_objects PRIVATE ${lab_dir}/tests)
    target_compile_definitions(lab${nn}_test_objects PRIVATE ETCDLAB_LAB_NUMBER=${number})
    target_link_libraries(lab${nn}_test_objects PUBLIC ${apis} etcdlab_test_support
                          ${test_depends} PRIVATE etcdlab_warnings)

    set(variants student)
    if(has_reference)
      list(APPEND variants reference)
      if(broken)
        list(APPEND variants reference_broken)
      endif()
    endif()
    foreach(variant ${variants})
      if(variant STREQUAL student)
        set(exe lab${nn}-tests)
      elseif(variant STREQUAL reference)
        set(exe lab${nn}-tests-reference)
      else()
        set(exe lab${nn}-tests-broken)
      endif()
      set(impls "")
      foreach(L ${layers})
        get_property(lib GLOBAL PROPERTY ETCDLAB_LAYER_${L}_LIB)
        get_property(layer_broken GLOBAL PROPERTY ETCDLAB_LAYER_${L}_BROKEN)
        if(variant STREQUAL reference_broken AND NOT layer_broken)
          list(APPEND impls etcdlab_${lib}_reference)  # this layer has no variants
        else()
          list(APPEND impls etcdlab_${lib}_${variant})
        endif()
      endforeach()
      add_executable(${exe})
      target_link_libraries(${exe} PRIVATE lab${nn}_test_objects ${test_depends} ${impls})
    endforeach()
    if(has_reference)
      gtest_discover_tests(lab${nn}-tests-reference DISCOVERY_MODE PRE_TEST
                           PROPERTIES LABELS "lab${number}" TIMEOUT 300)
    endif()
  endforeach()
endfunction()
