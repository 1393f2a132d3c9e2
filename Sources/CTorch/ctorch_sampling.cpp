// CTorch: point sampling and the binary losses of mask-classification heads (Mask2Former's deformable attention,
// point-sampled mask losses). Same conventions as ctorch.cpp: one function per op behind the exception barrier.
#include "ctorch_internal.h"

using namespace ctorch;

extern "C" {

ts_error ts_grid_sample(ts_tensor input, ts_tensor grid, int mode, int padding_mode, int align_corners, ts_tensor *out) {
  TS_TRY *out = wrap(at::grid_sampler(T(input), T(grid), mode, padding_mode, align_corners != 0)); TS_CATCH
}

ts_error ts_binary_cross_entropy_with_logits(ts_tensor logits, ts_tensor target, ts_tensor weight, ts_tensor pos_weight,
                                             int reduction, ts_tensor *out) {
  TS_TRY *out = wrap(at::binary_cross_entropy_with_logits(T(logits), T(target), opt(weight), opt(pos_weight), reduction));
  TS_CATCH
}

}  // extern "C"
