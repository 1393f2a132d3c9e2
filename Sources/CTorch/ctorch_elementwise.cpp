// CTorch: fused element-wise ops for inference (ctorch_inference.h).
#include "ctorch_inference.h"

#include "ctorch_internal.h"

using ctorch::T;
using ctorch::wrap;

extern "C" {

ts_error ts_relu_(ts_tensor t) { TS_TRY T(t).relu_(); TS_CATCH }
ts_error ts_addcmul(ts_tensor t, ts_tensor a, ts_tensor b, double value, ts_tensor *out) {
  TS_TRY *out = wrap(at::addcmul(T(t), T(a), T(b), value)); TS_CATCH
}

}  // extern "C"
