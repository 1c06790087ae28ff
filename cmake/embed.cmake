# bulwark_embed(TARGET NAME FILE): compiles FILE into TARGET as
# `std::string_view bulwark::embedded::NAME()`, so the catalogue and the
# built-in profiles travel inside the binary and cannot drift from it.
function(bulwark_embed target name file)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${name}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DIN=${file} -DOUT=${out} -DNAME=${name}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/embed_file.cmake
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
