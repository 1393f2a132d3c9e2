// Private to the CTorch target: the handle types, small conversions and the single exception barrier that
// every entry point of every CTorch source file uses.
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <functional>
#include <cstring>
#include <string>
#include <vector>

struct ts_tensor_s {
  at::Tensor t;
  // Shape-only twin used while this thread is in meta mode (ctorch_meta.cpp); valid for one meta epoch.
  at::Tensor meta;
  uint64_t meta_epoch = 0;
};
struct ts_guard_s {
  c10::InferenceMode mode;
};
struct ts_error_s {
  ts_error_kind kind;
  char *message;
};

namespace ctorch {

inline char *dup(const char *s) {
  size_t n = std::strlen(s);
  char *r = static_cast<char *>(std::malloc(n + 1));
  if (r) std::memcpy(r, s, n + 1);
  return r;
}

/// An owned error for the entry points that report a failure of their own (not through an exception).
inline ts_error error(ts_error_kind kind, const char *message) { return new ts_error_s{kind, dup(message)}; }
inline ts_error error(const char *message) { return error(TS_ERROR_OTHER, message); }

// ---- meta mode (see ctorch.h and ctorch_meta.cpp) ----
// Nesting depth of ts_meta_mode_enter on this thread; a plain __thread int, so the check in T() costs one load.
extern __thread int meta_depth;
inline bool meta_mode() { return meta_depth != 0; }
/// The shape-only twin of `h` for the current meta epoch (made on first use).
at::Tensor &meta_twin(ts_tensor h);

/// The tensor an op works on: the handle's own, or its shape-only twin in meta mode. Use `h->t` directly
/// only where an op must keep the real tensor's identity (shallow clones) or report its real device.
inline at::Tensor &T(ts_tensor h) { return meta_depth != 0 ? meta_twin(h) : h->t; }
inline ts_tensor wrap(at::Tensor t) { return new ts_tensor_s{std::move(t)}; }
inline c10::optional<at::Tensor> opt(ts_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return T(h);
}
inline at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
inline at::TensorOptions options(int dtype, int dev_type, int dev_index) {
  auto o = at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype));
  if (meta_depth != 0) return o.device(at::kMeta);  // factories allocate nothing in meta mode
  return o.device(c10::Device(static_cast<c10::DeviceType>(dev_type), static_cast<c10::DeviceIndex>(dev_index)));
}
inline std::vector<at::Tensor> list(const ts_tensor *ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(T(ts[i]));
  return v;
}

/// The kind of a caught exception. The CPU allocator reports exhaustion as a plain c10::Error (CAFFE_ENFORCE
/// in c10/core/impl/alloc_cpu.cpp), and device mismatches and a missing accelerator are plain TORCH_CHECKs,
/// so those few are recognised by their fixed message text.
ts_error_kind classify(const c10::Error &e);

// ---- parallel loops (ctorch_parallel.cpp) ----
/// at::parallel_for for code compiled in this target: splits [begin, end) into one contiguous chunk per thread of
/// libtorch's OpenMP pool (serial without one, or inside a parallel region); rethrows the first exception.
void parallelFor(int64_t begin, int64_t end, const std::function<void(int64_t, int64_t)> &body);

// ---- the decode heads' loss (ctorch_loss.cpp) ----
/// Throws unless every target is a class index in [0, classes) or the ignore index (reads the targets: CPU only).
void checkPixelTargets(const at::Tensor &target, int64_t classes, int64_t ignoreIndex);
/// Summed cross-entropy of (pixels, classes) logits with the one-pass backward.
at::Tensor pixelCrossEntropySum(const at::Tensor &logits, const at::Tensor &target, int64_t ignoreIndex);

}  // namespace ctorch

// The single exception barrier: every entry point's body runs inside it.
#define TS_TRY try {
#define TS_CATCH                                                                  \
  return nullptr;                                                                 \
  }                                                                               \
  catch (const c10::Error &e) {                                                   \
    return ctorch::error(ctorch::classify(e), e.what_without_backtrace());        \
  }                                                                               \
  catch (const std::bad_alloc &e) {                                               \
    return ctorch::error(TS_ERROR_OUT_OF_MEMORY, "out of host memory (std::bad_alloc)"); \
  }                                                                               \
  catch (const std::exception &e) {                                               \
    return ctorch::error(e.what());                                               \
  }                                                                               \
  catch (...) {                                                                   \
    return ctorch::error("unknown C++ exception");                                \
  }
