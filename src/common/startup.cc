#include "common/startup.h"

#include <pthread.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "common/log.h"

namespace prescient {

std::optional<int> ParseCommandLine(int argc, char** argv, const boost::program_options::options_description& desc,
                                    const CommandLineSpec& spec, boost::program_options::variables_map* vm) {
  namespace po = boost::program_options;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(desc);
    if (spec.positional != nullptr) parser.positional(*spec.positional);
    po::store(parser.run(), *vm);
    if (vm->count("help")) {
      if (!spec.usage.empty()) std::cout << spec.usage << "\n\n";
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(*vm);
  } catch (const std::exception& e) {
    std::cerr << spec.program << ": " << e.what() << "\n";
    if (!spec.brief_errors) {
      std::cerr << desc << "\n";
    } else {
      if (!spec.usage.empty()) std::cerr << spec.usage << "\n";
      std::cerr << "(run with --help for all options)\n";
    }
    return 2;
  }
  return std::nullopt;
}

bool SetLogLevelFromFlag(const std::string& program, const std::string& flag, const std::string& value) {
  log::Level level;
  if (!log::ParseLevel(value, &level)) {
    std::cerr << program << ": " << flag << " " << value << " is not debug, info, warn or error\n";
    return false;
  }
  log::SetLevel(level);
  return true;
}

sigset_t BlockTerminationSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

int WaitForTerminationSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

Result<std::unique_ptr<prometheus::Exposer>> ServeMetrics(const std::string& bind_address,
                                                          const std::shared_ptr<prometheus::Registry>& registry) {
  if (bind_address.empty() || bind_address == "0") return std::unique_ptr<prometheus::Exposer>();
  // civetweb wants a host: ":8080" means every interface.
  std::string address = bind_address[0] == ':' ? "0.0.0.0" + bind_address : bind_address;
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address);
    exposer->RegisterCollectable(registry);
    return exposer;
  } catch (const std::exception& e) {
    return InvalidArgument("cannot serve metrics on " + bind_address + ": " + e.what());
  }
}

}  // namespace prescient
