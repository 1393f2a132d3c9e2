// CTorch: resampling ops beyond the bilinear/nearest pair in ctorch.cpp.
#include "ctorch_internal.h"

using ctorch::dims;
using ctorch::T;
using ctorch::wrap;

extern "C" {

ts_error ts_upsample_bicubic2d(ts_tensor x, const int64_t *size, int align_corners, ts_tensor *out) {
  TS_TRY *out = wrap(at::upsample_bicubic2d(T(x), dims(size, 2), align_corners != 0)); TS_CATCH
}

}  // extern "C"
