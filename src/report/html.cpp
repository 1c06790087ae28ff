#include <bulwark/report/report.hpp>
namespace bulwark::report {
std::string render_html(const AuditReport &) {
  return "";
}
} // namespace bulwark::report
