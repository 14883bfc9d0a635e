// Process start-up shared by Prescient's binaries (prescient-operator, prescient-agent,
// prescient-sim, prescient): parsing the command line with the usual --help and error handling,
// the log level flag, the termination signals, and the Prometheus /metrics endpoint. The Kubernetes
// side (--kubeconfig/--context to a client) is kube/flags.h.
//
//   po::options_description desc("prescient-x: ...");
//   ...
//   po::variables_map vm;
//   if (auto exit_code = ParseCommandLine(argc, argv, desc, {.program = "prescient-x"}, &vm)) return *exit_code;
//   if (!SetLogLevelFromFlag("prescient-x", "--zap-log-level", level)) return 2;
//   sigset_t sigs = BlockTerminationSignals();  // before any thread starts
//   ...
//   int sig = WaitForTerminationSignal(sigs);
//
// Call these from main() before other threads start; they touch process-wide state.
#pragma once

#include <signal.h>

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace boost::program_options {
class options_description;
class positional_options_description;
class variables_map;
}  // namespace boost::program_options

namespace prescient {

// How a binary's command line is read and what --help and a bad command line print.
// Every member has a default, so designated initializers may name only some.
struct CommandLineSpec {
  std::string program{};  // "prescient-operator": prefixes error messages
  const boost::program_options::positional_options_description* positional = nullptr;
  std::string usage{};  // printed before the options for --help, and after a bad command line
  // After a bad command line print the usage and "(run with --help for all options)" instead of
  // every option (for long option lists).
  bool brief_errors = false;
};

// Parses argv into *vm. -h/--help prints the usage and the options (stdout) even when other options
// are missing; otherwise the options' variables are set (notify). Returns nullopt when the program
// goes on, else its exit code: 0 after --help, 2 after printing what is wrong with the command line
// (stderr).
std::optional<int> ParseCommandLine(int argc, char** argv, const boost::program_options::options_description& desc,
                                    const CommandLineSpec& spec, boost::program_options::variables_map* vm);

// Sets the process-wide log level from a flag's value (debug, info, warn, error, or zap's numbers).
// False, after printing "<program>: <flag> <value> is not debug, info, warn or error", otherwise.
bool SetLogLevelFromFlag(const std::string& program, const std::string& flag, const std::string& value);

// Blocks SIGTERM and SIGINT in the calling thread, so every thread started afterwards inherits the
// mask and they are taken only by WaitForTerminationSignal; ignores SIGPIPE (a peer that closes a
// connection must not kill the process).
sigset_t BlockTerminationSignals();

// Waits for one of the blocked signals; returns its number.
int WaitForTerminationSignal(const sigset_t& signals);

}  // namespace prescient

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace prescient {

// Serves `registry` on /metrics at bind_address ("HOST:PORT", or ":PORT" for every interface).
// "0" or "" serves nothing (nullptr). The error names the address.
Result<std::unique_ptr<prometheus::Exposer>> ServeMetrics(const std::string& bind_address,
                                                          const std::shared_ptr<prometheus::Registry>& registry);

}  // namespace prescient
