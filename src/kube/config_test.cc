#include "kube/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace prescient::kube {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kube_config_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

EnvLookup MapEnv(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

const char* kBasic = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJU
    tls-server-name: api.internal
- name: c2
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
users:
- name: alice
  user:
    token: abc123
- name: bob
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
contexts:
- name: dev
  context: {cluster: c1, user: alice, namespace: team-a}
- name: ops
  context: {cluster: c2, user: bob}
)";

TEST(KubeconfigTest, ResolvesCurrentContext) {
  auto c = ParseKubeconfig(kBasic, "test.yaml", "", "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "-----BEGIN CERT");
  EXPECT_EQ(c->tls_server_name, "api.internal");
  EXPECT_EQ(c->token, "abc123");
  EXPECT_EQ(c->default_namespace, "team-a");
  EXPECT_EQ(c->context_name, "dev");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_NE(c->source.find("test.yaml"), std::string::npos);
}

TEST(KubeconfigTest, ContextOverride) {
  auto c = ParseKubeconfig(kBasic, "test.yaml", "", "ops");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->client_cert_pem, "cert");
  EXPECT_EQ(c->client_key_pem, "key");
  EXPECT_EQ(c->default_namespace, "default");
}

// Each malformed kubeconfig gives one error naming the file and the problem.
TEST(KubeconfigTest, MalformedFilesGiveOneClearError) {
  struct Case {
    const char* name;
    std::string yaml;
    std::string context;
    std::string want;  // substring of the message
  } cases[] = {
      {"yaml syntax", "clusters: [\n  - name: x\n", "", "line"},
      {"top level not a map", "- a\n- b\n", "", "top level must be a mapping"},
      {"wrong kind", "kind: Pod\n", "", "kind is \"Pod\""},
      {"clusters not a list", "clusters: {a: 1}\ncurrent-context: x\n", "", "clusters must be a list"},
      {"cluster without name", "clusters:\n- cluster: {server: https://a}\n", "", "clusters[0] has no name"},
      {"no current context", "clusters: []\n", "", "no current-context"},
      {"unknown context", kBasic, "nope", "context \"nope\" not found"},
      {"unknown cluster", "current-context: a\ncontexts:\n- name: a\n  context: {cluster: zz}\n", "",
       "cluster \"zz\" (used by context \"a\") not found"},
      {"unknown user",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x}\ncontexts:\n- name: a\n  context: "
       "{cluster: c, user: u}\n",
       "", "user \"u\" (used by context \"a\") not found"},
      {"no server", "current-context: a\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: a\n  context: {cluster: c}\n",
       "", "cluster \"c\" has no server"},
      {"bad scheme",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: ftp://x}\ncontexts:\n- name: a\n  context: {cluster: c}\n",
       "", "must start with https://"},
      {"bad bool",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x, insecure-skip-tls-verify: maybe}\n"
       "contexts:\n- name: a\n  context: {cluster: c}\n",
       "", "insecure-skip-tls-verify must be true or false"},
      {"bad base64",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x, certificate-authority-data: '***'}\n"
       "contexts:\n- name: a\n  context: {cluster: c}\n",
       "", "certificate-authority-data is not valid base64"},
      {"insecure plus CA",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x, insecure-skip-tls-verify: true, "
       "certificate-authority-data: YQ==}\ncontexts:\n- name: a\n  context: {cluster: c}\n",
       "", "both insecure-skip-tls-verify and a certificate authority"},
      {"cert without key",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x}\nusers:\n- name: u\n  user: "
       "{client-certificate-data: YQ==}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n",
       "", "client certificate without a key"},
      {"missing CA file",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: https://x, certificate-authority: nope.crt}\n"
       "contexts:\n- name: a\n  context: {cluster: c}\n",
       "", "certificate-authority /base/nope.crt"},
      {"server not a string",
       "current-context: a\nclusters:\n- name: c\n  cluster: {server: [1]}\ncontexts:\n- name: a\n  context: {cluster: c}\n",
       "", "server must be a string"},
  };
  for (const auto& tc : cases) {
    auto c = ParseKubeconfig(tc.yaml, "/base/kc.yaml", "/base", tc.context);
    ASSERT_FALSE(c.ok()) << tc.name;
    const std::string& msg = c.status().message();
    EXPECT_NE(msg.find(tc.want), std::string::npos) << tc.name << ": " << msg;
    EXPECT_NE(msg.find("kc.yaml"), std::string::npos) << tc.name << ": message does not name the file: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << tc.name << ": not one line: " << msg;
  }
}

TEST(KubeconfigTest, MergesFilesFirstValueWins) {
  TempDir d;
  std::string a = d.Write("a.yaml", R"(current-context: one
clusters:
- name: shared
  cluster: {server: https://first:1}
contexts:
- name: one
  context: {cluster: shared, user: u}
users:
- name: u
  user: {tokenFile: tok}
)");
  std::string b = d.Write("sub/b.yaml", R"(current-context: two
clusters:
- name: shared
  cluster: {server: https://second:2}
- name: other
  cluster: {server: https://other:3, certificate-authority: ca.pem}
contexts:
- name: two
  context: {cluster: other, namespace: ns2}
)");
  d.Write("sub/ca.pem", "PEM");
  auto c = LoadKubeconfig({a, d.path() + "/missing.yaml", b}, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://first:1");
  EXPECT_EQ(c->token_file, d.path() + "/tok");  // relative to the file that named it
  auto c2 = LoadKubeconfig({a, b}, "two");
  ASSERT_TRUE(c2.ok()) << c2.status().ToString();
  EXPECT_EQ(c2->server, "https://other:3");
  EXPECT_EQ(c2->ca_pem, "PEM");  // relative to sub/
  EXPECT_EQ(c2->default_namespace, "ns2");
}

TEST(KubeconfigTest, ExplicitMissingFileIsAnError) {
  auto c = LoadKubeconfig({"/nonexistent/kc"}, "", /*must_exist=*/true);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/kc"), std::string::npos);
}

TEST(LoadConfigTest, Precedence) {
  TempDir d;
  auto doc = [](const std::string& server) {
    return "current-context: x\nclusters:\n- name: c\n  cluster: {server: " + server +
           "}\ncontexts:\n- name: x\n  context: {cluster: c}\n";
  };
  std::string flag = d.Write("flag.yaml", doc("https://flag"));
  std::string env1 = d.Write("env1.yaml", doc("https://env"));
  d.Write("home/.kube/config", doc("https://home"));
  d.Write("sa/token", "satoken\n");
  d.Write("sa/ca.crt", "CA");
  d.Write("sa/namespace", "kube-system\n");
  struct Case {
    const char* name;
    std::string flag;
    std::map<std::string, std::string> env;
    std::string want_server;
  } cases[] = {
      {"flag wins", flag, {{"KUBECONFIG", env1}, {"HOME", d.path() + "/home"}}, "https://flag"},
      {"KUBECONFIG next", "", {{"KUBECONFIG", env1}, {"HOME", d.path() + "/home"}}, "https://env"},
      {"home next", "", {{"HOME", d.path() + "/home"}}, "https://home"},
      {"in-cluster last",
       "",
       {{"HOME", d.path() + "/nohome"}, {"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
       "https://10.96.0.1:443"},
  };
  for (const auto& tc : cases) {
    LoadOptions o;
    o.kubeconfig = tc.flag;
    o.env = MapEnv(tc.env);
    o.in_cluster.service_account_dir = d.path() + "/sa";
    auto c = LoadConfig(o);
    ASSERT_TRUE(c.ok()) << tc.name << ": " << c.status().ToString();
    EXPECT_EQ(c->server, tc.want_server) << tc.name;
  }
  LoadOptions none;
  none.env = MapEnv({});
  auto c = LoadConfig(none);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST(InClusterTest, ReadsServiceAccount) {
  TempDir d;
  d.Write("token", "t1\n");
  d.Write("ca.crt", "CA");
  d.Write("namespace", "prescient-system");
  InClusterOptions o;
  o.service_account_dir = d.path();
  o.env = MapEnv({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}});
  auto c = LoadInCluster(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://[fd00::1]:6443");
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->default_namespace, "prescient-system");
  EXPECT_EQ(c->token_file, d.path() + "/token");
  fs::remove(d.path() + "/ca.crt");
  auto bad = LoadInCluster(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ca.crt"), std::string::npos);
}

TEST(TokenSourceTest, RereadsRotatedToken) {
  TempDir d;
  std::string p = d.Write("token", "first\n");
  TokenSource ts("", p);
  auto t = ts.Token();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "first");
  // A rotation writes a new file (different size and mtime) and renames it into place.
  std::string tmp = d.Write("token.new", "second-token");
  struct timespec times[2] = {{0, UTIME_OMIT}, {1234567, 0}};
  utimensat(AT_FDCWD, tmp.c_str(), times, 0);
  fs::rename(tmp, p);
  t = ts.Token();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "second-token");
  TokenSource missing("", d.path() + "/none");
  EXPECT_EQ(missing.Token().status().code(), Code::kUnauthorized);
  TokenSource fixed("static", "");
  EXPECT_EQ(*fixed.Token(), "static");
}

}  // namespace
}  // namespace prescient::kube
