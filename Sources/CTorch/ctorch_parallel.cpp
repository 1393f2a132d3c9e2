// CTorch: parallel loops on libtorch's own OpenMP thread pool.
//
// at::parallel_for is a header template whose parallelism is a `#pragma omp parallel` compiled into the caller;
// this target is built without OpenMP (Swift's clang would emit LLVM's libomp ABI, not the libgomp that libtorch
// ships and runs), so there it silently runs serially. GOMP_parallel is what GCC lowers that pragma to: calling
// it from the loaded libgomp runs the loop on the same threads, and the same thread count, as ATen's own kernels.
#include "ctorch_internal.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <dlfcn.h>
#include <exception>

namespace ctorch {
namespace {

struct OpenMPRuntime {
  void (*parallel)(void (*)(void *), void *, unsigned, unsigned) = nullptr;
  int (*threadNumber)() = nullptr;
  int (*threadCount)() = nullptr;
};

/// libgomp's entry points if libtorch loaded it (a build without OpenMP, e.g. on macOS, has none: loops run serially).
const OpenMPRuntime &openMP() {
  static const OpenMPRuntime runtime = [] {
    OpenMPRuntime r;
    r.parallel = reinterpret_cast<decltype(r.parallel)>(dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    r.threadNumber = reinterpret_cast<decltype(r.threadNumber)>(dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
    r.threadCount = reinterpret_cast<decltype(r.threadCount)>(dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
    if (!r.threadNumber || !r.threadCount) r.parallel = nullptr;
    return r;
  }();
  return runtime;
}

struct Loop {
  int64_t begin, end;
  const std::function<void(int64_t, int64_t)> *body;
  const OpenMPRuntime *runtime;
  std::atomic_flag failed = ATOMIC_FLAG_INIT;
  std::exception_ptr error;
};

/// One thread's share: as ATen's invoke_parallel, one contiguous chunk per thread; an exception is kept for the caller
/// (it must not unwind through libgomp's frames).
void runShare(void *context) {
  auto &loop = *static_cast<Loop *>(context);
  const int64_t threads = loop.runtime->threadCount(), thread = loop.runtime->threadNumber();
  const int64_t chunk = (loop.end - loop.begin + threads - 1) / threads, begin = loop.begin + thread * chunk;
  if (begin >= loop.end) return;
  try {
    (*loop.body)(begin, std::min(loop.end, begin + chunk));
  } catch (...) {
    if (!loop.failed.test_and_set()) loop.error = std::current_exception();
  }
}

}  // namespace

void parallelFor(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)> &body) {
  const OpenMPRuntime &runtime = openMP();
  if (end - begin < 2 || runtime.parallel == nullptr || at::get_num_threads() < 2 || at::in_parallel_region()) {
    if (begin < end) body(begin, end);
    return;
  }
  Loop loop{begin, end, &body, &runtime};
  runtime.parallel(runShare, &loop, 0 /* the pool's size, as at::set_num_threads set it */, 0);
  if (loop.error) std::rethrow_exception(loop.error);
}

}  // namespace ctorch
