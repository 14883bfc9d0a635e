// Subcommands of the `prescient` binary. Each takes the arguments after its name and returns the
// process exit code (0 ok, 1 runtime error, 2 usage error). Output on stdout, structured logs
// (JSON lines) on stderr.
#pragma once

namespace prescient::cli {

int PredictMain(int argc, char** argv);
int TrainMain(int argc, char** argv);
int EvaluateMain(int argc, char** argv);

}  // namespace prescient::cli
