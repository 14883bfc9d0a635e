#include "analysis/dependencies.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace prescient::analysis {
namespace {

bool In(std::initializer_list<std::string_view> set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}
bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

int OrDefault(int port, int def) { return port ? port : def; }

int ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return 0;
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    v = v * 10 + (c - '0');
  }
  return v > 0 && v < 65536 ? v : 0;
}

// Splits "host:port", "[v6]:port" or "host"; port 0 when absent or not a number.
void SplitHostPort(std::string_view hp, std::string* host, int* port) {
  *port = 0;
  if (!hp.empty() && hp[0] == '[') {
    const size_t close = hp.find(']');
    if (close == std::string_view::npos) {
      *host = std::string(hp);
      return;
    }
    *host = std::string(hp.substr(1, close - 1));
    if (close + 1 < hp.size() && hp[close + 1] == ':') *port = ParsePort(hp.substr(close + 2));
    return;
  }
  const size_t colon = hp.rfind(':');
  if (colon != std::string_view::npos && hp.find(':') == colon) {
    *host = std::string(hp.substr(0, colon));
    *port = ParsePort(hp.substr(colon + 1));
  } else {
    *host = std::string(hp);
  }
}

struct Scheme {
  std::string_view scheme, kind;
  int port;
};
const Scheme kSchemes[] = {
    {"http", "http", 80},          {"https", "https", 443},      {"ftp", "ftp", 21},
    {"ftps", "ftp", 990},          {"ws", "http", 80},           {"wss", "https", 443},
    {"postgres", "postgres", 5432}, {"postgresql", "postgres", 5432}, {"mysql", "mysql", 3306},
    {"mariadb", "mysql", 3306},    {"redis", "redis", 6379},     {"rediss", "redis", 6379},
    {"mongodb", "mongodb", 27017}, {"mongodb+srv", "mongodb", 27017}, {"amqp", "amqp", 5672},
    {"amqps", "amqp", 5671},       {"kafka", "kafka", 9092},     {"ssh", "ssh", 22},
    {"sftp", "ssh", 22},           {"rsync", "rsync", 873},      {"git", "git", 9418},
    {"s3", "s3", 443},             {"gs", "gcs", 443},           {"nats", "nats", 4222},
    {"grpc", "grpc", 443},         {"memcached", "memcached", 11211},
};

// Parses "scheme://[user[:pw]@]host[:port][/...]". For s3:// and gs:// the "host" is a bucket and
// the service endpoint is the provider's.
bool ParseUrl(std::string_view text, Dependency* out) {
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0 || sep > 16) return false;
  std::string scheme(text.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  const Scheme* sc = nullptr;
  for (const Scheme& s : kSchemes) {
    if (s.scheme == scheme) sc = &s;
  }
  if (sc == nullptr) return false;
  std::string_view rest = text.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  const size_t comma = authority.find(',');  // mongodb://a:1,b:2 -> the first host
  if (comma != std::string_view::npos) authority = authority.substr(0, comma);
  out->kind = std::string(sc->kind);
  if (sc->kind == "s3") {
    out->host = "s3.amazonaws.com";
    out->port = 443;
    return true;
  }
  if (sc->kind == "gcs") {
    out->host = "storage.googleapis.com";
    out->port = 443;
    return true;
  }
  int port = 0;
  SplitHostPort(authority, &out->host, &port);
  if (out->host.empty()) out->host = "localhost";
  out->port = port ? port : sc->port;
  return true;
}

// Value of an option given as "-h X", "-hX", "--host X" or "--host=X"; empty when absent.
std::string OptionValue(const std::vector<std::string>& argv, std::initializer_list<std::string_view> shorts,
                        std::initializer_list<std::string_view> longs) {
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    for (std::string_view s : shorts) {
      if (a == s && i + 1 < argv.size()) return argv[i + 1];
      if (a.size() > s.size() && StartsWith(a, s) && s.size() == 2) return a.substr(2);
    }
    for (std::string_view l : longs) {
      if (a == l && i + 1 < argv.size()) return argv[i + 1];
      if (a.size() > l.size() + 1 && StartsWith(a, l) && a[l.size()] == '=') return a.substr(l.size() + 1);
    }
  }
  return "";
}

std::string EnvValue(const Stage& s, std::string_view name) {
  for (const auto& kv : s.env) {
    if (kv.first == name) return kv.second;
  }
  return "";
}

// libpq "host=x port=y dbname=z" connection strings.
void ParseConninfo(std::string_view text, std::string* host, int* port) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view kv = text.substr(i, end - i);
    if (StartsWith(kv, "host=")) *host = std::string(kv.substr(5));
    if (StartsWith(kv, "port=")) *port = ParsePort(kv.substr(5));
    i = end;
  }
}

void Add(std::vector<Dependency>* out, std::string kind, std::string host, int port) {
  if (host.empty()) host = "localhost";
  if (host.size() > 253) host = host.substr(0, 253);
  Dependency d{std::move(kind), std::move(host), port, "command"};
  if (std::find(out->begin(), out->end(), d) == out->end()) out->push_back(std::move(d));
}

// "[user@]host:path" (scp/rsync remote spec); false for local paths.
bool RemoteSpecHost(std::string_view arg, std::string* host) {
  if (arg.empty() || arg[0] == '/' || arg[0] == '.' || arg[0] == '-') return false;
  if (arg.find("://") != std::string_view::npos) return false;
  const size_t colon = arg.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const size_t slash = arg.find('/');
  if (slash != std::string_view::npos && slash < colon) return false;
  std::string_view h = arg.substr(0, colon);
  const size_t at = h.rfind('@');
  if (at != std::string_view::npos) h = h.substr(at + 1);
  if (h.empty()) return false;
  *host = std::string(h);
  return true;
}

void StageDependencies(const Stage& s, std::vector<Dependency>* out) {
  if (s.argv.empty()) return;
  std::string program(Basename(s.argv[0]));
  if (program.size() > 3 && program.substr(program.size() - 3) == ".sh") program.resize(program.size() - 3);
  const std::vector<std::string>& a = s.argv;
  bool handled_urls = false;

  if (In({"psql", "pg_dump", "pg_dumpall", "pg_restore", "pgbench", "createdb", "dropdb", "vacuumdb",
          "reindexdb", "clusterdb", "pg_basebackup", "pg_isready"}, program)) {
    std::string host = OptionValue(a, {"-h"}, {"--host"});
    int port = ParsePort(OptionValue(a, {"-p"}, {"--port"}));
    const std::string dbname = OptionValue(a, {"-d"}, {"--dbname"});
    Dependency url;
    if (ParseUrl(dbname, &url)) {
      Add(out, "postgres", url.host, url.port);
      return;
    }
    if (dbname.find('=') != std::string::npos) ParseConninfo(dbname, &host, &port);
    for (size_t i = 1; i < a.size(); ++i) {
      if (ParseUrl(a[i], &url) && url.kind == "postgres") {
        Add(out, "postgres", url.host, url.port);
        return;
      }
    }
    if (host.empty()) host = EnvValue(s, "PGHOST");
    if (!port) port = ParsePort(EnvValue(s, "PGPORT"));
    Add(out, "postgres", host, port ? port : 5432);
    return;
  }
  if (In({"redis-cli", "valkey-cli", "redis-benchmark"}, program)) {
    Dependency url;
    const std::string uri = OptionValue(a, {"-u"}, {"--uri"});
    if (ParseUrl(uri, &url)) {
      Add(out, "redis", url.host, url.port);
      return;
    }
    Add(out, "redis", OptionValue(a, {"-h"}, {"--host"}), OrDefault(ParsePort(OptionValue(a, {"-p"}, {"--port"})), 6379));
    return;
  }
  if (In({"mysql", "mysqldump", "mariadb", "mariadb-dump", "mysqladmin", "mysqlimport", "mysqlpump",
          "mysqlshow", "mysqlcheck"}, program)) {
    Add(out, "mysql", OptionValue(a, {"-h"}, {"--host"}), OrDefault(ParsePort(OptionValue(a, {"-P"}, {"--port"})), 3306));
    return;
  }
  if (In({"mongosh", "mongo", "mongodump", "mongorestore", "mongoexport", "mongoimport", "mongostat",
          "mongotop"}, program)) {
    Dependency url;
    const std::string uri = OptionValue(a, {}, {"--uri"});
    if (ParseUrl(uri, &url)) {
      Add(out, "mongodb", url.host, url.port);
      return;
    }
    for (size_t i = 1; i < a.size(); ++i) {
      if (ParseUrl(a[i], &url) && url.kind == "mongodb") {
        Add(out, "mongodb", url.host, url.port);
        return;
      }
    }
    std::string host;
    int port = 0;
    SplitHostPort(OptionValue(a, {}, {"--host"}), &host, &port);
    const int p2 = ParsePort(OptionValue(a, {}, {"--port"}));
    Add(out, "mongodb", host, p2 ? p2 : port ? port : 27017);
    return;
  }
  if (StartsWith(program, "kafka-") || StartsWith(program, "kafkacat") || program == "kcat") {
    std::string servers = OptionValue(a, {"-b"}, {"--bootstrap-server", "--broker-list", "--bootstrap-servers"});
    size_t start = 0;
    while (!servers.empty() && start <= servers.size()) {
      size_t comma = servers.find(',', start);
      if (comma == std::string::npos) comma = servers.size();
      std::string host;
      int port = 0;
      SplitHostPort(std::string_view(servers).substr(start, comma - start), &host, &port);
      if (!host.empty()) Add(out, "kafka", host, port ? port : 9092);
      start = comma + 1;
    }
    if (servers.empty()) Add(out, "kafka", "localhost", 9092);
    return;
  }
  if (program == "aws" && a.size() > 1) {
    Dependency url;
    const std::string endpoint = OptionValue(a, {}, {"--endpoint-url"});
    size_t i = 1;
    while (i < a.size() && !a[i].empty() && a[i][0] == '-') i += (a[i].find('=') == std::string::npos) ? 2 : 1;
    const std::string service = i < a.size() ? a[i] : "";
    const std::string kind = service == "s3" || service == "s3api" ? "s3" : service;
    if (!kind.empty() && ParseUrl(endpoint, &url)) {
      Add(out, kind, url.host, url.port);
    } else if (!kind.empty()) {
      Add(out, kind, kind == "s3" ? "s3.amazonaws.com" : kind + ".amazonaws.com", 443);
    }
    return;
  }
  if (In({"ssh", "scp", "sftp", "rsync", "mosh"}, program)) {
    if (program == "ssh" || program == "mosh") {
      size_t i = 1;
      while (i < a.size() && a[i].size() > 1 && a[i][0] == '-') {
        const std::string& o = a[i];
        const bool takes = o.size() == 2 && std::string_view("bcDEeFIiJLlmOoPpQRSWw").find(o[1]) != std::string_view::npos;
        i += takes ? 2 : 1;
      }
      if (i < a.size()) {
        std::string h = a[i];
        Dependency url;
        if (ParseUrl(h, &url)) {
          Add(out, "ssh", url.host, url.port);
          return;
        }
        const size_t at = h.rfind('@');
        if (at != std::string::npos) h = h.substr(at + 1);
        const int port = ParsePort(OptionValue(a, {"-p"}, {}));
        Add(out, "ssh", h, port ? port : 22);
      }
      return;
    }
    const int port = ParsePort(OptionValue(a, {program == "scp" || program == "sftp" ? "-P" : "--port"}, {}));
    for (size_t i = 1; i < a.size(); ++i) {
      Dependency url;
      std::string host;
      if (ParseUrl(a[i], &url)) {
        Add(out, url.kind, url.host, url.port);
      } else if (a[i].find("::") != std::string::npos && program == "rsync") {
        std::string h = a[i].substr(0, a[i].find("::"));
        const size_t at = h.rfind('@');
        if (at != std::string::npos) h = h.substr(at + 1);
        Add(out, "rsync", h, 873);
      } else if (RemoteSpecHost(a[i], &host)) {
        Add(out, "ssh", host, port ? port : 22);
      }
    }
    return;
  }
  if (program == "git") {
    for (size_t i = 1; i < a.size(); ++i) {
      Dependency url;
      std::string host;
      if (ParseUrl(a[i], &url)) {
        Add(out, url.kind, url.host, url.port);
      } else if (a[i].find('@') != std::string::npos && RemoteSpecHost(a[i], &host)) {
        Add(out, "ssh", host, 22);  // git@github.com:org/repo.git
      }
    }
    return;
  }
  if (In({"nc", "ncat", "netcat", "telnet"}, program)) {
    std::vector<std::string> pos;
    for (size_t i = 1; i < a.size(); ++i) {
      if (!a[i].empty() && a[i][0] == '-') {
        if (a[i] == "-p" || a[i] == "-s" || a[i] == "-w" || a[i] == "-i" || a[i] == "-x") ++i;
        continue;
      }
      pos.push_back(a[i]);
    }
    if (pos.size() >= 2 && ParsePort(pos[1])) Add(out, "tcp", pos[0], ParsePort(pos[1]));
    return;
  }
  if (!handled_urls) {  // curl, wget, httpie, aria2c, ab, wrk, and URLs given to anything else
    for (size_t i = 1; i < a.size(); ++i) {
      Dependency url;
      const std::string& arg = a[i];
      const size_t eq = arg.find('=');
      if (ParseUrl(arg, &url) ||
          (eq != std::string::npos && ParseUrl(std::string_view(arg).substr(eq + 1), &url))) {
        Add(out, url.kind, url.host, url.port);
      }
    }
  }
}

int WellKnownPortKind(int port, std::string* kind) {
  switch (port) {
    case 5432: *kind = "postgres"; break;
    case 6379: *kind = "redis"; break;
    case 3306: *kind = "mysql"; break;
    case 27017: *kind = "mongodb"; break;
    case 9092: *kind = "kafka"; break;
    case 80: case 8080: case 8000: *kind = "http"; break;
    case 443: case 8443: *kind = "https"; break;
    case 22: *kind = "ssh"; break;
    case 873: *kind = "rsync"; break;
    case 21: *kind = "ftp"; break;
    case 11211: *kind = "memcached"; break;
    case 5672: *kind = "amqp"; break;
    case 2379: *kind = "etcd"; break;
    case 6443: *kind = "kubernetes"; break;
    case 9418: *kind = "git"; break;
    case 53: *kind = "dns"; break;
    default: *kind = "tcp"; break;
  }
  return port;
}

}  // namespace

std::string Dependency::Endpoint() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<Dependency> ExtractDependencies(const ParsedCommand& parsed) {
  std::vector<Dependency> out;
  for (const Stage& s : parsed.stages) {
    if (out.size() >= 32) break;
    StageDependencies(s, &out);
  }
  return out;
}

bool DependencyFromEndpoint(std::string_view endpoint, std::string source, Dependency* out) {
  std::string host;
  int port = 0;
  SplitHostPort(endpoint, &host, &port);
  if (host.empty() || port == 0 || host.size() > 253) return false;
  out->host = std::move(host);
  out->port = WellKnownPortKind(port, &out->kind);
  out->source = std::move(source);
  return true;
}

void MergeDependencies(std::vector<Dependency>* into, const std::vector<Dependency>& extra) {
  for (const Dependency& d : extra) {
    if (std::find(into->begin(), into->end(), d) == into->end()) into->push_back(d);
  }
}

}  // namespace prescient::analysis
