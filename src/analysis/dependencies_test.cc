#include "analysis/dependencies.h"

#include <gtest/gtest.h>

namespace prescient::analysis {
namespace {

std::vector<std::string> Labels(const std::string& command) {
  std::vector<std::string> out;
  for (const Dependency& d : ExtractDependencies(ParseCommand(command))) out.push_back(d.kind + " " + d.Endpoint());
  return out;
}

TEST(Dependencies, Table) {
  struct Case {
    std::string command;
    std::vector<std::string> labels;
  };
  const std::vector<Case> cases = {
      {"pg_dump -Fc orders > o.dump", {"postgres localhost:5432"}},
      {"pg_dump -h db.internal -p 6432 -Fc orders", {"postgres db.internal:6432"}},
      {"psql postgresql://app@10.0.0.5:5433/orders -c 'select 1'", {"postgres 10.0.0.5:5433"}},
      {"psql -d 'host=pg port=5555 dbname=x'", {"postgres pg:5555"}},
      {"PGHOST=pg2 pg_restore -d orders o.dump", {"postgres pg2:5432"}},
      {"psql --host=db --port=7000", {"postgres db:7000"}},
      {"redis-cli -h cache -p 6380 ping", {"redis cache:6380"}},
      {"redis-cli ping", {"redis localhost:6379"}},
      {"mysqldump -h mysql.svc -P 3307 -p secret shop", {"mysql mysql.svc:3307"}},
      {"mongodump --uri=mongodb://user:pw@mongo:27018/db", {"mongodb mongo:27018"}},
      {"mongosh --host m1:27019", {"mongodb m1:27019"}},
      {"kafka-console-producer.sh --bootstrap-server k1:9093,k2:9094 --topic t", {"kafka k1:9093", "kafka k2:9094"}},
      {"curl -fsSL https://example.com/file.tgz | tar xz", {"https example.com:443"}},
      {"wget http://127.0.0.1:8080/big.bin", {"http 127.0.0.1:8080"}},
      {"curl 'http://[::1]:9000/x'", {"http [::1]:9000"}},
      {"aws s3 cp big s3://bucket/key", {"s3 s3.amazonaws.com:443"}},
      {"aws --endpoint-url http://minio:9000 s3 ls", {"s3 minio:9000"}},
      {"ssh -p 2222 deploy@build.host 'make'", {"ssh build.host:2222"}},
      {"scp -P 2200 f.txt user@files:/tmp/", {"ssh files:2200"}},
      {"rsync -az ./dir backup:/srv/dir", {"ssh backup:22"}},
      {"rsync -a rsync://mirror.org/debian/ ./m", {"rsync mirror.org:873"}},
      {"git clone https://github.com/org/repo.git", {"https github.com:443"}},
      {"git clone git@gitlab.com:org/repo.git", {"ssh gitlab.com:22"}},
      {"nc -z db 5432", {"tcp db:5432"}},
      {"python3 fetch.py --url=https://api.local:8443/v1", {"https api.local:8443"}},
      {"gzip -9 file", {}},
      {"sudo -u postgres bash -c 'pg_dump orders | gzip > o.gz'", {"postgres localhost:5432"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.command);
    EXPECT_EQ(Labels(c.command), c.labels);
  }
}

TEST(Dependencies, FromHistoryEndpoints) {
  Dependency d;
  ASSERT_TRUE(DependencyFromEndpoint("10.1.2.3:5432", "history", &d));
  EXPECT_EQ(d.kind, "postgres");
  EXPECT_EQ(d.source, "history");
  ASSERT_TRUE(DependencyFromEndpoint("[fd00::1]:6379", "history", &d));
  EXPECT_EQ(d.kind, "redis");
  EXPECT_EQ(d.host, "fd00::1");
  ASSERT_TRUE(DependencyFromEndpoint("svc:12345", "history", &d));
  EXPECT_EQ(d.kind, "tcp");
  EXPECT_FALSE(DependencyFromEndpoint("no-port", "history", &d));
  EXPECT_FALSE(DependencyFromEndpoint("host:99999", "history", &d));

  std::vector<Dependency> deps = ExtractDependencies(ParseCommand("pg_dump orders"));
  Dependency same{"postgres", "localhost", 5432, "history"};
  Dependency other{"redis", "cache", 6379, "history"};
  MergeDependencies(&deps, {same, other});
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_EQ(deps[1].kind, "redis");
}

}  // namespace
}  // namespace prescient::analysis
