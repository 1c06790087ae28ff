#pragma once
// Running a program without a shell and collecting what it printed: the
// actions of bulwark watch (ipset, iptables), the live probes
// (iptables-legacy-save) and anything else that must run a host program
// with a deadline. The program gets `input` on its standard input (through
// a memfd: a program that exits before reading all of it cannot raise
// SIGPIPE in the caller), default signal dispositions and an empty signal
// mask (the watch daemon blocks TERM, INT and HUP for its signalfd).

#include <bulwark/core/result.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace bulwark {

// What a program printed and how it ended.
struct ProgramResult {
  int exit_code = -1; // -1: killed by a signal or timed out
  std::string out, err;
};

// Runs argv[0] (an absolute path) with `input` on its standard input,
// without a shell; kills it after `timeout`. Each of out and err keeps at
// most 256 MiB. An error only when it cannot start.
Result<ProgramResult> run_program(const std::vector<std::string> &argv, const std::string &input,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The first of /usr/sbin/NAME, /sbin/NAME, /usr/bin/NAME, /bin/NAME that
// is executable; "" when none is.
std::string find_program(const std::string &name);

} // namespace bulwark
