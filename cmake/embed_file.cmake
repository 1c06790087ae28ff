# Writes a C++ source holding the bytes of IN as a raw string literal.
file(READ ${IN} content)
string(FIND "${content}" ")BULWARK_EMBED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the embed delimiter")
endif()
file(WRITE ${OUT}.tmp "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace bulwark::embedded {\nstd::string_view ${NAME}() {\n  static constexpr char data[] = R\"BULWARK_EMBED(${content})BULWARK_EMBED\";\n  return {data, sizeof(data) - 1};\n}\n} // namespace bulwark::embedded\n")
# Rewritten only when the bytes differ: the TLS guideline is embedded at
# every configure, and a fresh mtime would recompile it and relink the
# library and every executable (each `make asan-test` configures again).
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
