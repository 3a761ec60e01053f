# Layers.cmake: the rooms' one-way dependencies, checked at build time.
#
# Every folder includes headers from the project root ("domain/job_view.h"),
# so the compiler would let any file include any header, and static
# libraries resolve symbols only at the final link: neither the compiler nor
# the linker notices a dialect reaching into the key store. So each room
# declares what it may include, and a step of the build reads its sources'
# #include lines before its target compiles:
#
#   jobtrail_layer(<target> DIR <folder> [ALLOW <prefix>...] [DENY <prefix>...])
#
#   DIR    the room's folder, relative to the project root ("http/v1");
#          its own headers are always allowed
#   ALLOW  the quoted includes ("...") it may use besides its own: a folder
#          ("domain/") or one header ("http/security/route_access.h")
#   DENY   what it must not include even where ALLOW would let it: "<lib/"
#          for a library (the HTTP library stays in http/server), or a
#          header ("projections/job_store.h": routes use the store's parts)
#
# A quoted include outside the room and outside ALLOW, or any DENY match,
# fails the build, naming the file, the line, the include and the rule
# (tests/layers/check_layers.cmake). The check reruns when a source of the room
# changes; a new file is seen at the next configure (the room is globbed
# with CONFIGURE_DEPENDS).
set(JOBTRAIL_LAYER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/check_layers.cmake)

function(jobtrail_layer target)
  cmake_parse_arguments(L "" "DIR" "ALLOW;DENY" ${ARGN})
  file(GLOB files CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/${L_DIR}/*.h ${PROJECT_SOURCE_DIR}/${L_DIR}/*.cc)
  set(stamp ${PROJECT_BINARY_DIR}/layers/${target}.ok)
  # Lists travel to the script joined by '|' (a ';' would split the argument).
  string(REPLACE ";" "|" allow "${L_ALLOW}")
  string(REPLACE ";" "|" deny "${L_DENY}")
  string(REPLACE ";" "|" sources "${files}")
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DROOM=${L_DIR} -DROOT=${PROJECT_SOURCE_DIR}
            "-DALLOW=${allow}" "-DDENY=${deny}" "-DFILES=${sources}" -DSTAMP=${stamp}
            -P ${JOBTRAIL_LAYER_SCRIPT}
    DEPENDS ${files} ${JOBTRAIL_LAYER_SCRIPT}
    COMMENT "Checking the includes of ${L_DIR}/ against its allowed layers"
    VERBATIM)
  add_custom_target(${target}_layers DEPENDS ${stamp})
  add_dependencies(${target} ${target}_layers)
endfunction()
