// Replays fuzz inputs through a libFuzzer harness without libFuzzer, so that
// the ordinary (g++, ASan+UBSan) test build compiles every harness and runs
// its seeds in CI, as `harness -runs=0 seeds/` would with clang:
//   replay_fuzz_x [--max-ms N] [--max-rss-mb N] FILE_OR_DIR...
// Each input must return within --max-ms of CPU time and the process must stay under
// --max-rss-mb (libFuzzer's -timeout and -rss_limit_mb): the expansion bombs
// among the seeds are tests of the parsers' work budgets, not only of their
// memory safety. A directory with no inputs is an error: a replay that runs
// nothing must not pass.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

namespace {

void collect(const std::string &path, std::vector<std::string> &out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    out.push_back(path);
    return;
  }
  DIR *d = ::opendir(path.c_str());
  if (d == nullptr) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(), std::strerror(errno));
    std::exit(2);
  }
  std::vector<std::string> names;
  while (struct dirent *e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (auto &n : names)
    collect(path + "/" + n, out);
}

double cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

long peak_rss_mb() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

} // namespace

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  double max_ms = 10000;
  long max_rss_mb = 2048;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--max-ms" && i + 1 < argc)
      max_ms = std::atof(argv[++i]);
    else if (a == "--max-rss-mb" && i + 1 < argc)
      max_rss_mb = std::atol(argv[++i]);
    else
      collect(a, inputs);
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs (a replay that runs nothing is a failure)\n");
    return 2;
  }
  // The limit is on CPU time, as a work budget: wall time measures the
  // machine's load as much as the parser (a 9 s seed took 62 s of wall time
  // while the suite ran beside four compilers). A harness that blocks
  // without spending CPU is stopped by CTest's TIMEOUT.
  double slowest = 0;
  std::string slowest_name;
  for (auto &p : inputs) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string data = std::move(buf).str();
    double t0 = cpu_ms();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(data.data()), data.size());
    double ms = cpu_ms() - t0;
    if (ms > slowest)
      slowest = ms, slowest_name = p;
    if (ms > max_ms) {
      std::fprintf(stderr, "replay: %s took %.0f ms of CPU (limit %.0f ms)\n", p.c_str(), ms,
                   max_ms);
      return 1;
    }
    if (long rss = peak_rss_mb(); rss > max_rss_mb) {
      std::fprintf(stderr, "replay: %s: peak RSS %ld MB (limit %ld MB)\n", p.c_str(), rss,
                   max_rss_mb);
      return 1;
    }
  }
  std::printf("replay: %zu inputs, slowest %.1f ms of CPU (%s), peak RSS %ld MB\n", inputs.size(),
              slowest, slowest_name.c_str(), peak_rss_mb());
  return 0;
}
