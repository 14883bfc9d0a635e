// `prescient collect`: runs the seeded suite of real commands on this machine, each in its own
// cgroup and measured by the agent's monitor (src/exec), and appends one history line per run to
// the output file. Resumable: runs already in the output (same seed) are skipped. See
// src/collect/README.md. Not reentrant (installs SIGINT/SIGTERM handlers).
#pragma once

namespace prescient::collect {

// argv[0] is the command name ("collect"); returns the process exit code.
int CollectMain(int argc, char** argv);

}  // namespace prescient::collect
