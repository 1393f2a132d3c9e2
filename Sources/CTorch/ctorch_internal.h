// Private to the CTorch target: the handle types, small conversions and the single exception barrier that
// every entry point of every CTorch source file uses.
#pragma once

#include "ctorch.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <cstring>
#include <vector>

struct ts_tensor_s {
  at::Tensor t;
};
struct ts_guard_s {
  c10::InferenceMode mode;
};

namespace ctorch {

inline char *dup(const char *s) {
  size_t n = std::strlen(s);
  char *r = static_cast<char *>(std::malloc(n + 1));
  if (r) std::memcpy(r, s, n + 1);
  return r;
}

inline at::Tensor &T(ts_tensor h) { return h->t; }
inline ts_tensor wrap(at::Tensor t) { return new ts_tensor_s{std::move(t)}; }
inline c10::optional<at::Tensor> opt(ts_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return h->t;
}
inline at::IntArrayRef dims(const int64_t *p, int n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
inline at::TensorOptions options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions()
      .dtype(static_cast<at::ScalarType>(dtype))
      .device(c10::Device(static_cast<c10::DeviceType>(dev_type), static_cast<c10::DeviceIndex>(dev_index)));
}
inline std::vector<at::Tensor> list(const ts_tensor *ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(ts[i]->t);
  return v;
}

}  // namespace ctorch

// The single exception barrier: every entry point's body runs inside it.
#define TS_TRY try {
#define TS_CATCH                                              \
  return nullptr;                                             \
  }                                                           \
  catch (const c10::Error &e) {                               \
    return ctorch::dup(e.what_without_backtrace());                 \
  }                                                           \
  catch (const std::exception &e) {                           \
    return ctorch::dup(e.what());                             \
  }                                                           \
  catch (...) {                                               \
    return ctorch::dup("unknown C++ exception");              \
  }

