#include <bulwark/report/report.hpp>
namespace bulwark::report {
std::string render_markdown(const AuditReport &) {
  return "";
}
} // namespace bulwark::report
