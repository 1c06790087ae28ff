#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/core/yaml.hpp>

#include <cerrno>
#include <cstring>

namespace bulwark {

namespace embedded {
std::string_view profile_baseline();
std::string_view profile_vpn_production();
std::string_view profile_lms_server();
} // namespace embedded

namespace {

struct Builtin {
  std::string_view name;
  std::string_view (*text)();
};

// The explicit table of built-in profiles.
constexpr Builtin k_builtin_profiles[] = {
    {"baseline", embedded::profile_baseline},
    {"vpn-production", embedded::profile_vpn_production},
    {"lms-server", embedded::profile_lms_server},
};

Result<ParamValue> convert_like(const ParamValue &like, const yaml::Node &n,
                                const std::string &file, const std::string &what) {
  if (std::holds_alternative<std::vector<std::string>>(like)) {
    std::vector<std::string> out;
    if (n.is_scalar()) {
      out.push_back(n.scalar);
      return ParamValue{out};
    }
    if (!n.is_sequence() && n.kind != yaml::Node::Kind::null)
      return Error{what + ": expected a list", file, n.line};
    for (auto &i : n.items) {
      if (!i.is_scalar())
        return Error{what + ": list items must be plain values", file, i.line};
      out.push_back(i.scalar);
    }
    return ParamValue{out};
  }
  if (!n.is_scalar())
    return Error{what + ": expected a single value", file, n.line};
  if (std::holds_alternative<int64_t>(like)) {
    const std::string &s = n.scalar;
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE)
      return Error{what + ": expected an integer, got '" + s + "'", file, n.line};
    return ParamValue{static_cast<int64_t>(v)};
  }
  return ParamValue{n.scalar};
}

Result<Profile> apply_document(const Catalogue &cat, Profile p, const yaml::Node &root,
                               const std::string &file, bool allow_extends) {
  if (!root.is_mapping())
    return Error{"a profile is a YAML mapping", file, root.line};
  for (auto &[key, node] : root.entries) {
    if (key == "name" || key == "description")
      continue;
    if (key == "guide") {
      if (!node.is_scalar() ||
          (node.scalar != "000" && node.scalar != "003" && node.scalar != "none"))
        return Error{"'guide' is \"000\", \"003\" or \"none\"", file, node.line};
      p.guide = node.scalar == "none" ? "" : node.scalar;
      continue;
    }
    if (key == "extends") {
      if (!allow_extends)
        return Error{"built-in profiles do not extend", file, node.line};
      continue; // handled by the caller
    }
    if (key == "parameters") {
      if (!node.is_mapping() && node.kind != yaml::Node::Kind::null)
        return Error{"'parameters' maps check ids to their parameters", file, node.line};
      for (auto &[check_id, params] : node.entries) {
        const CheckSpec *spec = cat.find(check_id);
        if (spec == nullptr)
          return Error{"unknown check '" + check_id + "'", file, params.line};
        if (!params.is_mapping())
          return Error{"parameters of '" + check_id + "' must be a mapping", file, params.line};
        for (auto &[pname, value] : params.entries) {
          const ParamSpec *ps = spec->find_param(pname);
          if (ps == nullptr) {
            std::string known;
            for (auto &q : spec->parameters)
              known += (known.empty() ? "" : ", ") + q.name;
            return Error{"check '" + check_id + "' has no parameter '" + pname + "'" +
                             (known.empty() ? " (it takes none)" : " (known: " + known + ")"),
                         file, value.line};
          }
          p.params[check_id][pname] =
              TRY(convert_like(ps->default_value, value, file, check_id + "." + pname));
        }
      }
      continue;
    }
    if (key == "disable" || key == "enable") {
      if (!node.is_sequence())
        return Error{"'" + key + "' is a list of check ids", file, node.line};
      for (auto &item : node.items) {
        if (!item.is_scalar() || cat.find(item.scalar) == nullptr)
          return Error{"unknown check '" + item.scalar + "'", file, item.line};
        if (key == "disable")
          p.disabled.insert(item.scalar);
        else
          p.disabled.erase(item.scalar);
      }
      continue;
    }
    return Error{"unknown profile key '" + key +
                     "' (expected extends, name, description, guide, parameters, disable, enable)",
                 file, node.line};
  }
  return p;
}

const Builtin *find_builtin(std::string_view name) {
  for (auto &b : k_builtin_profiles)
    if (b.name == name)
      return &b;
  return nullptr;
}

Result<Profile> apply_builtin(const Catalogue &cat, Profile base, const Builtin &b) {
  std::string file = "profiles/" + std::string(b.name) + ".yaml";
  yaml::Node root = TRY(yaml::parse(b.text(), file));
  Profile p = TRY(apply_document(cat, std::move(base), root, file, false));
  p.names.emplace_back(b.name);
  return p;
}

} // namespace

const ParamValue *Profile::param(std::string_view check, std::string_view name) const {
  auto it = params.find(std::string(check));
  if (it == params.end())
    return nullptr;
  auto jt = it->second.find(std::string(name));
  return jt == it->second.end() ? nullptr : &jt->second;
}

bool beyond_guide(const Profile &p, const CheckSpec &check) {
  return !p.guide.empty() && !check.cites_guide(p.guide);
}

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> out;
  for (auto &b : k_builtin_profiles)
    out.emplace_back(b.name);
  return out;
}

Profile default_profile(const Catalogue &cat) {
  Profile p;
  for (auto &c : cat.checks())
    for (auto &ps : c.parameters)
      p.params[c.id][ps.name] = ps.default_value;
  return p;
}

Result<Profile> apply_profile(const Catalogue &cat, Profile base, const std::string &name_or_path) {
  if (base.params.empty())
    base = default_profile(cat);
  if (const Builtin *b = find_builtin(name_or_path))
    return apply_builtin(cat, std::move(base), *b);
  if (name_or_path.find('/') == std::string::npos && name_or_path.find(".y") == std::string::npos) {
    std::string known;
    for (auto &n : builtin_profile_names())
      known += (known.empty() ? "" : ", ") + n;
    return Error{"unknown profile '" + name_or_path + "' (built-in: " + known +
                 "; a file path must contain '/' or end in .yaml)"};
  }
  std::string text = TRY(HostFs::read_file(name_or_path, 1024 * 1024, "cannot read profile"));
  yaml::Node root = TRY(yaml::parse(text, name_or_path));
  std::string parent = "baseline";
  if (root.is_mapping()) {
    if (const yaml::Node *ext = root.find("extends")) {
      if (!ext->is_scalar() || find_builtin(ext->scalar) == nullptr)
        return Error{"'extends' must name a built-in profile (baseline, vpn-production, "
                     "lms-server)",
                     name_or_path, ext->line};
      parent = ext->scalar;
    }
  }
  // A user profile replaces the built-in chain below it only if it names one;
  // layered on an earlier --profile otherwise.
  bool layered = !base.names.empty();
  Profile p = std::move(base);
  if (!layered || (root.is_mapping() && root.find("extends") != nullptr)) {
    p = default_profile(cat);
    p = TRY(apply_builtin(cat, std::move(p), *find_builtin(parent)));
  }
  p = TRY(apply_document(cat, std::move(p), root, name_or_path, true));
  p.names.push_back(name_or_path);
  return p;
}

} // namespace bulwark
