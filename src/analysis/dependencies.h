// The services a command depends on, as labels (kind + host:port): read from its tokens
// (psql/pg_dump/pg_restore -h/-p/URIs -> postgres:5432, redis-cli -> redis:6379, mysql/mysqldump,
// mongosh/mongodump, kafka-* --bootstrap-server, curl/wget/any URL -> http(s), aws s3 / s3:// ->
// s3, ssh/scp/rsync/sftp hosts -> ssh:22, git clone URLs, nc host port) and from the endpoints past
// runs of the same command connected to (history). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/shell_parser.h"

namespace prescient::analysis {

struct Dependency {
  std::string kind;     // postgres, redis, mysql, mongodb, kafka, http, https, ftp, s3, gcs, ssh, rsync, tcp, ...
  std::string host;     // as written ("db.internal", "10.0.0.5", "::1"); "localhost" when implied
  int port = 0;
  std::string source;   // "command" (from the tokens) or "history" (observed endpoints)

  std::string Endpoint() const;  // "db.internal:5432", "[::1]:5432"
  bool operator==(const Dependency& o) const { return kind == o.kind && host == o.host && port == o.port; }
};

std::vector<Dependency> ExtractDependencies(const ParsedCommand& parsed);

// "10.0.0.5:5432" -> {postgres, 10.0.0.5, 5432, source}; the kind comes from well-known ports
// (unknown ports give "tcp"). False when the text is not host:port.
bool DependencyFromEndpoint(std::string_view endpoint, std::string source, Dependency* out);

// Adds `extra` entries not already present (same kind, host and port).
void MergeDependencies(std::vector<Dependency>* into, const std::vector<Dependency>& extra);

}  // namespace prescient::analysis
