#pragma once
// Small socket helpers shared by the live probes: a non-blocking connect
// with a deadline, and reads/writes bounded by the same deadline.

#include <chrono>
#include <string>

namespace bulwark::live::net {

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline` (0 when past).
int remaining_ms(Clock::time_point deadline);

// A connected non-blocking TCP socket, or -1 with `err` set.
int connect_to(const std::string &address, int port, Clock::time_point deadline, std::string &err);

// Waits until fd is readable (events = POLLIN) or writable (POLLOUT).
// False on timeout or error.
bool wait_fd(int fd, short events, Clock::time_point deadline);

// Reads at most `max` bytes that are available before the deadline.
// Returns bytes read, 0 on EOF, -1 on timeout or error.
long read_some(int fd, char *buf, size_t max, Clock::time_point deadline);
bool write_all(int fd, const std::string &data, Clock::time_point deadline);

} // namespace bulwark::live::net
