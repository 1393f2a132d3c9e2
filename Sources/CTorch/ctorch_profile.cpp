// CTorch: per-operator timing through libtorch's RecordFunction callbacks (see ctorch_profile.h).
// NDEBUG: RecordFunction::inputs() then returns the (possibly empty) recorded inputs instead of asserting for
// operators that were entered without them; only this file's profiler reads them.
#ifndef NDEBUG
#define NDEBUG
#endif
#include "ctorch_profile.h"

#include <ATen/record_function.h>

#include <chrono>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctorch_internal.h"

namespace {

struct Frame {
  std::string name;
  int64_t start;
  int64_t children;
};

struct Stat {
  int64_t calls = 0, total = 0, self = 0, top = 0, topCalls = 0;
};

int64_t now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

thread_local std::vector<Frame> stack;
std::mutex mutex;
std::unordered_map<std::string, Stat> stats;
at::CallbackHandle handle = 0;
bool withShapes = false;

// "name [2,3,8,8] [4,3,3,3]": the operator and the sizes of its tensor inputs.
std::string key(const at::RecordFunction &fn) {
  std::string k = fn.name();
  if (!withShapes) return k;
  for (const auto &v : fn.inputs()) {
    if (!v.isTensor()) continue;
    const auto &t = v.toTensor();
    if (!t.defined()) continue;
    k += " [";
    auto sizes = t.sizes();
    for (size_t i = 0; i < sizes.size(); i++) k += (i ? "," : "") + std::to_string(sizes[i]);
    k += "]";
    if (t.layout() == at::kStrided && t.dim() == 4 && !t.is_contiguous() && t.is_contiguous(at::MemoryFormat::ChannelsLast)) k += "cl";
  }
  return k;
}

std::unique_ptr<at::ObserverContext> onEnter(const at::RecordFunction &fn) {
  stack.push_back(Frame{key(fn), now(), 0});
  return nullptr;
}

void onExit(const at::RecordFunction &, at::ObserverContext *) {
  if (stack.empty()) return;  // started inside an operator that began before the profiler
  int64_t end = now();
  Frame f = std::move(stack.back());
  stack.pop_back();
  int64_t duration = end - f.start;
  bool top = stack.empty();
  if (!top) stack.back().children += duration;
  std::lock_guard<std::mutex> lock(mutex);
  Stat &s = stats[f.name];
  s.calls += 1;
  s.total += duration;
  s.self += duration - f.children;
  if (top) {
    s.top += duration;
    s.topCalls += 1;
  }
}

}  // namespace

extern "C" {

ts_error ts_profiler_start(int record_shapes) {
  TS_TRY TORCH_CHECK(handle == 0, "the op profiler is already running");
  withShapes = record_shapes != 0;
  {
    std::lock_guard<std::mutex> lock(mutex);
    stats.clear();
  }
  stack.clear();
  // Thread-local: ops of the calling thread only (libtorch carries the callback into autograd and intra-op work).
  handle = at::addThreadLocalCallback(at::RecordFunctionCallback(onEnter, onExit).needsInputs(withShapes).needsOutputs(false));
  TS_CATCH
}

ts_error ts_profiler_stop(char **report) {
  TS_TRY TORCH_CHECK(handle != 0, "the op profiler is not running");
  at::removeCallback(handle);
  handle = 0;
  stack.clear();
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto &[name, s] : stats) {
    out << name << '\t' << s.calls << '\t' << s.total << '\t' << s.self << '\t' << s.top << '\t' << s.topCalls << '\n';
  }
  stats.clear();
  *report = ctorch::dup(out.str().c_str());
  TS_CATCH
}

}  // extern "C"
