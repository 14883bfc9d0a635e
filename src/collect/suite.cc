#include "collect/suite.h"

#include <cstdio>
#include <functional>

#include "collect/inputs.h"

namespace prescient::collect {

namespace {

using std::string;
using std::to_string;

// A size class in [lo, hi], geometrically weighted towards small inputs (most real commands run
// on small files; a few large ones dominate the cost of the suite).
int SizeK(Rng& r, int lo, int hi) {
  int k = lo;
  while (k < hi && r.Uniform() < 0.62) ++k;
  return k;
}

string File(const string& kind, int k) {
  static const std::pair<const char*, const char*> kExt[] = {{"text", "txt"}, {"nums", "txt"}, {"csv", "csv"},
                                                             {"json", "jsonl"}, {"log", "log"}, {"bin", "bin"},
                                                             {"mixed", "dat"}};
  for (const auto& [n, e] : kExt)
    if (kind == n) return "data/" + kind + "-" + to_string(k) + "." + e;
  return "data/" + kind;
}

string AnyFile(Rng& r, int lo, int hi, const std::vector<string>& kinds = {"text", "log", "csv", "mixed", "bin"}) {
  return File(r.Pick(kinds), SizeK(r, lo, hi));
}

struct Builder {
  Rng& r;
  const SuiteEnv& env;
  CollectCase c;
  Builder& P(const string& program, const string& family) {
    c.program = program;
    c.family = family;
    return *this;
  }
  Builder& Cmd(const string& cmd) {
    c.command = cmd;
    return *this;
  }
  Builder& In(const string& path) {
    c.inputs.push_back(path);
    return *this;
  }
  Builder& Setup(const string& s) {
    c.setup = s;
    return *this;
  }
};

string Url(const SuiteEnv& env, const string& data_path) {
  // The server's document root is data/.
  return "http://127.0.0.1:" + to_string(env.http_port) + "/" + data_path.substr(5);
}

string Pg(const SuiteEnv& env) { return "-h 127.0.0.1 -p " + to_string(env.pg_port) + " -U postgres"; }

using Gen = std::function<void(Builder&)>;

struct Family {
  double weight;
  Gen gen;
};

// ------------------------------------------------------------------ the families

const std::vector<Family>& Families() {
  static const std::vector<Family> f = {
      // ---- compression
      {3.0, [](Builder& b) {
         string in = AnyFile(b.r, 0, 7);
         int lvl = 1 + static_cast<int>(b.r.Below(9));
         b.P("gzip", "compression").In(in).Cmd("gzip -" + to_string(lvl) + " -c " + in + " > out/x.gz");
       }},
      {2.0, [](Builder& b) {
         string in = AnyFile(b.r, 0, 8, {"text", "log", "csv", "mixed"}) + ".gz";
         string sink = b.r.Below(2) ? " > out/x" : " | wc -c";
         b.P("gzip -d", "compression").In(in).Cmd("gzip -dc " + in + sink);
       }},
      {2.0, [](Builder& b) {
         string in = AnyFile(b.r, 0, 5);
         int lvl = 1 + static_cast<int>(b.r.Below(9));
         b.P("bzip2", "compression").In(in).Cmd("bzip2 -" + to_string(lvl) + " -c " + in + " > out/x.bz2");
       }},
      {1.2, [](Builder& b) {
         string in = AnyFile(b.r, 0, 6, {"text", "log", "csv"}) + ".bz2";
         b.P("bzip2 -d", "compression").In(in).Cmd("bzip2 -dc " + in + " > out/x");
       }},
      {2.5, [](Builder& b) {
         int lvl = static_cast<int>(b.r.Below(10));
         string in = AnyFile(b.r, 0, lvl >= 7 ? 4 : 5);
         string threads = b.r.Pick(std::vector<string>{"", " -T1", " -T2", " -T0"});
         string extreme = b.r.Below(5) == 0 ? "e" : "";
         b.P("xz", "compression").In(in).Cmd("xz -" + to_string(lvl) + extreme + threads + " -c " + in + " > out/x.xz");
       }},
      {1.2, [](Builder& b) {
         string in = AnyFile(b.r, 0, 7, {"text", "log", "csv", "mixed"}) + ".xz";
         b.P("xz -d", "compression").In(in).Cmd("xz -dc " + in + " > /dev/null");
       }},
      {2.5, [](Builder& b) {
         int lvl = 1 + static_cast<int>(b.r.Below(19));
         string in = AnyFile(b.r, 0, lvl > 12 ? 5 : 7);
         string threads = b.r.Pick(std::vector<string>{"", " -T2", " -T0", " -T1"});
         string lng = b.r.Below(6) == 0 ? " --long" : "";
         b.P("zstd", "compression").In(in).Cmd("zstd -q -" + to_string(lvl) + threads + lng + " -c " + in + " > out/x.zst");
       }},
      {1.2, [](Builder& b) {
         string in = AnyFile(b.r, 0, 8, {"text", "log", "csv", "mixed"}) + ".zst";
         b.P("zstd -d", "compression").In(in).Cmd("zstd -q -dc " + in + " > /dev/null");
       }},
      {1.2, [](Builder& b) {
         string in = AnyFile(b.r, 0, 7);
         string lvl = b.r.Pick(std::vector<string>{"-1", "-3", "-9", "-12"});
         b.P("lz4", "compression").In(in).Cmd("lz4 -q " + lvl + " -c " + in + " > out/x.lz4");
       }},
      {0.8, [](Builder& b) {
         string in = AnyFile(b.r, 0, 8, {"text", "log", "mixed"}) + ".lz4";
         b.P("lz4 -d", "compression").In(in).Cmd("lz4 -q -dc " + in + " > /dev/null");
       }},
      {0.8, [](Builder& b) {
         string in = AnyFile(b.r, 0, 4);
         b.P("lzma", "compression").In(in).Cmd("lzma -" + to_string(1 + b.r.Below(6)) + " -c " + in + " > out/x.lzma");
       }},
      {1.0, [](Builder& b) {
         string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
         b.P("zip", "archiving").In(tree).Cmd("zip -q -r -" + to_string(1 + b.r.Below(9)) + " out/a.zip " + tree);
       }},
      {0.8, [](Builder& b) {
         string z = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"}) + ".zip";
         b.P("unzip", "archiving").In(z).Cmd("unzip -q " + z + " -d out/");
       }},
      // ---- sorting and friends
      {4.0, [](Builder& b) {
         int k = SizeK(b.r, 0, 7);
         string mem = b.r.Pick(std::vector<string>{"", "", " -S 1M", " -S 16M", " -S 64M", " -S 256M", " -S 50%"});
         string par = b.r.Pick(std::vector<string>{"", "", " --parallel=1", " --parallel=2", " --parallel=4"});
         int v = static_cast<int>(b.r.Below(6));
         string in, cmd;
         if (v == 0) { in = File("nums", k); cmd = "sort -n" + mem + par + " " + in + " -o out/s"; }
         else if (v == 1) { in = File("text", k); cmd = "sort -u" + mem + par + " " + in + " > out/s"; }
         else if (v == 2) { in = File("csv", k); cmd = "sort -t, -k4,4n" + mem + par + " " + in + " > out/s"; }
         else if (v == 3) { in = File("log", k); cmd = "sort -k1,1 -k7,7nr" + mem + par + " " + in + " > out/s"; }
         else if (v == 4) { in = File("text", k); cmd = "sort -r" + mem + par + " " + in + " > out/s"; }
         else { in = File("nums", k); cmd = "sort -R" + mem + " " + in + " > out/s"; }
         b.P("sort", "sorting").In(in).Cmd(cmd);
       }},
      {1.5, [](Builder& b) {
         string in = File(b.r.Pick(std::vector<string>{"text", "log"}), SizeK(b.r, 0, 6));
         string flag = b.r.Pick(std::vector<string>{"-c", "-d", "-u", "-c -i"});
         b.P("uniq", "sorting").In(in).Cmd("sort " + in + " | uniq " + flag + " | sort -rn | head -20");
       }},
      {1.0, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(3));
         if (v == 2) {
           long n = 1000L << (b.r.Below(13));
           b.P("shuf", "sorting").Cmd("shuf -i 1-" + to_string(n) + " > out/x");
           return;
         }
         string in = File(b.r.Pick(std::vector<string>{"text", "nums"}), SizeK(b.r, 0, 7));
         b.P("shuf", "sorting").In(in).Cmd(v == 0 ? "shuf " + in + " > out/x" : "shuf -n 1000 " + in + " > out/x");
       }},
      {0.8, [](Builder& b) {
         string in = AnyFile(b.r, 0, 7, {"text", "log", "nums"});
         b.P("tac", "text").In(in).Cmd("tac " + in + " > out/x");
       }},
      // ---- hashing
      {5.0, [](Builder& b) {
         string tool = b.r.Pick(std::vector<string>{"md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum",
                                                   "b2sum", "cksum", "sum"});
         string in = AnyFile(b.r, 0, 8);
         string extra = tool == "b2sum" && b.r.Below(2) ? " -l 256" : "";
         b.P(tool, "hashing").In(in).Cmd(tool + extra + " " + in);
       }},
      {1.0, [](Builder& b) {
         string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
         string tool = b.r.Pick(std::vector<string>{"md5sum", "sha1sum", "sha256sum", "b2sum"});
         string par = b.r.Pick(std::vector<string>{"1", "2", "4"});
         b.P("xargs", "hashing").In(tree).Cmd("find " + tree + " -type f -print0 | xargs -0 -P" + par + " -n 64 " + tool +
                                            " > out/sums");
       }},
      // ---- archiving
      {2.0, [](Builder& b) {
         string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
         int v = static_cast<int>(b.r.Below(5));
         static const char* kProg[] = {"tar c", "tar cz", "tar cj", "tar cJ", "tar --zstd"};
         static const char* kCmd[] = {"tar cf out/a.tar ", "tar czf out/a.tgz ", "tar cjf out/a.tbz ",
                                      "tar cJf out/a.txz ", "tar --zstd -cf out/a.tzst "};
         b.P(kProg[v], "archiving").In(tree).Cmd(string(kCmd[v]) + tree);
       }},
      {1.5, [](Builder& b) {
         string n = b.r.Pick(std::vector<string>{"50", "500", "3000"});
         int v = static_cast<int>(b.r.Below(4));
         static const char* kExt[] = {".tar", ".tar.gz", ".tar.zst", ".tar.xz"};
         static const char* kFlag[] = {"xf", "xzf", "--zstd -xf", "xJf"};
         string a = "data/tree-" + n + kExt[v];
         b.P("tar x", "archiving").In(a).Cmd(string("tar ") + kFlag[v] + " " + a + " -C out");
       }},
      {0.6, [](Builder& b) {
         string a = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"}) +
                    b.r.Pick(std::vector<string>{".tar", ".tar.gz", ".tar.zst"});
         b.P("tar t", "archiving").In(a).Cmd("tar tf " + a + " | wc -l");
       }},
      // ---- compiling
      {2.5, [](Builder& b) {
         string src = "data/prog-" + b.r.Pick(std::vector<string>{"10", "50", "200", "600", "1500"}) + ".c";
         string opt = b.r.Pick(std::vector<string>{"-O0", "-O1", "-O2", "-O3", "-Os"});
         string g = b.r.Below(3) == 0 ? " -g" : "";
         string w = b.r.Below(2) ? " -Wall" : "";
         string c = b.r.Below(4) == 0 ? " -c -o out/p.o " : " -o out/p ";
         b.P("gcc", "compiling").In(src).Cmd("gcc " + opt + g + w + c + src);
       }},
      {1.5, [](Builder& b) {
         string src = "data/tmpl-" + b.r.Pick(std::vector<string>{"5", "20", "60", "150"}) + ".cpp";
         string opt = b.r.Pick(std::vector<string>{"-O0", "-O1", "-O2", "-O3"});
         string std = b.r.Pick(std::vector<string>{"-std=c++17", "-std=c++20", ""});
         b.P("g++", "compiling").In(src).Cmd("g++ " + opt + " " + std + " -o out/p " + src);
       }},
      {1.5, [](Builder& b) {
         string n = b.r.Pick(std::vector<string>{"4", "12", "32"});
         string j = b.r.Pick(std::vector<string>{"1", "2", "4", "8"});
         string opt = b.r.Pick(std::vector<string>{"-O0", "-O2"});
         b.P("make", "compiling").In("data/proj-" + n).Setup("cp -r data/proj-" + n + " out/")
             .Cmd("make -s -j" + j + " -C out/proj-" + n + " CFLAGS=" + opt);
       }},
      {0.6, [](Builder& b) {
         string src = "data/tmpl-" + b.r.Pick(std::vector<string>{"5", "20", "60"}) + ".cpp";
         b.P("cpp", "compiling").In(src).Cmd("cpp " + src + " > out/x.i");
       }},
      // ---- databases
      {2.5, [](Builder& b) {
         string n = b.r.Pick(std::vector<string>{"1000", "10000", "100000", "1000000"});
         string q = b.r.Pick(std::vector<string>{
             "SELECT category, count(*), avg(value) FROM items GROUP BY category",
             "SELECT * FROM items ORDER BY value DESC LIMIT 10",
             "SELECT count(*) FROM items WHERE payload LIKE '%ABC%'",
             "SELECT a.category, count(*) FROM items a JOIN items b ON a.id = b.id + 1 GROUP BY a.category",
             "SELECT max(length(payload)), sum(value) FROM items"});
         string db = "data/db-" + n + ".sqlite";
         b.P("sqlite3", "database").In(db).Cmd("sqlite3 " + db + " \"" + q + "\"");
       }},
      {1.2, [](Builder& b) {
         long n = 1000L << (b.r.Below(10));
         int blob = 8 << b.r.Below(6);
         b.P("sqlite3 insert", "database")
             .Cmd("sqlite3 out/new.db \"CREATE TABLE t(a INTEGER, b BLOB); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                  "SELECT x + 1 FROM c WHERE x < " + to_string(n) + ") INSERT INTO t SELECT x, randomblob(" +
                  to_string(blob) + ") FROM c;\"");
       }},
      {1.0, [](Builder& b) {
         string n = b.r.Pick(std::vector<string>{"1000", "10000", "100000", "1000000"});
         string db = "data/db-" + n + ".sqlite";
         bool vac = b.r.Below(2);
         b.P(vac ? "sqlite3 vacuum" : "sqlite3 index", "database").In(db).Setup("cp " + db + " out/db.sqlite")
             .Cmd(vac ? "sqlite3 out/db.sqlite \"DELETE FROM items WHERE id % 3 = 0; VACUUM;\""
                      : "sqlite3 out/db.sqlite \"CREATE INDEX idx_value ON items(value, category)\"");
       }},
      {0.8, [](Builder& b) {
         string in = File("csv", SizeK(b.r, 0, 6));
         b.P("sqlite3 import", "database").In(in)
             .Cmd("sqlite3 out/i.db \".mode csv\" \".import " + in + " t\" \"SELECT count(*) FROM t\"");
       }},
      {0.6, [](Builder& b) {
         string db = "data/db-" + b.r.Pick(std::vector<string>{"1000", "10000", "100000"}) + ".sqlite";
         b.P("sqlite3 dump", "database").In(db).Cmd("sqlite3 " + db + " .dump | gzip -c > out/d.sql.gz");
       }},
      // PostgreSQL (skipped when no local server: see BuildCase)
      {2.0, [](Builder& b) {
         string q = b.r.Pick(std::vector<string>{
             "SELECT count(*) FROM pgbench_accounts",
             "SELECT bid, sum(abalance) FROM pgbench_accounts GROUP BY bid",
             "SELECT * FROM pgbench_accounts ORDER BY abalance DESC LIMIT 20",
             "SELECT count(*) FROM generate_series(1, 2000000) g",
             "SELECT md5(string_agg(aid::text, ',')) FROM pgbench_accounts WHERE aid < 50000"});
         b.c.needs = "postgres";
         b.P("psql", "database").Cmd("psql " + Pg(b.env) + " -d " + b.env.pg_database + " -Atc \"" + q + "\"");
       }},
      {0.8, [](Builder& b) {
         long n = 1000L << b.r.Below(11);
         b.c.needs = "postgres";
         string t = "t_" + b.c.id;
         b.P("psql", "database").Cmd("psql " + Pg(b.env) + " -d " + b.env.pg_database +
                                     " -qc \"CREATE TABLE " + t + " AS SELECT g AS id, md5(g::text) AS h FROM "
                                     "generate_series(1, " + to_string(n) + ") g; DROP TABLE " + t + "\"");
       }},
      {1.0, [](Builder& b) {
         b.c.needs = "postgres";
         string c = b.r.Pick(std::vector<string>{"1", "2", "4"});
         string t = b.r.Pick(std::vector<string>{"1", "2", "3"});
         string mode = b.r.Pick(std::vector<string>{" -S", " -S", " -N", ""});
         b.P("pgbench", "database").Cmd("pgbench " + Pg(b.env) + " -n -c " + c + " -j " + c + " -T " + t + mode + " " +
                                        b.env.pg_database);
       }},
      {0.6, [](Builder& b) {
         b.c.needs = "postgres";
         string fmt = b.r.Pick(std::vector<string>{" | gzip -c > out/d.sql.gz", " -Fc -f out/d.dump", " > out/d.sql"});
         b.P("pg_dump", "database").Cmd("pg_dump " + Pg(b.env) + " " + b.env.pg_database + fmt);
       }},
      // ---- scripting
      {3.0, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(6));
         long mb = 1L << b.r.Below(11);  // 1 MiB .. 1 GiB
         if (v == 0) {
           b.P("python3", "scripting").Cmd("python3 -c \"import time; b = b'x' * (" + to_string(mb) +
                                           " << 20); time.sleep(0.1); print(len(b))\"");
         } else if (v == 1) {
           long n = 10000L << b.r.Below(11);
           b.P("python3", "scripting").Cmd("python3 -c \"l = list(range(" + to_string(n) + ")); print(sum(l))\"");
         } else if (v == 2) {
           long n = 10000L << b.r.Below(10);
           b.P("python3", "scripting").Cmd("python3 -c \"d = {i: str(i) for i in range(" + to_string(n) + ")}; print(len(d))\"");
         } else if (v == 3) {
           long n = 100000L << b.r.Below(8);
           b.P("python3", "scripting").Cmd("python3 -c \"print(sum(i * i % 7 for i in range(" + to_string(n) + ")))\"");
         } else if (v == 4) {
           string in = File("json", SizeK(b.r, 0, 6));
           b.P("python3", "scripting").In(in).Cmd("python3 -c \"import json; rows = [json.loads(l) for l in open('" + in +
                                                  "')]; print(sum(r['value'] for r in rows))\"");
         } else {
           string in = File("text", SizeK(b.r, 0, 6));
           b.P("python3", "scripting").In(in).Cmd("python3 -c \"import collections; c = collections.Counter(open('" + in +
                                                  "').read().split()); print(c.most_common(3))\"");
         }
       }},
      {0.8, [](Builder& b) {
         // Memory-limited allocations: some exceed their limit and are OOM-killed (labelled so).
         long mb = 16L << b.r.Below(6);  // 16 .. 512 MiB
         int64_t limit = (64LL << 20) << b.r.Below(4);  // 64 .. 512 MiB
         b.c.memory_limit = limit;
         b.P("python3", "scripting").Cmd("python3 -c \"import time; b = b'x' * (" + to_string(mb) +
                                         " << 20); time.sleep(0.1); print(len(b))\"");
       }},
      {0.6, [](Builder& b) {
         int procs = 1 + static_cast<int>(b.r.Below(4));
         long n = 200000L << b.r.Below(4);
         b.P("python3", "scripting").Cmd("python3 -c \"import multiprocessing as m; p = m.Pool(" + to_string(procs) +
                                         "); print(sum(p.map(abs, range(" + to_string(n) + "), 1000))); p.close()\"");
       }},
      {1.5, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(4));
         if (v == 0) {
           string in = File("log", SizeK(b.r, 0, 7));
           b.P("perl", "scripting").In(in).Cmd("perl -ne 'print if /POST .* 500 /' " + in + " | wc -l");
         } else if (v == 1) {
           long n = 100000L << b.r.Below(8);
           b.P("perl", "scripting").Cmd("perl -e '$s = 0; $s += $_ * $_ % 7 for 1 .. " + to_string(n) + "; print \"$s\\n\"'");
         } else if (v == 2) {
           long n = 100000L << b.r.Below(7);
           b.P("perl", "scripting").Cmd("perl -e '@a = map { $_ * 2 } 1 .. " + to_string(n) + "; print scalar(@a), \"\\n\"'");
         } else {
           string in = File("text", SizeK(b.r, 0, 6));
           b.P("perl", "scripting").In(in).Cmd("perl -lane '$c{$_}++ for @F; END { print scalar keys %c }' " + in);
         }
       }},
      {2.0, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(4));
         int k = SizeK(b.r, 0, 7);
         if (v == 0) b.P("awk", "text").In(File("nums", k)).Cmd("awk '{ s += $1 } END { print s }' " + File("nums", k));
         else if (v == 1) b.P("awk", "text").In(File("csv", k)).Cmd("awk -F, 'NR > 1 { c[$3]++; s[$3] += $4 } END { for (k in c) print k, c[k], s[k] / c[k] }' " + File("csv", k));
         else if (v == 2) b.P("awk", "text").In(File("log", k)).Cmd("awk '{ print $1 }' " + File("log", k) + " | sort | uniq -c | sort -rn | head -5");
         else b.P("awk", "text").In(File("text", k)).Cmd("awk 'length > 60 { n++ } END { print n }' " + File("text", k));
       }},
      {1.5, [](Builder& b) {
         string in = AnyFile(b.r, 0, 7, {"text", "log", "csv"});
         string e = b.r.Pick(std::vector<string>{"sed 's/a/A/g'", "sed -n '/ka/p'", "sed -E 's/([0-9]+)/<\\1>/g'",
                                                 "sed '1~3d'", "sed -e 's/^/> /' -e 's/$/ </'"});
         b.P("sed", "text").In(in).Cmd(e + " " + in + " > out/x");
       }},
      {2.5, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(6));
         if (v == 0) {
           string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
           b.P("grep", "text").In(tree).Cmd("grep -r" + b.r.Pick(std::vector<string>{"", "i", "l", "c"}) + " kalo " + tree +
                                          " | wc -l");
           return;
         }
         string in = AnyFile(b.r, 0, 8, {"text", "log", "csv"});
         static const char* kFlags[] = {"-c kalo", "-E -c 'ka(lo|mi)+ne'", "-i -c STATUS", "-v -c ka", "-o -E '[0-9]+' ", "-F -c -w tor"};
         string cmd = "grep " + string(kFlags[v]) + " " + in;
         if (v == 4) cmd += " | sort | uniq -c | sort -rn | head -5";
         b.P("grep", "text").In(in).Cmd(cmd);
       }},
      {1.0, [](Builder& b) {
         string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
         string e = b.r.Pick(std::vector<string>{" -type f | wc -l", " -name '*.log' -size +10k | wc -l",
                                                 " -type f -exec wc -l {} + | tail -1", " -newer data -o -empty | wc -l",
                                                 " -type f -printf '%s\\n' | sort -n | tail -1"});
         b.P("find", "files").In(tree).Cmd("find " + tree + e);
       }},
      {1.5, [](Builder& b) {
         string in = AnyFile(b.r, 0, 8, {"text", "log", "csv", "json"});
         string f = b.r.Pick(std::vector<string>{"-l", "-w", "-c", "-m", "-L", ""});
         b.P("wc", "text").In(in).Cmd("wc " + f + " " + in);
       }},
      {1.5, [](Builder& b) {
         int k = SizeK(b.r, 0, 6);
         string in = File("json", k);
         string e = b.r.Pick(std::vector<string>{"jq -c 'select(.value > 500)' " + in + " | wc -l",
                                                 "jq -s 'length' " + in, "jq -r .name " + in + " | sort -u | wc -l",
                                                 "jq -s 'group_by(.category) | map({k: .[0].category, n: length})' " + in,
                                                 "jq -c '{id, t: .tags[0]}' " + in + " > out/x"});
         b.P("jq", "text").In(in).Cmd(e);
       }},
      {0.6, [](Builder& b) {
         int digits = 100 << b.r.Below(5);
         b.P("bc", "compute").Cmd("echo 'scale=" + to_string(digits) + "; 4*a(1)' | bc -l | tail -1");
       }},
      {0.5, [](Builder& b) {
         long n = 10000L << b.r.Below(8);
         b.P("factor", "compute").Cmd("seq " + to_string(n) + " " + to_string(n + 20000) + " | factor | tail -1");
       }},
      {0.5, [](Builder& b) {
         long n = 100000L << b.r.Below(9);
         b.P("seq", "compute").Cmd(b.r.Below(2) ? "seq " + to_string(n) + " | wc -l" : "seq -w " + to_string(n) + " > out/x");
       }},
      // ---- transfers over loopback (python3 -m http.server)
      {2.5, [](Builder& b) {
         b.c.needs = "http";
         string in = AnyFile(b.r, 0, 8);
         int v = static_cast<int>(b.r.Below(3));
         string cmd = v == 0 ? "curl -s -o /dev/null " + Url(b.env, in)
                    : v == 1 ? "curl -s " + Url(b.env, in) + " | sha256sum"
                             : "curl -sS --limit-rate 20M -o out/x " + Url(b.env, in);
         b.P("curl", "transfer").In(in).Cmd(cmd);
       }},
      {1.2, [](Builder& b) {
         b.c.needs = "http";
         string in = AnyFile(b.r, 0, 8);
         b.P("wget", "transfer").In(in).Cmd("wget -q -O " + string(b.r.Below(2) ? "out/x " : "/dev/null ") + Url(b.env, in));
       }},
      {0.6, [](Builder& b) {
         b.c.needs = "http";
         string in = AnyFile(b.r, 0, 7, {"text", "log", "csv"}) + ".gz";
         b.P("curl", "transfer").In(in).Cmd("curl -s " + Url(b.env, in) + " | gzip -dc | wc -l");
       }},
      // ---- pipelines
      {2.5, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(7));
         string in = AnyFile(b.r, 0, 7, {"text", "log"});
         string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
         if (v == 0) b.P("pipeline", "pipeline").In(in).Cmd("cat " + in + " | gzip -c | sha256sum");
         else if (v == 1) b.P("pipeline", "pipeline").In(in).Cmd("tr -cs 'A-Za-z' '\\n' < " + in + " | tr A-Z a-z | sort | uniq -c | sort -rn | head -10");
         else if (v == 2) b.P("pipeline", "pipeline").In(tree).Cmd("tar cf - " + tree + " | zstd -q -T2 -c > out/t.zst");
         else if (v == 3) b.P("pipeline", "pipeline").In(in + ".gz").Cmd("zcat " + in + ".gz | wc -l");
         else if (v == 4) b.P("pipeline", "pipeline").In(in).Cmd("cut -d' ' -f1 " + in + " | sort | uniq -c | sort -rn | head");
         else if (v == 5) b.P("pipeline", "pipeline").In(in).Cmd("cat " + in + " | xz -1 -T2 -c | xz -dc | md5sum");
         else b.P("pipeline", "pipeline").In(in).Cmd("head -c 50M " + in + " | base64 | gzip -1 -c | wc -c");
       }},
      // ---- coreutils and friends
      {2.0, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(5));
         string bs = b.r.Pick(std::vector<string>{"4k", "64k", "1M", "4M"});
         long count = 16L << b.r.Below(8);
         if (v == 0) b.P("dd", "io").Cmd("dd if=/dev/zero of=out/z bs=" + bs + " count=" + to_string(count) + " status=none");
         else if (v == 1) b.P("dd", "io").Cmd("dd if=/dev/urandom of=/dev/null bs=" + bs + " count=" + to_string(count) + " status=none");
         else if (v == 2) { string in = AnyFile(b.r, 0, 8); b.P("dd", "io").In(in).Cmd("dd if=" + in + " of=/dev/null bs=" + bs + " status=none"); }
         else if (v == 3) b.P("dd", "io").Cmd("dd if=/dev/zero of=out/z bs=1M count=" + to_string(std::min(count, 256L)) + " conv=fsync status=none");
         else b.P("dd", "io").Cmd("dd if=/dev/zero of=out/z bs=1M count=" + to_string(std::min(count, 128L)) + " oflag=direct status=none");
       }},
      {0.8, [](Builder& b) {
         string in = AnyFile(b.r, 0, 7);
         string f = b.r.Pick(std::vector<string>{"-b 1M", "-b 100K", "-l 10000", "-n 8", "-C 4M"});
         b.P("split", "files").In(in).Cmd("split " + f + " " + in + " out/part-");
       }},
      {1.0, [](Builder& b) {
         bool dec = b.r.Below(2);
         string in = AnyFile(b.r, 0, 7);
         if (dec) b.P("base64 -d", "text").In(in + ".b64").Cmd("base64 -d " + in + ".b64 > out/x");
         else b.P("base64", "text").In(in).Cmd("base64 " + in + " > out/x");
       }},
      {0.4, [](Builder& b) {
         string in = AnyFile(b.r, 0, 6);
         b.P("base32", "text").In(in).Cmd("base32 " + in + " > out/x");
       }},
      {1.0, [](Builder& b) {
         string in = AnyFile(b.r, 0, 5, {"bin", "mixed", "text"});
         string tool = b.r.Pick(std::vector<string>{"od -A x -t x1z", "xxd", "hexdump -C", "od -t d4"});
         b.P(tool.substr(0, tool.find(' ')), "text").In(in).Cmd(tool + " " + in + " > out/x");
       }},
      {2.0, [](Builder& b) {
         int k = SizeK(b.r, 0, 7);
         int v = static_cast<int>(b.r.Below(12));
         string t = File("text", k), c = File("csv", k), l = File("log", k);
         switch (v) {
           case 0: b.P("cut", "text").In(c).Cmd("cut -d, -f2,4 " + c + " > out/x"); break;
           case 1: b.P("tr", "text").In(t).Cmd("tr a-z A-Z < " + t + " > out/x"); break;
           case 2: b.P("paste", "text").In(t).Cmd("paste -d, " + t + " " + t + " > out/x"); break;
           case 3: b.P("head", "text").In(l).Cmd("head -n " + to_string(1000 << b.r.Below(8)) + " " + l + " > out/x"); break;
           case 4: b.P("tail", "text").In(l).Cmd("tail -n " + to_string(1000 << b.r.Below(8)) + " " + l + " > out/x"); break;
           case 5: b.P("nl", "text").In(t).Cmd("nl -ba " + t + " > out/x"); break;
           case 6: b.P("fold", "text").In(t).Cmd("fold -w 40 " + t + " > out/x"); break;
           case 7: b.P("fmt", "text").In(t).Cmd("fmt -w 72 " + t + " > out/x"); break;
           case 8: b.P("expand", "text").In(t).Cmd("expand -t 4 " + t + " > out/x"); break;
           case 9: b.P("rev", "text").In(t).Cmd("rev " + t + " > out/x"); break;
           case 10: b.P("iconv", "text").In(t).Cmd("iconv -f UTF-8 -t UTF-16 " + t + " > out/x"); break;
           default: b.P("strings", "text").In(File("mixed", k)).Cmd("strings -n 8 " + File("mixed", k) + " | wc -l"); break;
         }
       }},
      {0.8, [](Builder& b) {
         int k = SizeK(b.r, 0, 5);
         int v = static_cast<int>(b.r.Below(4));
         string c = File("csv", k), t = File("text", k), n = File("nums", k);
         if (v == 0) b.P("column", "text").In(c).Cmd("head -n 20000 " + c + " | column -s, -t > out/x");
         else if (v == 1) b.P("join", "text").In(c).Cmd("cut -d, -f1,2 " + c + " | sort -t, -k1,1 > out/a && cut -d, -f1,4 " + c + " | sort -t, -k1,1 > out/b && join -t, out/a out/b | wc -l");
         else if (v == 2) b.P("comm", "text").In(t).Cmd("sort -u " + t + " > out/a && sort -u " + File("text", std::max(0, k - 1)) + " > out/b && comm -3 out/a out/b | wc -l");
         else b.P("numfmt", "text").In(n).Cmd("head -n 100000 " + n + " | numfmt --to=iec > out/x");
       }},
      {1.2, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(6));
         string in = AnyFile(b.r, 0, 8);
         string tree = "data/tree-" + b.r.Pick(std::vector<string>{"50", "500", "3000"});
         if (v == 0) b.P("cp", "files").In(in).Cmd("cp " + in + " out/copy");
         else if (v == 1) b.P("cp", "files").In(tree).Cmd("cp -r " + tree + " out/");
         else if (v == 2) b.P("du", "files").In(tree).Cmd("du -sh " + tree);
         else if (v == 3) b.P("ls", "files").In(tree).Cmd("ls -lR " + tree + " | wc -l");
         else if (v == 4) b.P("cmp", "files").In(in).Cmd("cmp " + in + " " + in);
         else b.P("file", "files").In(tree).Cmd("file -b " + tree + "/d1/s1/* | sort | uniq -c");
       }},
      {0.6, [](Builder& b) {
         int k = SizeK(b.r, 0, 6);
         string a = File("text", k), c = File("log", k);
         b.P("diff", "files").In(a).In(c).Cmd("diff " + a + " " + c + " | wc -l");
       }},
      {1.5, [](Builder& b) {
         int v = static_cast<int>(b.r.Below(5));
         string in = AnyFile(b.r, 0, 8);
         if (v == 0) b.P("openssl dgst", "crypto").In(in).Cmd("openssl dgst -" + b.r.Pick(std::vector<string>{"sha256", "sha512", "md5", "sha3-256"}) + " " + in);
         else if (v == 1) b.P("openssl enc", "crypto").In(in).Cmd("openssl enc -" + b.r.Pick(std::vector<string>{"aes-256-cbc", "aes-128-ctr", "chacha20"}) + " -pbkdf2 -pass pass:collect -in " + in + " -out out/x.enc");
         else if (v == 2) b.P("openssl genrsa", "crypto").Cmd("openssl genrsa -out out/k.pem " + b.r.Pick(std::vector<string>{"1024", "2048", "3072", "4096"}) + " 2>/dev/null");
         else if (v == 3) b.P("openssl rand", "crypto").Cmd("openssl rand -out out/r " + to_string(1L << (10 + b.r.Below(18))));
         else b.P("gpg", "crypto").In(in).Setup("mkdir -p -m 700 out/gnupg").Cmd("gpg --homedir out/gnupg --batch --yes --pinentry-mode loopback --passphrase collect -c -o out/x.gpg " + in);
       }},
      {1.0, [](Builder& b) {
         string n = b.r.Pick(std::vector<string>{"50", "500", "3000"});
         int v = static_cast<int>(b.r.Below(4));
         string repo = "data/repo-tree-" + n;
         if (v == 0) b.P("git commit", "vcs").In("data/tree-" + n).Cmd("git init -q out/r && cp -r data/tree-" + n + "/. out/r/ && git -C out/r add -A && git -C out/r -c user.name=c -c user.email=c@localhost commit -qm import");
         else if (v == 1) b.P("git grep", "vcs").In(repo).Cmd("git -C " + repo + " grep -c kalo | wc -l");
         else if (v == 2) b.P("git clone", "vcs").In(repo).Cmd("git clone -q " + repo + " out/clone");
         else b.P("git gc", "vcs").In(repo).Setup("cp -r " + repo + " out/repo").Cmd("git -C out/repo gc -q --aggressive");
       }},
  };
  return f;
}

}  // namespace

CollectCase BuildCase(uint64_t seed, int index, const SuiteEnv& env) {
  Rng r(seed * 0x100000001b3ULL + static_cast<uint64_t>(index) * 0x9e3779b97f4a7c15ULL);
  r.Next();
  const auto& fams = Families();
  double total = 0;
  for (const auto& f : fams) total += f.weight;
  for (int attempt = 0;; ++attempt) {
    double u = r.Uniform() * total;
    size_t i = 0;
    for (; i + 1 < fams.size() && u >= fams[i].weight; ++i) u -= fams[i].weight;
    Builder b{r, env, {}};
    char id[16];
    std::snprintf(id, sizeof id, "c%06d", index);
    b.c.id = id;
    fams[i].gen(b);
    if (b.c.needs == "postgres" && env.pg_port == 0 && attempt < 50) continue;  // no server: draw again
    if (b.c.needs == "http" && env.http_port == 0 && attempt < 50) continue;
    // A few runs under a CPU quota, so the corpus shows throttled runs and their requested_cpus.
    if (r.Uniform() < 0.06) b.c.cpu_limit = r.Pick(std::vector<double>{0.5, 1.0, 1.5});
    return b.c;
  }
}

std::vector<CollectCase> BuildSuite(uint64_t seed, int runs, const SuiteEnv& env) {
  std::vector<CollectCase> out;
  out.reserve(runs);
  for (int i = 0; i < runs; ++i) out.push_back(BuildCase(seed, i, env));
  return out;
}

}  // namespace prescient::collect
