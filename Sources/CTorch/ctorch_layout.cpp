// CTorch: memory formats and fused element-wise ops (ctorch_inference.h).
#include "ctorch_inference.h"

#include "ctorch_internal.h"

using ctorch::T;
using ctorch::wrap;

namespace {
at::MemoryFormat format(int f) {
  TORCH_CHECK(f == 0 || f == 1, "unknown memory format code ", f);
  return f == 1 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}
}  // namespace

extern "C" {

ts_error ts_contiguous_format(ts_tensor t, int f, ts_tensor *out) { TS_TRY *out = wrap(T(t).contiguous(format(f))); TS_CATCH }
int ts_is_contiguous_format(ts_tensor t, int f) {
  try {
    return T(t).is_contiguous(format(f)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
ts_error ts_relu_(ts_tensor t) { TS_TRY T(t).relu_(); TS_CATCH }
ts_error ts_addcmul(ts_tensor t, ts_tensor a, ts_tensor b, double value, ts_tensor *out) {
  TS_TRY *out = wrap(at::addcmul(T(t), T(a), T(b), value)); TS_CATCH
}

}  // extern "C"
