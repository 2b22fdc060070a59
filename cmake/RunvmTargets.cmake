# Helpers every folder uses to declare libraries, binaries, unit tests and fuzz targets.

set(RUNVM_FUZZ_BINARY_DIR ${CMAKE_BINARY_DIR}/fuzz-build)
set(RUNVM_FUZZ_SECONDS 15 CACHE STRING "seconds each fuzz target runs under ctest")
set(RUNVM_FUZZ_TARGETS "" CACHE INTERNAL "")

# runvm_library(name SOURCES ... LIBS ...): a static library with our warnings.
function(runvm_library name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_compile_options(${name} PRIVATE ${RUNVM_WARNINGS})
  target_link_libraries(${name} PUBLIC ${A_LIBS})
  if(RUNVM_FUZZ_BUILD)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
  endif()
endfunction()

# runvm_executable(name SOURCES ... LIBS ...): a program (skipped in the fuzz build).
function(runvm_executable name)
  if(RUNVM_FUZZ_BUILD)
    return()
  endif()
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_compile_options(${name} PRIVATE ${RUNVM_WARNINGS})
  target_link_libraries(${name} PRIVATE ${A_LIBS})
endfunction()

# runvm_unit_test(name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s]): a Boost.Test binary
# registered with ctest. Tests that need root, KVM or a missing tool exit 77 (skipped).
function(runvm_unit_test name)
  if(RUNVM_FUZZ_BUILD)
    return()
  endif()
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_compile_options(${name} PRIVATE ${RUNVM_WARNINGS})
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK)
  target_link_libraries(${name} PRIVATE ${A_LIBS} Boost::unit_test_framework)
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite)
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "unit;${A_LABELS}" TIMEOUT ${A_TIMEOUT}
                       SKIP_RETURN_CODE 77)
endfunction()

# runvm_fuzz_target(name SOURCES ... LIBS ...): a libFuzzer target, source in tests/fuzz,
# seed corpus in tests/fuzz/corpus/<name>. The fuzz build compiles it; the main build
# registers a ctest entry that runs it for RUNVM_FUZZ_SECONDS over a scratch copy of the
# seeds, so the checked-in corpus never changes.
function(runvm_fuzz_target name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  if(RUNVM_FUZZ_BUILD)
    add_executable(${name} ${A_SOURCES})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE ${A_LIBS})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzzers)
    set(RUNVM_FUZZ_TARGETS ${RUNVM_FUZZ_TARGETS} ${name} CACHE INTERNAL "")
  elseif(RUNVM_FUZZERS)
    add_test(NAME fuzz.${name}
             COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run-fuzzer.sh
                     ${RUNVM_FUZZ_BINARY_DIR}/fuzzers/${name}
                     ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name} ${RUNVM_FUZZ_SECONDS})
    math(EXPR limit "${RUNVM_FUZZ_SECONDS} * 4 + 60")
    set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT ${limit})
  endif()
endfunction()
