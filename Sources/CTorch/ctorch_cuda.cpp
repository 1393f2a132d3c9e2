// CUDA services that need no CUDA headers and no link-time libtorch_cuda: the caching allocator's statistics
// (through c10's device-generic DeviceAllocator), cuDNN/TF32 switches (ATen's global context), and CUDA graphs
// (at::cuda::CUDAGraph, whose methods are looked up in the dlopen'ed libtorch_cuda.so by their mangled names).
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <dlfcn.h>
#include <optional>
#include <utility>

#include "ctorch_internal.h"

using namespace ctorch;

namespace {

c10::DeviceAllocator *cuda_allocator() { return c10::getDeviceAllocator(c10::DeviceType::CUDA); }

constexpr size_t AGGREGATE = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);

// ---- at::cuda::CUDAGraph by symbol ----
// The Itanium C++ ABI passes `this` first; std::pair<unsigned long long, unsigned long long> (MempoolId_t) is
// trivially copyable and travels in two registers; cudaStreamCaptureMode is a C enum (int).
using MempoolId = std::pair<unsigned long long, unsigned long long>;
struct GraphSymbols {
  void (*construct)(void *self, bool keep_graph) = nullptr;
  void (*construct_v0)(void *self) = nullptr;  // torch < 2.6: CUDAGraph()
  void (*destroy)(void *self) = nullptr;
  void (*capture_begin)(void *self, MempoolId pool, int mode) = nullptr;
  void (*capture_end)(void *self) = nullptr;
  void (*replay)(void *self) = nullptr;
  std::string missing;
};

const GraphSymbols &graph_symbols() {
  static const GraphSymbols symbols = [] {
    GraphSymbols s;
    auto find = [&](const char *name) {
      void *p = dlsym(RTLD_DEFAULT, name);
      return p;
    };
    s.construct = reinterpret_cast<decltype(s.construct)>(find("_ZN2at4cuda9CUDAGraphC1Eb"));
    s.construct_v0 = reinterpret_cast<decltype(s.construct_v0)>(find("_ZN2at4cuda9CUDAGraphC1Ev"));
    s.destroy = reinterpret_cast<decltype(s.destroy)>(find("_ZN2at4cuda9CUDAGraphD1Ev"));
    s.capture_begin = reinterpret_cast<decltype(s.capture_begin)>(
        find("_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureMode"));
    s.capture_end = reinterpret_cast<decltype(s.capture_end)>(find("_ZN2at4cuda9CUDAGraph11capture_endEv"));
    s.replay = reinterpret_cast<decltype(s.replay)>(find("_ZN2at4cuda9CUDAGraph6replayEv"));
    if (!s.construct && !s.construct_v0) s.missing += " CUDAGraph::CUDAGraph";
    if (!s.destroy) s.missing += " CUDAGraph::~CUDAGraph";
    if (!s.capture_begin) s.missing += " CUDAGraph::capture_begin(MempoolId_t, cudaStreamCaptureMode)";
    if (!s.capture_end) s.missing += " CUDAGraph::capture_end";
    if (!s.replay) s.missing += " CUDAGraph::replay";
    return s;
  }();
  return symbols;
}

}  // namespace

struct ts_cuda_graph_s {
  // An at::cuda::CUDAGraph constructed in place. Its size is not visible without the CUDA headers; in
  // torch 2.x it is under 200 bytes, so 4 KiB leaves a wide margin.
  alignas(64) unsigned char storage[4096];
  bool constructed = false;
  c10::DeviceIndex device = 0;
  std::optional<c10::Stream> side;      // the stream capture runs on (a non-default one, as CUDA requires)
  std::optional<c10::Stream> previous;  // the stream to restore when leaving the side stream
  std::optional<c10::Device> previous_device;
};

extern "C" {

// ---- memory ----
int64_t ts_cuda_peak_memory(int device) {
  try {
    return cuda_allocator()->getDeviceStats(device).allocated_bytes[AGGREGATE].peak;
  } catch (...) {
    return -1;
  }
}
ts_error ts_cuda_reset_peak_memory(int device) { TS_TRY cuda_allocator()->resetPeakStats(device); TS_CATCH }
ts_error ts_cuda_memory_stats(int device, int64_t *out) {
  TS_TRY auto stats = cuda_allocator()->getDeviceStats(device);
  out[0] = stats.allocated_bytes[AGGREGATE].current;
  out[1] = stats.reserved_bytes[AGGREGATE].current;
  out[2] = stats.allocated_bytes[AGGREGATE].peak;
  out[3] = stats.reserved_bytes[AGGREGATE].peak;
  out[4] = out[5] = -1;
  try {
    auto [free, total] = cuda_allocator()->getMemoryInfo(device);
    out[4] = static_cast<int64_t>(free);
    out[5] = static_cast<int64_t>(total);
  } catch (...) {
  }
  out[6] = stats.num_ooms;
  TS_CATCH
}
ts_error ts_cuda_empty_cache(void) { TS_TRY cuda_allocator()->emptyCache(); TS_CATCH }

// ---- switches ----
void ts_set_cudnn_benchmark(int on) { at::globalContext().setBenchmarkCuDNN(on != 0); }
int ts_cudnn_benchmark(void) { return at::globalContext().benchmarkCuDNN() ? 1 : 0; }
void ts_set_allow_tf32(int matmul, int conv) {
  at::globalContext().setAllowTF32CuBLAS(matmul != 0);
  at::globalContext().setAllowTF32CuDNN(conv != 0);
}
void ts_allow_tf32(int *matmul, int *conv) {
  *matmul = at::globalContext().allowTF32CuBLAS() ? 1 : 0;
  *conv = at::globalContext().allowTF32CuDNN() ? 1 : 0;
}

// ---- CUDA graphs ----
ts_error ts_cuda_graph_new(int device, ts_cuda_graph *out) {
  *out = nullptr;
  const auto &sym = graph_symbols();
  if (!sym.missing.empty()) {
    return error(TS_ERROR_DEVICE, ("CUDA graphs need libtorch_cuda.so loaded with CUDA available; not found:" + sym.missing).c_str());
  }
  TS_TRY TORCH_CHECK(device >= 0 && device < at::detail::getCUDAHooks().deviceCount(), "no CUDA device ", device);
  auto g = std::make_unique<ts_cuda_graph_s>();
  g->device = static_cast<c10::DeviceIndex>(device);
  c10::impl::VirtualGuardImpl impl(c10::DeviceType::CUDA);
  g->side = impl.getStreamFromGlobalPool(c10::Device(c10::DeviceType::CUDA, g->device), false);
  if (sym.construct) sym.construct(g->storage, false);
  else sym.construct_v0(g->storage);
  g->constructed = true;
  *out = g.release();
  TS_CATCH
}

ts_error ts_cuda_graph_side_stream(ts_cuda_graph g, int on) {
  TS_TRY c10::impl::VirtualGuardImpl impl(c10::DeviceType::CUDA);
  if (on) {
    TORCH_CHECK(!g->previous, "already on the graph's stream");
    // Work queued on the current stream must finish before the side stream uses its results.
    at::detail::getCUDAHooks().deviceSynchronize(g->device);
    g->previous_device = impl.exchangeDevice(c10::Device(c10::DeviceType::CUDA, g->device));
    g->previous = impl.exchangeStream(*g->side);
  } else {
    TORCH_CHECK(g->previous, "not on the graph's stream");
    at::detail::getCUDAHooks().deviceSynchronize(g->device);
    impl.exchangeStream(*g->previous);
    if (g->previous_device) impl.setDevice(*g->previous_device);
    g->previous.reset();
    g->previous_device.reset();
  }
  TS_CATCH
}

ts_error ts_cuda_graph_capture_begin(ts_cuda_graph g) {
  TS_TRY TORCH_CHECK(g->previous, "capture must run on the graph's stream (ts_cuda_graph_side_stream(g, 1) first)");
  graph_symbols().capture_begin(g->storage, MempoolId{0, 0}, /*cudaStreamCaptureModeGlobal=*/0);
  TS_CATCH
}
ts_error ts_cuda_graph_capture_end(ts_cuda_graph g) { TS_TRY graph_symbols().capture_end(g->storage); TS_CATCH }
ts_error ts_cuda_graph_replay(ts_cuda_graph g) { TS_TRY graph_symbols().replay(g->storage); TS_CATCH }
void ts_cuda_graph_free(ts_cuda_graph g) {
  if (g == nullptr) return;
  try {
    if (g->previous) ts_error_free(ts_cuda_graph_side_stream(g, 0));
    if (g->constructed) graph_symbols().destroy(g->storage);
  } catch (...) {
  }
  delete g;
}

}  // extern "C"
