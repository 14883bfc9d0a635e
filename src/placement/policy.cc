#include "placement/policy.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/quantity.h"

namespace prescient::placement {
namespace {

// Reads one mapping, remembering which keys were used so the rest can be reported as unknown.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, std::string source, Status* error)
      : node_(node), path_(std::move(path)), source_(std::move(source)), error_(error) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) Fail(node_, path_.empty() ? "the policy" : path_, "must be a mapping");
  }

  YAML::Node Get(const char* key) {
    known_ += (known_.empty() ? "" : ", ") + std::string(key);
    known_keys_.insert(key);
    if (!error_->ok() || !node_ || !node_.IsMap()) return YAML::Node();
    return node_[key];
  }

  void Number(const char* key, double lo, double hi, bool lo_open, double* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull() || !error_->ok()) return;
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) return Fail(n, Path(key), "must be a number");
    if ((lo_open ? v <= lo : v < lo) || v > hi) {
      std::ostringstream m;
      m << "must be in " << (lo_open ? "(" : "[") << lo << ", " << hi << "], got " << n.Scalar();
      return Fail(n, Path(key), m.str());
    }
    *out = v;
  }

  void Integer(const char* key, int64_t lo, int64_t hi, int64_t* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull() || !error_->ok()) return;
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) return Fail(n, Path(key), "must be an integer");
    if (v < lo || v > hi)
      return Fail(n, Path(key), "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + n.Scalar());
    *out = v;
  }

  void Quantity(const char* key, bool cpu, int64_t* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull() || !error_->ok()) return;
    if (!n.IsScalar()) return Fail(n, Path(key), "must be a quantity such as \"500m\" or \"256Mi\"");
    auto v = cpu ? ParseCpuMilli(n.Scalar()) : ParseBytes(n.Scalar());
    if (!v.ok()) return Fail(n, Path(key), v.status().message());
    if (*v < 0) return Fail(n, Path(key), "must not be negative");
    *out = *v;
  }

  void Bool(const char* key, bool* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull() || !error_->ok()) return;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Fail(n, Path(key), "must be true or false");
    *out = v;
  }

  void String(const char* key, std::string* out) {
    YAML::Node n = Get(key);
    if (!n || n.IsNull() || !error_->ok()) return;
    if (!n.IsScalar() || n.Scalar().empty()) return Fail(n, Path(key), "must be a non-empty string");
    *out = n.Scalar();
  }

  // Call after reading every key.
  void RejectUnknown() {
    if (!error_->ok() || !node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      const std::string k = kv.first.as<std::string>();
      if (!known_keys_.count(k))
        return Fail(kv.first, Path(k.c_str()), "unknown key (known: " + known_ + ")");
    }
  }

  void Fail(const YAML::Node& n, const std::string& path, const std::string& message) {
    if (!error_->ok()) return;
    std::string where = source_;
    if (n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1) + ":" + std::to_string(n.Mark().column + 1);
    *error_ = InvalidArgument(where + ": " + path + ": " + message);
  }

  std::string Path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  YAML::Node node_;
  std::string path_;
  std::string source_;
  std::string known_;
  std::set<std::string> known_keys_;
  Status* error_;
};

}  // namespace

const char* ScalingModeName(ScalingMode m) {
  switch (m) {
    case ScalingMode::kProvisioningRequest: return "ProvisioningRequest";
    case ScalingMode::kBalloon: return "Balloon";
    case ScalingMode::kNone: return "None";
  }
  return "None";
}

Result<Policy> ParsePolicy(std::string_view text, std::string_view source_view) {
  const std::string source(source_view);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                           ": not valid YAML or JSON: " + e.msg);
  }
  Policy p;
  Status err;
  if (!root || root.IsNull()) return p;  // an empty file: all defaults
  Section top(root, "", source, &err);
  {
    Section q(top.Get("quantiles"), "quantiles", source, &err);
    q.Number("memory", 0, 1, true, &p.memory_quantile);
    q.Number("cpu", 0, 1, true, &p.cpu_quantile);
    q.RejectUnknown();
  }
  {
    Section g(top.Get("growth"), "growth", source, &err);
    g.Number("memoryThreshold", 0, 1, true, &p.memory_growth_threshold);
    g.Number("memoryStep", 0, 10, true, &p.memory_growth_step);
    g.Quantity("memoryMinStep", false, &p.memory_growth_min_step_bytes);
    g.Number("cpuThrottleThreshold", 0, 1, true, &p.cpu_throttle_threshold);
    g.Integer("cpuThrottleSustainSeconds", 0, 86400, &p.cpu_throttle_sustain_seconds);
    g.Number("cpuStep", 0, 10, true, &p.cpu_growth_step);
    g.Quantity("cpuMinStep", true, &p.cpu_growth_min_step_milli);
    g.RejectUnknown();
  }
  {
    Section s(top.Get("scaling"), "scaling", source, &err);
    std::string mode;
    s.String("mode", &mode);
    if (!mode.empty()) {
      std::string lower;
      for (char c : mode) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "provisioningrequest") p.scaling_mode = ScalingMode::kProvisioningRequest;
      else if (lower == "balloon") p.scaling_mode = ScalingMode::kBalloon;
      else if (lower == "none") p.scaling_mode = ScalingMode::kNone;
      else if (err.ok())
        err = InvalidArgument(source + ": scaling.mode: \"" + mode + "\" is not one of ProvisioningRequest, Balloon, None");
    }
    s.String("provisioningClassName", &p.provisioning_class);
    s.RejectUnknown();
  }
  top.Number("headroom", 0, 10, false, &p.headroom);
  {
    Section r(top.Get("guestReserved"), "guestReserved", source, &err);
    r.Quantity("cpu", true, &p.guest_reserved.cpu_milli);
    r.Quantity("memory", false, &p.guest_reserved.memory_bytes);
    r.RejectUnknown();
  }
  {
    YAML::Node ln = top.Get("largestNode");
    if (ln && !ln.IsNull()) {
      Section l(ln, "largestNode", source, &err);
      Resources r{-1, -1};
      l.Quantity("cpu", true, &r.cpu_milli);
      l.Quantity("memory", false, &r.memory_bytes);
      l.RejectUnknown();
      if (err.ok() && (r.cpu_milli <= 0 || r.memory_bytes <= 0))
        err = InvalidArgument(source + ": largestNode: needs both cpu and memory, above zero");
      p.largest_node = r;
    }
  }
  top.Bool("hotplug", &p.hotplug_enabled);
  top.Bool("preemption", &p.preemption_enabled);
  top.RejectUnknown();
  if (!err.ok()) return err;
  return p;
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read policy file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParsePolicy(ss.str(), path);
}

}  // namespace prescient::placement
