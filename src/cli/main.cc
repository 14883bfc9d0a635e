// `prescient`: predict a command's resources, train and evaluate the model, collect a corpus.
#include <cstring>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "common/log.h"
#include "common/startup.h"
#include "model/model_metadata.h"
#ifdef PRESCIENT_HAVE_COLLECT
#include "collect/collect_main.h"
#endif

namespace {

const char* kUsage =
    "usage: prescient <command> [options]   (prescient <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  predict \"<command>\"   print the predicted resource profile and the features behind it\n"
    "  predict --batch FILE  one JSON prediction per history-format input line\n"
    "  train                 train a model from history (JSON lines) into a directory\n"
    "  evaluate              score a model (and baselines) on history newer than its training data\n"
    "  collect               run the measurement suite and write a history corpus\n"
    "  version               print the version\n"
    "\n"
    "global: --log-level debug|info|warn|error (structured JSON logs on stderr; default warn for\n"
    "        predict, info otherwise)\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  // Strip a --log-level flag anywhere after the subcommand.
  prescient::log::SetLevel(cmd == "predict" ? prescient::log::Level::kWarn : prescient::log::Level::kInfo);
  int n = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--log-level" && i + 1 < argc) {
      if (!prescient::SetLogLevelFromFlag("prescient", "--log-level", argv[i + 1])) return 2;
      ++i;
      continue;
    }
    argv[n++] = argv[i];
  }
  // argv[0] is now the subcommand name, as its parser expects a program name there.
  if (cmd == "predict") return prescient::cli::PredictMain(n, argv);
  if (cmd == "train") return prescient::cli::TrainMain(n, argv);
  if (cmd == "evaluate") return prescient::cli::EvaluateMain(n, argv);
  if (cmd == "version" || cmd == "--version") {
    std::cout << prescient::model::PrescientVersion() << "\n";
    return 0;
  }
  if (cmd == "collect") {
#ifdef PRESCIENT_HAVE_COLLECT
    return prescient::collect::CollectMain(n, argv);
#else
    std::cerr << "prescient: this binary was built without the collector (src/collect)\n";
    return 1;
#endif
  }
  std::cerr << "prescient: unknown command \"" << cmd << "\"\n" << kUsage;
  return 2;
}
