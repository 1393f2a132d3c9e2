// CTorch: the pixel cross-entropy of the decode heads with a one-pass backward.
//
// ATen's cross_entropy backward over a (pixels x classes) map allocates a zero-filled gradient for nll_loss and then
// a second full-size tensor for log_softmax's backward: two extra map-sized writes and 2x the map's memory at the
// training step's peak (315 MB each at 2 x 150 x 512 x 512). The gradient is softmax(z) - onehot(target) on valid
// rows and 0 on ignored ones, so the backward here writes it once: exp of the saved log-probabilities, -1 at each
// target, rows scaled by the incoming gradient (0 where ignored).
#include "ctorch_internal.h"

#include <torch/csrc/autograd/custom_function.h>

using namespace ctorch;

namespace {

struct PixelCrossEntropySum : public torch::autograd::Function<PixelCrossEntropySum> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx, at::Tensor logits,
                                                at::Tensor target, int64_t ignoreIndex) {
    TORCH_CHECK(logits.dim() == 2, "pixel cross-entropy expects (pixels, classes) logits, got ", logits.sizes());
    TORCH_CHECK(target.dim() == 1 && target.size(0) == logits.size(0), "pixel cross-entropy: target ", target.sizes(),
                " does not match logits ", logits.sizes());
    TORCH_CHECK(!c10::isFloatingType(target.scalar_type()), "pixel cross-entropy: target must hold class indices");
    auto valid = target != ignoreIndex;
    // On CUDA gather's device-side check reports out-of-range labels, without a host synchronisation every step.
    if (!target.is_cuda()) checkPixelTargets(target, logits.size(1), ignoreIndex);
    // Reduced-precision logits (autocast) are computed in float32, as autocast runs cross_entropy.
    auto z = c10::isReducedFloatingType(logits.scalar_type()) ? logits.to(at::kFloat) : logits;
    auto logp = at::log_softmax(z.contiguous(), 1);
    auto index = target.masked_fill(valid.logical_not(), 0).unsqueeze(1);
    auto picked = logp.gather(1, index).squeeze(1);
    auto loss = at::where(valid, picked, at::zeros({}, picked.options())).sum().neg();
    ctx->save_for_backward({logp, index, valid});
    ctx->saved_data["dtype"] = static_cast<int64_t>(logits.scalar_type());
    return {loss};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &logp = saved[0], &index = saved[1], &valid = saved[2];
    auto rowScale = valid.to(logp.scalar_type()).mul(grads[0].to(logp.scalar_type())).unsqueeze(1);
    auto grad = logp.exp();
    grad.scatter_add_(1, index, at::full_like(index, -1, logp.options()));
    grad.mul_(rowScale);
    auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    return {grad.to(dtype), at::Tensor(), at::Tensor()};  // to() returns grad itself when the dtype matches
  }
};

}  // namespace

namespace ctorch {

void checkPixelTargets(const at::Tensor &target, int64_t classes, int64_t ignoreIndex) {
  TORCH_CHECK(!c10::isFloatingType(target.scalar_type()), "pixel cross-entropy: target must hold class indices");
  auto outOfRange = target.ne(ignoreIndex).logical_and(target.lt(0).logical_or(target.ge(classes)));
  TORCH_CHECK(!outOfRange.any().item<bool>(), "pixel cross-entropy: a target is outside [0, ", classes,
              ") and not the ignore index ", ignoreIndex);
}

at::Tensor pixelCrossEntropySum(const at::Tensor &logits, const at::Tensor &target, int64_t ignoreIndex) {
  return PixelCrossEntropySum::apply(logits, target, ignoreIndex)[0];
}

}  // namespace ctorch

extern "C" {

ts_error ts_pixel_cross_entropy_sum(ts_tensor logits, ts_tensor target, int64_t ignore_index, ts_tensor *out) {
  TS_TRY *out = wrap(pixelCrossEntropySum(T(logits), T(target), ignore_index)); TS_CATCH
}

}  // extern "C"
