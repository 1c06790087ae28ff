#pragma once
// Where an audit's time went (`bulwark audit --perf`, after mold's --perf):
// each model's load and each check's evaluation, in the order they ran.

#include <chrono>
#include <string>
#include <vector>

namespace bulwark {

struct PerfEntry {
  enum class Kind { model, check };
  Kind kind = Kind::model;
  std::string name; // the model's name, or the check id
  double ms = 0;    // wall time; a model's includes the models it loaded
  int depth = 0;    // models loaded while another model was loading are nested
};

// Times a scope into `out`, appended when the scope ends.
class PerfTimer {
public:
  PerfTimer(std::vector<PerfEntry> &out, PerfEntry::Kind kind, std::string name, int depth = 0)
      : m_out(out), m_index(out.size()), m_t0(std::chrono::steady_clock::now()) {
    // The entry is placed now, so that nested loads print after their parent.
    m_out.push_back(PerfEntry{kind, std::move(name), 0, depth});
  }
  ~PerfTimer() {
    m_out[m_index].ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_t0).count();
  }
  PerfTimer(const PerfTimer &) = delete;
  PerfTimer &operator=(const PerfTimer &) = delete;

private:
  std::vector<PerfEntry> &m_out;
  size_t m_index;
  std::chrono::steady_clock::time_point m_t0;
};

// The table printed on stderr: models first (load order, nested), then
// checks slowest first, then the total.
std::string render_perf(const std::vector<PerfEntry> &entries, double total_ms);

} // namespace bulwark
