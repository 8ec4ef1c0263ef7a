# Fails when README.md no longer contains examples/quickstart.c verbatim.
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "${example}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "README.md does not contain examples/quickstart.c verbatim")
endif()
