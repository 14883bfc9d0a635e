// prescient-collect: the collection suite as a standalone binary (the same code as
// `prescient collect`, for use before the CLI exists and in hack/collect.sh).
#include "collect/collect_main.h"

int main(int argc, char** argv) { return prescient::collect::CollectMain(argc, argv); }
