#include "sim/table.h"

#include <cctype>

namespace prescient::sim {
namespace {

Json Col(const std::string& name, const std::string& type, const std::string& format, const std::string& desc,
         int priority = 0) {
  return {{"name", name}, {"type", type}, {"format", format}, {"description", desc}, {"priority", priority}};
}

std::string Str(const Json& obj, std::string_view path) {
  auto v = EvalJsonPath(obj, path);
  if (v.empty() || v[0]->is_null()) return "";
  return v[0]->is_string() ? v[0]->get<std::string>() : v[0]->dump();
}

std::string Age(const Json& obj, Clock::TimePoint now) {
  std::string ts = Str(obj, ".metadata.creationTimestamp");
  Clock::TimePoint t;
  if (ts.empty() || !ParseRfc3339(ts, &t)) return "<unknown>";
  return HumanDuration(now - t);
}

}  // namespace

std::string HumanDuration(Clock::Duration d) {
  long long s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  long long m = s / 60;
  if (m < 10) return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  if (m < 180) return std::to_string(m) + "m";
  long long h = m / 60;
  if (h < 8) return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  if (h < 48) return std::to_string(h) + "h";
  long long days = h / 24;
  if (days < 8) return std::to_string(days) + "d" + (h % 24 ? std::to_string(h % 24) + "h" : "");
  if (days < 365 * 2) return std::to_string(days) + "d";
  return std::to_string(days / 365) + "y";
}

std::vector<const Json*> EvalJsonPath(const Json& obj, std::string_view path) {
  std::vector<const Json*> cur = {&obj};
  // Accept "{.a.b}" and ".a.b" and "a.b".
  if (!path.empty() && path.front() == '{' && path.back() == '}') path = path.substr(1, path.size() - 2);
  size_t i = 0;
  if (!path.empty() && path[0] == '$') ++i;
  while (i < path.size()) {
    std::vector<const Json*> next;
    if (path[i] == '.') {
      ++i;
      if (i < path.size() && path[i] == '.') return {};  // recursive descent: not supported
      size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') ++i;
      std::string key(path.substr(start, i - start));
      if (key.empty()) continue;
      if (key == "*") {
        for (const Json* n : cur) {
          if (n->is_object() || n->is_array()) {
            for (const auto& e : *n) next.push_back(&e);
          }
        }
      } else {
        for (const Json* n : cur) {
          if (!n->is_object()) continue;
          auto it = n->find(key);
          if (it != n->end()) next.push_back(&*it);
        }
      }
    } else if (path[i] == '[') {
      size_t close = std::string_view::npos;
      // Find the matching ']' outside quotes.
      bool q1 = false, q2 = false;
      for (size_t k = i + 1; k < path.size(); ++k) {
        char c = path[k];
        if (c == '\'' && !q2) q1 = !q1;
        else if (c == '"' && !q1) q2 = !q2;
        else if (c == ']' && !q1 && !q2) {
          close = k;
          break;
        }
      }
      if (close == std::string_view::npos) return {};
      std::string inner(path.substr(i + 1, close - i - 1));
      i = close + 1;
      if (inner == "*") {
        for (const Json* n : cur) {
          if (n->is_array() || n->is_object()) {
            for (const auto& e : *n) next.push_back(&e);
          }
        }
      } else if (!inner.empty() && (inner[0] == '\'' || inner[0] == '"')) {
        std::string key = inner.substr(1, inner.size() >= 2 ? inner.size() - 2 : 0);
        for (const Json* n : cur) {
          if (n->is_object() && n->contains(key)) next.push_back(&(*n)[key]);
        }
      } else if (inner.rfind("?(", 0) == 0 && inner.back() == ')') {
        std::string expr = inner.substr(2, inner.size() - 3);
        bool neq = false;
        size_t op = expr.find("==");
        if (op == std::string::npos) {
          op = expr.find("!=");
          neq = op != std::string::npos;
        }
        if (op == std::string::npos) {
          // Existence filter: [?(@.x)]
          std::string lhs = expr;
          if (lhs.rfind("@", 0) != 0) return {};
          for (const Json* n : cur) {
            if (!n->is_array()) continue;
            for (const auto& e : *n) {
              if (!EvalJsonPath(e, lhs.substr(1)).empty()) next.push_back(&e);
            }
          }
        } else {
          std::string lhs = expr.substr(0, op), rhs = expr.substr(op + 2);
          auto trim = [](std::string s) {
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
            return s;
          };
          lhs = trim(lhs);
          rhs = trim(rhs);
          if (lhs.rfind("@", 0) != 0) return {};
          Json want;
          if (rhs.size() >= 2 && (rhs[0] == '\'' || rhs[0] == '"')) {
            want = rhs.substr(1, rhs.size() - 2);
          } else {
            want = Json::parse(rhs, nullptr, false);
            if (want.is_discarded()) return {};
          }
          for (const Json* n : cur) {
            if (!n->is_array()) continue;
            for (const auto& e : *n) {
              auto got = EvalJsonPath(e, lhs.substr(1));
              bool eq = !got.empty() && *got[0] == want;
              if (eq != neq) next.push_back(&e);
            }
          }
        }
      } else {
        char* end = nullptr;
        long idx = std::strtol(inner.c_str(), &end, 10);
        if (end == inner.c_str() || *end != '\0') return {};
        for (const Json* n : cur) {
          if (!n->is_array()) continue;
          long k = idx < 0 ? static_cast<long>(n->size()) + idx : idx;
          if (k >= 0 && k < static_cast<long>(n->size())) next.push_back(&(*n)[k]);
        }
      }
    } else {
      // A bare leading name ("spec.replicas").
      size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') ++i;
      std::string key(path.substr(start, i - start));
      for (const Json* n : cur) {
        if (n->is_object() && n->contains(key)) next.push_back(&(*n)[key]);
      }
    }
    cur = std::move(next);
    if (cur.empty()) return {};
  }
  return cur;
}

Json TableColumnDefinitions(const ResourceInfo& info) {
  const std::string name_desc =
      "Name must be unique within a namespace. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
  const std::string age_desc =
      "CreationTimestamp is a timestamp representing the server time when this object was created.";
  Json cols = Json::array({Col("Name", "string", "name", name_desc)});
  if (!info.builtin) {
    if (info.printer_columns.is_array() && !info.printer_columns.empty()) {
      for (const auto& c : info.printer_columns) {
        std::string fmt = c.value("format", "");
        cols.push_back(Col(c.value("name", ""), c.value("type", "string"), fmt, c.value("description", ""),
                           c.value("priority", 0)));
      }
    } else {
      cols.push_back(Col("Age", "date", "", age_desc));
    }
    return cols;
  }
  const std::string& p = info.plural;
  if (info.group.empty() && p == "pods") {
    cols.push_back(Col("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic."));
    cols.push_back(Col("Status", "string", "", "The aggregate status of the containers in this pod."));
    cols.push_back(Col("Restarts", "string", "", "The number of times the containers in this pod have been restarted."));
    cols.push_back(Col("Age", "string", "", age_desc));
    cols.push_back(Col("IP", "string", "", "IP address allocated to the pod.", 1));
    cols.push_back(Col("Node", "string", "", "Name of the Node this pod is scheduled on.", 1));
    cols.push_back(Col("Nominated Node", "string", "", "Name of the node nominated by the scheduler.", 1));
  } else if (info.group.empty() && p == "nodes") {
    cols.push_back(Col("Status", "string", "", "The status of the node"));
    cols.push_back(Col("Roles", "string", "", "The roles of the node"));
    cols.push_back(Col("Age", "string", "", age_desc));
    cols.push_back(Col("Version", "string", "", "Kubelet Version reported by the node."));
  } else if (info.group.empty() && p == "namespaces") {
    cols.push_back(Col("Status", "string", "", "The status of the namespace"));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else if (p == "customresourcedefinitions") {
    cols.push_back(Col("Created At", "date", "", age_desc));
  } else if (p == "deployments") {
    cols.push_back(Col("Ready", "string", "", "Number of the pod with ready state"));
    cols.push_back(Col("Up-to-date", "string", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."));
    cols.push_back(Col("Available", "string", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else if (info.group.empty() && p == "configmaps") {
    cols.push_back(Col("Data", "string", "", "Data contains the configuration data."));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else if (info.group.empty() && p == "secrets") {
    cols.push_back(Col("Type", "string", "", "The type of the secret"));
    cols.push_back(Col("Data", "string", "", "The number of entries in the secret"));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else if (p == "events" && info.group.empty()) {
    cols = Json::array({Col("Last Seen", "string", "", "Time since the last occurrence"),
                        Col("Type", "string", "", "Type of this event (Normal, Warning)"),
                        Col("Reason", "string", "", "Why the action was taken."),
                        Col("Object", "string", "", "The object this Event is about."),
                        Col("Message", "string", "", "A human-readable description of the status of this operation.")});
  } else if (info.group.empty() && p == "services") {
    cols.push_back(Col("Type", "string", "", "The type of the service"));
    cols.push_back(Col("Cluster-IP", "string", "", "The cluster IP of the service"));
    cols.push_back(Col("External-IP", "string", "", "The external IP of the service"));
    cols.push_back(Col("Port(s)", "string", "", "The ports of the service"));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else if (p == "priorityclasses") {
    cols.push_back(Col("Value", "integer", "", "The priority value"));
    cols.push_back(Col("Global-Default", "boolean", "", "Whether this is the global default"));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else if (p == "leases") {
    cols.push_back(Col("Holder", "string", "", "The holder of the lease"));
    cols.push_back(Col("Age", "string", "", age_desc));
  } else {
    cols.push_back(Col("Age", "string", "", age_desc));
  }
  return cols;
}

Json TableRow(const ResourceInfo& info, const Json& obj, Clock::TimePoint now, TableObject include) {
  Json cells = Json::array({Str(obj, ".metadata.name")});
  const std::string& p = info.plural;
  if (!info.builtin) {
    if (info.printer_columns.is_array() && !info.printer_columns.empty()) {
      for (const auto& c : info.printer_columns) {
        auto vals = EvalJsonPath(obj, c.value("jsonPath", ""));
        if (vals.empty() || vals[0]->is_null()) {
          cells.push_back(nullptr);
          continue;
        }
        const Json& v = *vals[0];
        std::string type = c.value("type", "string");
        if (type == "date" && v.is_string()) {
          Clock::TimePoint t;
          cells.push_back(ParseRfc3339(v.get<std::string>(), &t) ? Json(HumanDuration(now - t)) : Json(v));
        } else if (type == "integer" || type == "number" || type == "boolean") {
          cells.push_back(v);
        } else {
          cells.push_back(v.is_string() ? v : Json(v.dump()));
        }
      }
    } else {
      cells.push_back(Age(obj, now));
    }
  } else if (info.group.empty() && p == "pods") {
    int total = 0, ready = 0, restarts = 0;
    if (obj.contains("spec") && obj["spec"].contains("containers") && obj["spec"]["containers"].is_array()) {
      total = static_cast<int>(obj["spec"]["containers"].size());
    }
    if (obj.contains("status") && obj["status"].contains("containerStatuses")) {
      for (const auto& cs : obj["status"]["containerStatuses"]) {
        if (cs.value("ready", false)) ++ready;
        restarts += cs.value("restartCount", 0);
      }
    }
    std::string status = Str(obj, ".status.reason");
    if (status.empty()) status = Str(obj, ".status.phase");
    if (obj["metadata"].contains("deletionTimestamp")) status = "Terminating";
    cells.push_back(std::to_string(ready) + "/" + std::to_string(total));
    cells.push_back(status);
    cells.push_back(restarts);
    cells.push_back(Age(obj, now));
    std::string ip = Str(obj, ".status.podIP"), node = Str(obj, ".spec.nodeName"),
                nominated = Str(obj, ".status.nominatedNodeName");
    cells.push_back(ip.empty() ? "<none>" : ip);
    cells.push_back(node.empty() ? "<none>" : node);
    cells.push_back(nominated.empty() ? "<none>" : nominated);
  } else if (info.group.empty() && p == "nodes") {
    auto ready = EvalJsonPath(obj, ".status.conditions[?(@.type=='Ready')].status");
    std::string status = !ready.empty() && *ready[0] == "True" ? "Ready" : (ready.empty() ? "Unknown" : "NotReady");
    if (obj.contains("spec") && obj["spec"].value("unschedulable", false)) status += ",SchedulingDisabled";
    std::string roles;
    if (obj["metadata"].contains("labels")) {
      for (auto it = obj["metadata"]["labels"].begin(); it != obj["metadata"]["labels"].end(); ++it) {
        const std::string prefix = "node-role.kubernetes.io/";
        if (it.key().rfind(prefix, 0) == 0) roles += (roles.empty() ? "" : ",") + it.key().substr(prefix.size());
      }
    }
    cells.push_back(status);
    cells.push_back(roles.empty() ? "<none>" : roles);
    cells.push_back(Age(obj, now));
    cells.push_back(Str(obj, ".status.nodeInfo.kubeletVersion"));
  } else if (info.group.empty() && p == "namespaces") {
    cells.push_back(Str(obj, ".status.phase"));
    cells.push_back(Age(obj, now));
  } else if (p == "customresourcedefinitions") {
    cells.push_back(Str(obj, ".metadata.creationTimestamp"));
  } else if (p == "deployments") {
    auto num = [&](std::string_view path) {
      auto v = EvalJsonPath(obj, path);
      return !v.empty() && v[0]->is_number() ? v[0]->get<int64_t>() : 0;
    };
    cells.push_back(std::to_string(num(".status.readyReplicas")) + "/" + std::to_string(num(".spec.replicas")));
    cells.push_back(num(".status.updatedReplicas"));
    cells.push_back(num(".status.availableReplicas"));
    cells.push_back(Age(obj, now));
  } else if (info.group.empty() && p == "configmaps") {
    size_t n = (obj.contains("data") && obj["data"].is_object() ? obj["data"].size() : 0) +
               (obj.contains("binaryData") && obj["binaryData"].is_object() ? obj["binaryData"].size() : 0);
    cells.push_back(n);
    cells.push_back(Age(obj, now));
  } else if (info.group.empty() && p == "secrets") {
    cells.push_back(obj.value("type", "Opaque"));
    cells.push_back(obj.contains("data") && obj["data"].is_object() ? obj["data"].size() : 0);
    cells.push_back(Age(obj, now));
  } else if (p == "events" && info.group.empty()) {
    std::string last = Str(obj, ".lastTimestamp");
    if (last.empty()) last = Str(obj, ".eventTime");
    if (last.empty()) last = Str(obj, ".metadata.creationTimestamp");
    Clock::TimePoint t;
    cells = Json::array({last.empty() || !ParseRfc3339(last, &t) ? "<unknown>" : HumanDuration(now - t),
                         Str(obj, ".type"), Str(obj, ".reason"),
                         [&] {
                           std::string kind = Str(obj, ".involvedObject.kind");
                           for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                           return kind + "/" + Str(obj, ".involvedObject.name");
                         }(),
                         Str(obj, ".message")});
  } else if (info.group.empty() && p == "services") {
    std::string type = Str(obj, ".spec.type");
    std::string ports;
    if (auto v = EvalJsonPath(obj, ".spec.ports"); !v.empty() && v[0]->is_array()) {
      for (const auto& port : *v[0]) {
        ports += (ports.empty() ? "" : ",") + (port.contains("port") ? port["port"].dump() : "") + "/" +
                 port.value("protocol", "TCP");
      }
    }
    std::string cip = Str(obj, ".spec.clusterIP");
    cells.push_back(type.empty() ? "ClusterIP" : type);
    cells.push_back(cip.empty() ? "<none>" : cip);
    cells.push_back("<none>");
    cells.push_back(ports.empty() ? "<none>" : ports);
    cells.push_back(Age(obj, now));
  } else if (p == "priorityclasses") {
    cells.push_back(obj.value("value", 0));
    cells.push_back(obj.value("globalDefault", false));
    cells.push_back(Age(obj, now));
  } else if (p == "leases") {
    cells.push_back(Str(obj, ".spec.holderIdentity"));
    cells.push_back(Age(obj, now));
  } else {
    cells.push_back(Age(obj, now));
  }
  Json row = {{"cells", cells}};
  if (include == TableObject::kObject) {
    row["object"] = obj;
  } else if (include == TableObject::kMetadata) {
    Json md = obj.value("metadata", Json::object());
    md.erase("managedFields");
    row["object"] = {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", md}};
  }
  return row;
}

Json MakeTable(const ResourceInfo& info, const std::vector<Json>& items, const std::string& resource_version,
               const std::string& continue_token, Clock::TimePoint now, TableObject include, bool with_columns) {
  Json t = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", {{"resourceVersion", resource_version}}}};
  if (!continue_token.empty()) t["metadata"]["continue"] = continue_token;
  t["columnDefinitions"] = with_columns ? TableColumnDefinitions(info) : Json::array();
  Json rows = Json::array();
  for (const auto& obj : items) rows.push_back(TableRow(info, obj, now, include));
  t["rows"] = rows;
  return t;
}

}  // namespace prescient::sim
