// Declarations only: the pip libtorch ships torch/csrc/distributed/c10d/ProcessGroupGloo.hpp but not the
// Gloo headers it includes. Gloo is compiled into libtorch_cpu; the c10d header names Gloo types only
// behind shared_ptr/unique_ptr (so they do not change ProcessGroupGloo's layout), plus one inline call
// below. These files declare exactly what that header names, nothing is defined or called from here.
// ctorch_distributed.cpp checks the resulting sizeof(ProcessGroupGloo) against the library's.
#pragma once

#include <chrono>

namespace gloo {
class Context {
 public:
  void setTimeout(std::chrono::milliseconds timeout);  // named by ProcessGroupGloo::setTimeout (never called here)
};
}  // namespace gloo
