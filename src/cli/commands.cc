#include "cli/commands.h"

#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "analysis/history.h"
#include "analysis/history_aggregates.h"
#include "cli/output.h"
#include "common/log.h"
#include "common/quantity.h"
#include "common/startup.h"
#include "model/evaluation.h"
#include "model/predictor.h"

namespace prescient::cli {
namespace {

namespace po = boost::program_options;
using analysis::HistoryRecord;

const log::Logger& Log() {
  static const log::Logger l("prescient");
  return l;
}

constexpr const char* kDefaultModelDir = "models/default";

bool DirExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Parses argv with `desc` (+ positional); prints usage and returns 2 on error, 0 for --help.
std::optional<int> ParseArgs(int argc, char** argv, const po::options_description& desc,
                             const po::positional_options_description* pos, const char* usage, po::variables_map* vm) {
  CommandLineSpec spec{.program = "prescient", .positional = pos, .usage = usage, .brief_errors = true};
  return ParseCommandLine(argc, argv, desc, spec, vm);
}

Result<std::vector<HistoryRecord>> LoadHistory(const std::string& path, bool require_usage) {
  analysis::ReadOptions o;
  o.require_usage = require_usage;
  auto h = analysis::ReadHistoryFile(path, o);
  if (!h.ok()) return h.status();
  if (h->skipped > 0) {
    Log().Warn("skipped malformed history lines",
               {{"file", path}, {"skipped", h->skipped}, {"first_errors", h->errors}});
  }
  Log().Info("read history", {{"file", path}, {"runs", h->records.size()}});
  return std::move(h->records);
}

// Loads the predictor for predict/evaluate. An explicit --model must load; the default directory
// may be absent (then history and defaults are used, and the profile says so).
Result<std::unique_ptr<model::Predictor>> LoadPredictor(const std::string& dir, bool explicit_dir, bool no_model) {
  if (no_model) return model::Predictor::WithoutModel();
  if (!explicit_dir && !DirExists(dir)) {
    Log().Warn("no model directory; predicting from history and defaults", {{"model", dir}});
    return model::Predictor::WithoutModel();
  }
  auto p = model::Predictor::Load(dir);
  if (!p.ok()) return p.status();
  Log().Debug("loaded model", {{"model", dir}, {"model_version", (*p)->metadata().model_version}});
  return p;
}

Status ParseQuantityOpt(const po::variables_map& vm, const char* name, std::optional<double>* out) {
  if (!vm.count(name)) return Status::Ok();
  auto v = ParseBytes(vm[name].as<std::string>());
  if (!v.ok()) return InvalidArgument(std::string("--") + name + ": " + v.status().message());
  *out = static_cast<double>(*v);
  return Status::Ok();
}

int Fail(const Status& s) {
  std::cerr << "prescient: " << s.message() << "\n";
  Log().Error("failed", {{"error", s.ToString()}});
  return 1;
}

}  // namespace

int PredictMain(int argc, char** argv) {
  const char* usage =
      "usage: prescient predict \"<command>\" [--vm-cpus N] [--vm-memory Q] [--input-bytes N] [--user U]\n"
      "                         [--model DIR] [--history FILE] [-o table|json] [--top N]\n"
      "       prescient predict --batch FILE [--model DIR] [--history FILE]   (one JSON prediction per input line)";
  po::options_description desc("predict options");
  desc.add_options()("help,h", "show this help")
      ("command", po::value<std::string>(), "the command line to size (quote it)")
      ("vm-cpus", po::value<double>(), "vCPUs of the target VM")
      ("vm-memory", po::value<std::string>(), "memory of the target VM (quantity: 4Gi, 8G, bytes)")
      ("input-bytes", po::value<std::string>(), "total size of the command's inputs (quantity)")
      ("requested-cpus", po::value<double>(), "CPUs the user asked for (replaces the CPU default)")
      ("requested-memory", po::value<std::string>(), "memory the user asked for (replaces the memory default)")
      ("user", po::value<std::string>()->default_value(""), "user running the command")
      ("model", po::value<std::string>(), "model directory (default models/default; absent -> history/defaults)")
      ("no-model", "ignore any model: history, then defaults")
      ("history", po::value<std::string>(), "history file (JSON lines, .gz/.zst) whose aggregates replace the model's")
      ("batch", po::value<std::string>(), "history-format file ('-' = stdin): predict every line (usage ignored)")
      ("output,o", po::value<std::string>()->default_value("table"), "table or json (batch is always JSON lines)")
      ("top", po::value<int>()->default_value(8), "features to show per resource");
  po::positional_options_description pos;
  pos.add("command", 1);
  po::variables_map vm;
  if (auto rc = ParseArgs(argc, argv, desc, &pos, usage, &vm)) return *rc;
  const std::string output = vm["output"].as<std::string>();
  if (output != "table" && output != "json") {
    std::cerr << "prescient: -o must be table or json, not \"" << output << "\"\n";
    return 2;
  }
  if (!vm.count("command") && !vm.count("batch")) {
    std::cerr << "prescient: predict needs a command or --batch FILE\n" << usage << "\n";
    return 2;
  }
  auto predictor = LoadPredictor(vm.count("model") ? vm["model"].as<std::string>() : kDefaultModelDir,
                                 vm.count("model") > 0, vm.count("no-model") > 0);
  if (!predictor.ok()) return Fail(predictor.status());
  if (vm.count("history")) {
    auto h = LoadHistory(vm["history"].as<std::string>(), true);
    if (!h.ok()) return Fail(h.status());
    analysis::SortByTime(&*h);
    analysis::HistoryIndex index;
    for (const HistoryRecord& r : *h) index.Add(analysis::AnalyzeCommand(r.command), r);
    (*predictor)->ReplaceHistory(std::move(index));
  }

  if (vm.count("batch")) {
    auto lines = analysis::ReadTextLines(vm["batch"].as<std::string>());
    if (!lines.ok()) return Fail(lines.status());
    size_t lineno = 0, errors = 0;
    for (const std::string& line : *lines) {
      ++lineno;
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      auto rec = analysis::ParseHistoryLine(line, /*require_usage=*/false);
      if (!rec.ok()) {
        // Keep one output line per input line so scorers can zip them.
        std::cout << nlohmann::json{{"line", lineno}, {"error", rec.status().message()}}.dump() << "\n";
        ++errors;
        continue;
      }
      model::PredictionRequest req;
      req.command = rec->command;
      req.context = rec->context;
      req.user = rec->user;
      std::cout << ProfileToJson((*predictor)->Predict(req)).dump() << "\n";
    }
    std::cout.flush();
    if (errors) Log().Warn("batch lines could not be parsed", {{"errors", errors}});
    return 0;
  }

  model::PredictionRequest req;
  req.command = vm["command"].as<std::string>();
  req.user = vm["user"].as<std::string>();
  req.explain = true;
  req.top_features = vm["top"].as<int>();
  if (vm.count("vm-cpus")) req.context.vm_cpus = vm["vm-cpus"].as<double>();
  if (vm.count("requested-cpus")) req.context.requested_cpus = vm["requested-cpus"].as<double>();
  for (auto [name, dst] : {std::pair{"vm-memory", &req.context.vm_memory_bytes},
                           std::pair{"input-bytes", &req.context.input_bytes},
                           std::pair{"requested-memory", &req.context.requested_memory_bytes}}) {
    if (Status s = ParseQuantityOpt(vm, name, dst); !s.ok()) {
      std::cerr << "prescient: " << s.message() << "\n";
      return 2;
    }
  }
  const model::ResourceProfile p = (*predictor)->Predict(req);
  if (output == "json") {
    std::cout << ProfileToJson(p).dump(2) << "\n";
  } else {
    std::cout << ProfileTable(p);
  }
  return 0;
}

int TrainMain(int argc, char** argv) {
  const char* usage = "usage: prescient train --history FILE --out DIR [--seed S] [--rounds N] [--train-fraction F]";
  po::options_description desc("train options");
  desc.add_options()("help,h", "show this help")
      ("history", po::value<std::string>()->required(), "history file (JSON lines; .gz or .zst)")
      ("out", po::value<std::string>()->required(), "model directory to write")
      ("seed", po::value<uint64_t>()->default_value(42), "random seed (training is deterministic for a seed)")
      ("rounds", po::value<int>()->default_value(120), "boosting rounds")
      ("max-depth", po::value<int>()->default_value(5), "tree depth")
      ("eta", po::value<double>()->default_value(0.1), "learning rate")
      ("threads", po::value<int>()->default_value(1), "training threads (OpenMP; 1 is fastest on a busy machine)")
      ("calibration-fraction", po::value<double>()->default_value(0.25), "newest share of runs for conformal calibration")
      ("train-fraction", po::value<double>()->default_value(1.0),
       "use only the oldest share of runs (by time), leaving the rest for `prescient evaluate`")
      ("quantile-memory", po::value<double>()->default_value(0.95), "quantile of the memory bound")
      ("quantile-cpu", po::value<double>()->default_value(0.9), "quantile of the CPU bound")
      ("quantile-other", po::value<double>()->default_value(0.9), "quantile of disk, network and duration bounds");
  po::variables_map vm;
  if (auto rc = ParseArgs(argc, argv, desc, nullptr, usage, &vm)) return *rc;
  auto h = LoadHistory(vm["history"].as<std::string>(), true);
  if (!h.ok()) return Fail(h.status());
  std::vector<HistoryRecord> records = std::move(h).value();
  const double frac = vm["train-fraction"].as<double>();
  if (!(frac > 0 && frac <= 1)) {
    std::cerr << "prescient: --train-fraction must be in (0, 1]\n";
    return 2;
  }
  analysis::SortByTime(&records);
  if (frac < 1) records.resize(static_cast<size_t>(std::floor(static_cast<double>(records.size()) * frac)));
  model::TrainOptions o;
  o.seed = vm["seed"].as<uint64_t>();
  o.rounds = vm["rounds"].as<int>();
  o.max_depth = vm["max-depth"].as<int>();
  o.eta = vm["eta"].as<double>();
  o.threads = vm["threads"].as<int>();
  o.calibration_fraction = vm["calibration-fraction"].as<double>();
  for (int t = 0; t < analysis::kNumTargets; ++t) o.quantiles[t] = vm["quantile-other"].as<double>();
  o.quantiles[analysis::kMemoryBytes] = vm["quantile-memory"].as<double>();
  o.quantiles[analysis::kCpuCores] = vm["quantile-cpu"].as<double>();
  o.progress = [](const std::string& msg) { Log().Info(msg); };
  auto p = model::Predictor::Train(std::move(records), o);
  if (!p.ok()) return Fail(p.status());
  const std::string out = vm["out"].as<std::string>();
  if (Status s = (*p)->Save(out); !s.ok()) return Fail(s);
  const model::ModelMetadata& m = (*p)->metadata();
  nlohmann::json cal = nlohmann::json::object();
  for (int t = 0; t < analysis::kNumTargets; ++t) {
    const auto& c = m.calibration[static_cast<size_t>(t)];
    cal[analysis::TargetName(t)] = {{"quantile", m.quantiles[t]}, {"calibration_coverage", c.coverage},
                                    {"calibration_rows", c.calibration_rows}, {"train_rows", c.train_rows}};
  }
  Log().Info("model written", {{"out", out}, {"model_version", m.model_version}, {"rows", m.rows},
                               {"seconds", m.training_seconds}});
  std::cout << nlohmann::json{{"out", out}, {"model_version", m.model_version}, {"rows", m.rows},
                              {"train_rows", m.train_rows}, {"calibration_rows", m.calibration_rows},
                              {"last_time", m.last_time}, {"training_seconds", m.training_seconds},
                              {"targets", cal}}
                   .dump(2)
            << "\n";
  return 0;
}

int EvaluateMain(int argc, char** argv) {
  const char* usage =
      "usage: prescient evaluate --model DIR --history FILE [--baselines] [-o table|json|markdown]\n"
      "                          [--split-time RFC3339] [--markdown-out FILE] [--plot FILE.png]";
  po::options_description desc("evaluate options");
  desc.add_options()("help,h", "show this help")
      ("model", po::value<std::string>()->required(), "model directory (scores runs after its training data)")
      ("history", po::value<std::string>()->required(), "history file: the model's training runs and newer ones")
      ("baselines", "also score static, max-seen, VPA-style and Tovar first-allocation recommenders")
      ("split-time", po::value<std::string>(), "score runs after this time instead of the model's last training run")
      ("output,o", po::value<std::string>()->default_value("table"), "table (markdown tables), markdown, or json")
      ("markdown-out", po::value<std::string>(), "also write the markdown tables to FILE")
      ("plot", po::value<std::string>(), "also write a PNG plot (memory under-allocation and slack) to FILE");
  po::variables_map vm;
  if (auto rc = ParseArgs(argc, argv, desc, nullptr, usage, &vm)) return *rc;
  const std::string output = vm["output"].as<std::string>();
  if (output != "table" && output != "json" && output != "markdown") {
    std::cerr << "prescient: -o must be table, markdown or json\n";
    return 2;
  }
  auto p = model::Predictor::Load(vm["model"].as<std::string>());
  if (!p.ok()) return Fail(p.status());
  auto h = LoadHistory(vm["history"].as<std::string>(), true);
  if (!h.ok()) return Fail(h.status());
  model::EvaluationOptions o;
  o.baselines = vm.count("baselines") > 0;
  if (vm.count("split-time")) o.split_time = vm["split-time"].as<std::string>();
  auto report = model::Evaluate(p->get(), std::move(h).value(), o);
  if (!report.ok()) return Fail(report.status());
  const std::string md = model::EvaluationMarkdown(*report);
  if (vm.count("markdown-out")) {
    std::ofstream f(vm["markdown-out"].as<std::string>());
    f << md;
    if (!f) return Fail(InternalError("cannot write " + vm["markdown-out"].as<std::string>()));
  }
  if (vm.count("plot")) {
    if (Status s = WritePlot(*report, vm["plot"].as<std::string>()); !s.ok()) return Fail(s);
  }
  if (output == "json") {
    std::cout << ReportToJson(*report).dump(2) << "\n";
  } else {
    std::cout << md;
  }
  return 0;
}

}  // namespace prescient::cli
