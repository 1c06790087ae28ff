# Runs inside ctest (a TEST_INCLUDE_FILES script): one CTest test per
# GoogleTest suite of the test binary, listed when ctest starts.
#
# Why not gtest_discover_tests (one process per test): the sanitizer build's
# test binary needs about one CPU second to start (4.9 million relocations of
# UBSan's check-site records and ASan's global registration), which was two
# thirds of the ASan suite's time with 700 one-test processes. A suite's tests
# run in one process, as `bulwark_tests` alone runs them all.
#
# Variables (set by the generated include file): BULWARK_TEST_BINARY,
# BULWARK_TEST_DIR, BULWARK_TEST_TIMEOUT.
if(NOT EXISTS "${BULWARK_TEST_BINARY}")
  # Not built: one failing test says so, instead of an empty (green) run.
  add_test(bulwark_tests_NOT_BUILT "${BULWARK_TEST_BINARY}")
  return()
endif()
execute_process(
  COMMAND "${BULWARK_TEST_BINARY}" --gtest_list_tests
  WORKING_DIRECTORY "${BULWARK_TEST_DIR}"
  OUTPUT_VARIABLE listing
  RESULT_VARIABLE rc
  TIMEOUT 120)
if(NOT rc EQUAL 0)
  add_test(bulwark_tests_LIST_FAILED "${BULWARK_TEST_BINARY}" --gtest_list_tests)
  return()
endif()
include("${CMAKE_CURRENT_LIST_DIR}/suite_costs.cmake")
# A suite with a cost (8 s or more) is a test of its own. The others (most
# take one to four seconds) run k_batch to a process: each start of the
# sanitizer build's test binary costs about 0.7 CPU-s (ASan registering its
# globals, LSan scanning 200 MB of data at exit), which for 150 small suites
# was about a seventh of the suite's CPU. A batch is named after its suites joined by
# '+', so `ctest -R Suite` still selects the batch that holds Suite.
set(k_batch 8)
set(batch "")
set(count 0)
function(bulwark_add_suites name filter cost)
  add_test("${name}" "${BULWARK_TEST_BINARY}" "--gtest_filter=${filter}")
  set_tests_properties("${name}" PROPERTIES
    WORKING_DIRECTORY "${BULWARK_TEST_DIR}"
    TIMEOUT ${BULWARK_TEST_TIMEOUT})
  if(NOT cost STREQUAL "")
    set_tests_properties("${name}" PROPERTIES COST ${cost})
  endif()
endfunction()
macro(bulwark_flush_batch)
  if(batch)
    list(JOIN batch "+" batch_name)
    list(TRANSFORM batch APPEND ".*")
    list(JOIN batch ":" batch_filter)
    bulwark_add_suites("${batch_name}" "${batch_filter}" "")
    set(batch "")
  endif()
endmacro()
string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  # A suite line starts in column 0 and ends with '.' (a typed or value-
  # parameterised suite adds "  # TypeParam = ..."); its tests are indented.
  if(line MATCHES "^([A-Za-z_][A-Za-z0-9_/]*)\\.")
    set(suite "${CMAKE_MATCH_1}")
    if(suite MATCHES "^DISABLED_")
      continue()
    endif()
    math(EXPR count "${count} + 1")
    if(DEFINED bulwark_cost_${suite})
      bulwark_add_suites("${suite}" "${suite}.*" "${bulwark_cost_${suite}}")
    else()
      list(APPEND batch "${suite}")
      list(LENGTH batch n)
      if(n EQUAL k_batch)
        bulwark_flush_batch()
      endif()
    endif()
  endif()
endforeach()
bulwark_flush_batch()
if(count EQUAL 0)
  add_test(bulwark_tests_NO_SUITES "${BULWARK_TEST_BINARY}" --gtest_list_tests)
  set_tests_properties(bulwark_tests_NO_SUITES PROPERTIES WILL_FAIL TRUE)
endif()
