#include "kube/config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace prescient::kube {
namespace {

namespace fs = std::filesystem;

bool ReadFile(const std::string& path, std::string* out, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *err = std::string(std::strerror(errno));
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return s.substr(i);
}

bool DecodeBase64(const std::string& in, std::string* out) {
  static const std::string kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->clear();
  int val = 0, bits = -8;
  size_t n = 0;
  for (char c : in) {
    if (c == '\n' || c == '\r' || c == ' ') continue;
    if (c == '=') break;
    auto pos = kChars.find(c);
    if (pos == std::string::npos) return false;
    ++n;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out->push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return n > 0;
}

// One named entry (cluster, user or context) with the file it came from.
struct Entry {
  YAML::Node node;
  std::string file;
  std::string base_dir;
};

struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::vector<std::string> files;  // files that contributed, for messages
};

Status Malformed(const std::string& origin, const std::string& what) {
  return InvalidArgument("malformed kubeconfig " + origin + ": " + what);
}

// Reads one field as a string; a non-scalar is an error naming the field.
Status GetString(const YAML::Node& parent, const char* key, const std::string& origin, const std::string& where,
                 std::string* out) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return Status::Ok();
  if (!n.IsScalar()) return Malformed(origin, where + "." + key + " must be a string");
  *out = n.Scalar();
  return Status::Ok();
}

Status GetBool(const YAML::Node& parent, const char* key, const std::string& origin, const std::string& where,
               bool* out) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return Status::Ok();
  if (!n.IsScalar()) return Malformed(origin, where + "." + key + " must be true or false");
  const std::string& v = n.Scalar();
  if (v == "true" || v == "True" || v == "TRUE") {
    *out = true;
  } else if (v == "false" || v == "False" || v == "FALSE") {
    *out = false;
  } else {
    return Malformed(origin, where + "." + key + " must be true or false, not \"" + v + "\"");
  }
  return Status::Ok();
}

// Adds one parsed document to the merge: first definition of each name wins.
Status MergeDocument(const YAML::Node& root, const std::string& origin, const std::string& base_dir, Merged* m) {
  if (!root || root.IsNull()) return Status::Ok();  // an empty file contributes nothing
  if (!root.IsMap()) return Malformed(origin, "the top level must be a mapping (apiVersion, clusters, users, contexts)");
  if (YAML::Node kind = root["kind"]; kind && kind.IsScalar() && !kind.Scalar().empty() && kind.Scalar() != "Config") {
    return Malformed(origin, "kind is \"" + kind.Scalar() + "\", expected Config");
  }
  struct Section {
    const char* list;
    const char* item;
    std::map<std::string, Entry>* into;
  } sections[] = {{"clusters", "cluster", &m->clusters}, {"users", "user", &m->users}, {"contexts", "context", &m->contexts}};
  for (const auto& s : sections) {
    YAML::Node list = root[s.list];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) return Malformed(origin, std::string(s.list) + " must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string where = std::string(s.list) + "[" + std::to_string(i) + "]";
      YAML::Node e = list[i];
      if (!e.IsMap()) return Malformed(origin, where + " must be a mapping with name and " + s.item);
      std::string name;
      if (Status st = GetString(e, "name", origin, where, &name); !st.ok()) return st;
      if (name.empty()) return Malformed(origin, where + " has no name");
      YAML::Node body = e[s.item];
      if (body && !body.IsNull() && !body.IsMap()) {
        return Malformed(origin, where + " (\"" + name + "\")." + s.item + " must be a mapping");
      }
      if (!s.into->count(name)) (*s.into)[name] = Entry{body, origin, base_dir};
    }
  }
  std::string current;
  if (Status st = GetString(root, "current-context", origin, "", &current); !st.ok()) return st;
  if (m->current_context.empty()) m->current_context = current;
  m->files.push_back(origin);
  return Status::Ok();
}

Status ParseDocument(const std::string& text, const std::string& origin, YAML::Node* out) {
  try {
    *out = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Malformed(origin, "line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) +
                                 ": " + e.msg);
  }
  return Status::Ok();
}

std::string ResolvePath(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).string();
}

// Reads `<key>-data` (base64) or `<key>` (a file) into *pem.
Status ReadDataOrFile(const Entry& e, const std::string& what, const char* file_key, const char* data_key,
                      std::string* pem) {
  std::string data, file;
  if (Status st = GetString(e.node, data_key, e.file, what, &data); !st.ok()) return st;
  if (Status st = GetString(e.node, file_key, e.file, what, &file); !st.ok()) return st;
  if (!data.empty()) {
    if (!DecodeBase64(data, pem)) return Malformed(e.file, what + "." + data_key + " is not valid base64");
    return Status::Ok();
  }
  if (!file.empty()) {
    std::string path = ResolvePath(file, e.base_dir), err;
    if (!ReadFile(path, pem, &err)) {
      return InvalidArgument("kubeconfig " + e.file + ": " + what + "." + file_key + " " + path + ": " + err);
    }
  }
  return Status::Ok();
}

Result<Config> Resolve(const Merged& m, const std::string& context_override) {
  std::string files;
  for (size_t i = 0; i < m.files.size(); ++i) files += (i ? ", " : "") + m.files[i];
  std::string ctx_name = context_override.empty() ? m.current_context : context_override;
  if (ctx_name.empty()) {
    return InvalidArgument("kubeconfig " + files + ": no current-context is set and no --context was given");
  }
  auto ctx_it = m.contexts.find(ctx_name);
  if (ctx_it == m.contexts.end()) {
    return InvalidArgument("kubeconfig " + files + ": context \"" + ctx_name + "\" not found");
  }
  const Entry& ctx = ctx_it->second;
  std::string where = "context \"" + ctx_name + "\"";
  Config c;
  c.context_name = ctx_name;
  std::string ns;
  if (ctx.node) {
    if (Status st = GetString(ctx.node, "cluster", ctx.file, where, &c.cluster_name); !st.ok()) return st;
    if (Status st = GetString(ctx.node, "user", ctx.file, where, &c.user_name); !st.ok()) return st;
    if (Status st = GetString(ctx.node, "namespace", ctx.file, where, &ns); !st.ok()) return st;
  }
  if (!ns.empty()) c.default_namespace = ns;
  if (c.cluster_name.empty()) return Malformed(ctx.file, where + " names no cluster");
  auto cl_it = m.clusters.find(c.cluster_name);
  if (cl_it == m.clusters.end()) {
    return InvalidArgument("kubeconfig " + files + ": cluster \"" + c.cluster_name + "\" (used by " + where +
                           ") not found");
  }
  const Entry& cl = cl_it->second;
  std::string cwhere = "cluster \"" + c.cluster_name + "\"";
  if (!cl.node) return Malformed(cl.file, cwhere + " has no server");
  if (Status st = GetString(cl.node, "server", cl.file, cwhere, &c.server); !st.ok()) return st;
  if (c.server.empty()) return Malformed(cl.file, cwhere + " has no server");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0) {
    return Malformed(cl.file, cwhere + ".server \"" + c.server + "\" must start with https:// or http://");
  }
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (Status st = GetBool(cl.node, "insecure-skip-tls-verify", cl.file, cwhere, &c.insecure_skip_tls_verify); !st.ok()) {
    return st;
  }
  if (Status st = GetString(cl.node, "tls-server-name", cl.file, cwhere, &c.tls_server_name); !st.ok()) return st;
  if (Status st = ReadDataOrFile(cl, cwhere, "certificate-authority", "certificate-authority-data", &c.ca_pem); !st.ok()) {
    return st;
  }
  if (c.insecure_skip_tls_verify && !c.ca_pem.empty()) {
    // kubectl refuses this combination too: it would silently disable the verification the CA asks for.
    return Malformed(cl.file, cwhere + " sets both insecure-skip-tls-verify and a certificate authority");
  }
  if (!c.user_name.empty()) {
    auto u_it = m.users.find(c.user_name);
    if (u_it == m.users.end()) {
      return InvalidArgument("kubeconfig " + files + ": user \"" + c.user_name + "\" (used by " + where + ") not found");
    }
    const Entry& u = u_it->second;
    std::string uwhere = "user \"" + c.user_name + "\"";
    if (u.node) {
      if (Status st = GetString(u.node, "token", u.file, uwhere, &c.token); !st.ok()) return st;
      std::string token_file;
      if (Status st = GetString(u.node, "tokenFile", u.file, uwhere, &token_file); !st.ok()) return st;
      if (!token_file.empty()) c.token_file = ResolvePath(token_file, u.base_dir);
      if (Status st = ReadDataOrFile(u, uwhere, "client-certificate", "client-certificate-data", &c.client_cert_pem);
          !st.ok()) {
        return st;
      }
      if (Status st = ReadDataOrFile(u, uwhere, "client-key", "client-key-data", &c.client_key_pem); !st.ok()) return st;
      if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
        return Malformed(u.file, uwhere + " has a client certificate without a key or a key without a certificate");
      }
      if (u.node["exec"] || u.node["auth-provider"]) {
        return InvalidArgument("kubeconfig " + u.file + ": " + uwhere +
                               " uses exec/auth-provider credentials, which Prescient does not support; use a token, "
                               "tokenFile or client certificate");
      }
    }
  }
  c.source = "kubeconfig " + files + " (context \"" + ctx_name + "\")";
  return c;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<Config> ParseKubeconfig(const std::string& yaml_text, const std::string& origin, const std::string& base_dir,
                               const std::string& context) {
  Merged m;
  YAML::Node root;
  if (Status st = ParseDocument(yaml_text, origin, &root); !st.ok()) return st;
  if (Status st = MergeDocument(root, origin, base_dir, &m); !st.ok()) return st;
  return Resolve(m, context);
}

Result<Config> LoadKubeconfig(const std::vector<std::string>& files, const std::string& context, bool must_exist) {
  Merged m;
  for (const auto& f : files) {
    if (f.empty()) continue;
    std::string text, err;
    if (!ReadFile(f, &text, &err)) {
      if (must_exist || errno != ENOENT) return InvalidArgument("kubeconfig " + f + ": " + err);
      continue;
    }
    YAML::Node root;
    if (Status st = ParseDocument(text, f, &root); !st.ok()) return st;
    std::string base = fs::path(f).parent_path().string();
    if (Status st = MergeDocument(root, f, base, &m); !st.ok()) return st;
  }
  if (m.files.empty()) {
    std::string list;
    for (size_t i = 0; i < files.size(); ++i) list += (i ? ", " : "") + files[i];
    return InvalidArgument("no kubeconfig found (looked at " + list + ")");
  }
  return Resolve(m, context);
}

Result<Config> LoadInCluster(const InClusterOptions& options) {
  EnvLookup env = options.env ? options.env : ProcessEnv();
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return InvalidArgument(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (and no kubeconfig "
        "was found)");
  }
  Config c;
  std::string h = *host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + *port;
  const std::string dir = options.service_account_dir;
  c.token_file = dir + "/token";
  std::string err, ns;
  if (!ReadFile(dir + "/ca.crt", &c.ca_pem, &err)) {
    return InvalidArgument("in-cluster config: service-account CA " + dir + "/ca.crt: " + err);
  }
  TokenSource probe("", c.token_file);
  if (auto t = probe.Token(); !t.ok()) return InvalidArgument("in-cluster config: " + t.status().message());
  if (ReadFile(dir + "/namespace", &ns, &err) && !Trim(ns).empty()) c.default_namespace = Trim(ns);
  c.source = "in-cluster service account (" + dir + ")";
  return c;
}

Result<Config> LoadConfig(const LoadOptions& options) {
  EnvLookup env = options.env ? options.env : ProcessEnv();
  if (!options.kubeconfig.empty()) return LoadKubeconfig({options.kubeconfig}, options.context, true);
  if (auto kc = env("KUBECONFIG"); kc && !kc->empty()) {
    std::vector<std::string> files;
    std::stringstream ss(*kc);
    std::string item;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) files.push_back(item);
    }
    return LoadKubeconfig(files, options.context);
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    std::string path = *home + "/.kube/config";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return LoadKubeconfig({path}, options.context, true);
  }
  InClusterOptions ic = options.in_cluster;
  if (!ic.env) ic.env = env;
  auto r = LoadInCluster(ic);
  if (!r.ok() && !options.context.empty()) {
    return InvalidArgument("--context " + options.context + " given but no kubeconfig was found");
  }
  return r;
}

Result<std::string> TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_.empty()) return token_;
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) {
    if (!cached_.empty()) return cached_;  // keep the last good token while the file is being swapped
    return Status(Code::kUnauthorized, "bearer token file " + file_ + ": " + std::strerror(errno));
  }
  if (cached_.empty() || st.st_mtim.tv_sec != mtime_.tv_sec || st.st_mtim.tv_nsec != mtime_.tv_nsec ||
      st.st_size != size_) {
    std::string text, err;
    if (!ReadFile(file_, &text, &err)) {
      if (!cached_.empty()) return cached_;
      return Status(Code::kUnauthorized, "bearer token file " + file_ + ": " + err);
    }
    text = Trim(text);
    if (text.empty()) {
      if (!cached_.empty()) return cached_;
      return Status(Code::kUnauthorized, "bearer token file " + file_ + " is empty");
    }
    cached_ = text;
    mtime_ = st.st_mtim;
    size_ = st.st_size;
  }
  return cached_;
}

}  // namespace prescient::kube
