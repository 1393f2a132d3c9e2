// Meta mode: after an out-of-memory error inside non-throwing model code, the rest of that code runs on
// shape-only ("meta") twins of its tensors, so it reaches the point where the Swift layer can throw.
//
// In meta mode every handle an op touches is replaced by its twin (ctorch::T), factories make meta tensors
// (ctorch::options), values read back as zeros and backward does nothing (ctorch.cpp). Real tensors are never
// written. libtorch's C++ build lacks meta kernels for some ops that PyTorch covers from Python
// (torch/_meta_registrations.py); the ones the shim's ops reach are registered below, shapes only.
#include <ATen/ATen.h>
#include <ATen/ExpandUtils.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include <atomic>

#include "ctorch_internal.h"

namespace ctorch {

__thread int meta_depth = 0;

namespace {
// Twins made in an earlier meta episode are stale (the handle may since hold another tensor).
std::atomic<uint64_t> meta_epoch{1};
__thread uint64_t thread_epoch = 0;
}  // namespace

at::Tensor &meta_twin(ts_tensor h) {
  if (!h->t.defined() || h->t.is_meta()) return h->t;
  if (h->meta_epoch != thread_epoch || !h->meta.defined()) {
    // Same sizes, strides and dtype; no storage, no autograd history (so backward has nothing to do).
    h->meta = at::empty_strided(h->t.sizes(), h->t.strides(), h->t.options().device(at::kMeta).requires_grad(false));
    h->meta_epoch = thread_epoch;
  }
  return h->meta;
}

}  // namespace ctorch

extern "C" {

void ts_meta_mode_enter(void) {
  if (ctorch::meta_depth++ == 0) ctorch::thread_epoch = ctorch::meta_epoch.fetch_add(1);
}
void ts_meta_mode_exit(void) {
  if (ctorch::meta_depth > 0) ctorch::meta_depth--;
}
int ts_meta_mode_active(void) { return ctorch::meta_depth != 0 ? 1 : 0; }

}  // extern "C"

// ---- meta kernels missing from libtorch's C++ build (shapes only, as torch/_meta_registrations.py) ----
namespace {

int64_t I(const c10::SymInt &s) { return s.expect_int(); }

at::Tensor convolution_meta(const at::Tensor &input, const at::Tensor &weight, const std::optional<at::Tensor> &bias,
                            c10::SymIntArrayRef stride, c10::SymIntArrayRef padding, c10::SymIntArrayRef dilation,
                            bool transposed, c10::SymIntArrayRef output_padding, c10::SymInt groups) {
  (void)bias;
  const int64_t spatial = input.dim() - 2;
  auto at = [](c10::SymIntArrayRef a, int64_t i) { return I(a[a.size() == 1 ? 0 : i]); };
  std::vector<int64_t> shape{input.size(0), transposed ? weight.size(1) * I(groups) : weight.size(0)};
  for (int64_t d = 0; d < spatial; d++) {
    int64_t in = input.size(d + 2), k = weight.size(d + 2);
    int64_t s = at(stride, d), p = at(padding, d), dl = at(dilation, d);
    if (transposed) {
      shape.push_back((in - 1) * s - 2 * p + dl * (k - 1) + at(output_padding, d) + 1);
    } else {
      shape.push_back((in + 2 * p - dl * (k - 1) - 1) / s + 1);
    }
  }
  return at::empty(shape, input.options());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> native_batch_norm_meta(
    const at::Tensor &input, const std::optional<at::Tensor> &, const std::optional<at::Tensor> &,
    const std::optional<at::Tensor> &, const std::optional<at::Tensor> &, bool training, double, double) {
  // Saved statistics per channel (dim 1); layer and group norm reach this through their math fallbacks.
  int64_t c = input.dim() > 1 ? input.size(1) : 1;
  auto stats = at::empty({training ? c : 0}, input.options().dtype(at::toOpMathType(input.scalar_type())));
  return {at::empty_like(input), stats, stats.clone()};
}

at::Tensor adaptive_avg_pool2d_meta(const at::Tensor &self, c10::SymIntArrayRef size) {
  auto shape = self.sizes().vec();
  shape[shape.size() - 2] = I(size[0]);
  shape[shape.size() - 1] = I(size[1]);
  return at::empty(shape, self.options());
}

at::Tensor where_meta(const at::Tensor &cond, const at::Tensor &self, const at::Tensor &other) {
  auto shape = at::infer_size(cond.sizes(), at::infer_size(self.sizes(), other.sizes()));
  return at::empty(shape, self.options().dtype(at::result_type(self, other)));
}

at::Tensor &where_out_meta(const at::Tensor &cond, const at::Tensor &self, const at::Tensor &other, at::Tensor &out) {
  out.resize_(at::infer_size(cond.sizes(), at::infer_size(self.sizes(), other.sizes())));
  return out;
}

std::tuple<at::Tensor, at::Tensor> nll_loss2d_forward_meta(const at::Tensor &self, const at::Tensor &target,
                                                          const std::optional<at::Tensor> &, int64_t reduction, c10::SymInt) {
  auto output = reduction == 0 ? at::empty(target.sizes(), self.options()) : at::empty({}, self.options());
  return {output, at::empty({}, self.options())};
}

at::Tensor index_select_meta(const at::Tensor &self, int64_t dim, const at::Tensor &index) {
  auto shape = self.sizes().vec();
  if (!shape.empty()) shape[c10::maybe_wrap_dim(dim, self.dim())] = index.numel();
  return at::empty(shape, self.options());
}

at::Tensor var_meta(const at::Tensor &self, at::OptionalIntArrayRef dim, const std::optional<at::Scalar> &, bool keepdim) {
  return at::sum(self, dim, keepdim);  // the same reduced shape; sum has a meta kernel
}

at::Tensor flip_meta(const at::Tensor &self, at::IntArrayRef) { return at::empty_like(self); }

at::Tensor relu_meta(const at::Tensor &self) { return at::empty_like(self); }
at::Tensor isnan_meta(const at::Tensor &self) { return at::empty_like(self, self.options().dtype(at::kBool)); }

// Element-wise `out=` kernels: the result takes the (broadcast) input shape in the out tensor's dtype.
at::Tensor &unary_out_meta(const at::Tensor &self, at::Tensor &out) {
  out.resize_(self.sizes());
  return out;
}
at::Tensor &binary_out_meta(const at::Tensor &self, const at::Tensor &other, at::Tensor &out) {
  out.resize_(at::infer_size(self.sizes(), other.sizes()));
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, Meta, m) {
  m.impl("convolution_overrideable", TORCH_FN(convolution_meta));
  m.impl("native_batch_norm", TORCH_FN(native_batch_norm_meta));
  m.impl("_adaptive_avg_pool2d", TORCH_FN(adaptive_avg_pool2d_meta));
  m.impl("where.self", TORCH_FN(where_meta));
  m.impl("where.self_out", TORCH_FN(where_out_meta));
  m.impl("nll_loss2d_forward", TORCH_FN(nll_loss2d_forward_meta));
  m.impl("index_select", TORCH_FN(index_select_meta));
  m.impl("var.correction", TORCH_FN(var_meta));
  m.impl("flip", TORCH_FN(flip_meta));
  m.impl("relu", TORCH_FN(relu_meta));
  m.impl("isnan", TORCH_FN(isnan_meta));
  m.impl("abs.out", TORCH_FN(unary_out_meta));
  m.impl("logical_not.out", TORCH_FN(unary_out_meta));
  m.impl("logical_and.out", TORCH_FN(binary_out_meta));
  m.impl("logical_or.out", TORCH_FN(binary_out_meta));
}
