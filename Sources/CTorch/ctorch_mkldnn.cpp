// CTorch: oneDNN and MKL inference kernels (ctorch_inference.h). These are the ops inductor's CPU freezing pass
// emits; they are registered with the dispatcher (not in the at:: namespace), so they are looked up by schema
// once and called through typed handles.
#include "ctorch_inference.h"

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <optional>
#include <string_view>

#include "ctorch_internal.h"

using ctorch::dims;
using ctorch::opt;
using ctorch::T;
using ctorch::wrap;

namespace {

using Scalars = c10::List<std::optional<at::Scalar>>;
using OptString = std::optional<std::string_view>;

template <typename Signature>
c10::TypedOperatorHandle<Signature> lookup(const char *name, const char *overload) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload).typed<Signature>();
}

using ConvSig = at::Tensor(const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &, at::IntArrayRef,
                           at::IntArrayRef, at::IntArrayRef, int64_t, std::string_view, Scalars, OptString);
using ConvBinarySig = at::Tensor(const at::Tensor &, const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &,
                                 at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, int64_t, std::string_view,
                                 std::optional<at::Scalar>, OptString, Scalars, OptString);
using ConvBinaryInplaceSig = at::Tensor &(at::Tensor &, const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &,
                                         at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, int64_t, std::string_view,
                                         std::optional<at::Scalar>, OptString, Scalars, OptString);
using ConvPackSig = at::Tensor(const at::Tensor &, at::IntArrayRef, at::IntArrayRef, at::IntArrayRef, int64_t, at::OptionalIntArrayRef);
using LinearSig = at::Tensor(const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &, std::string_view, Scalars,
                             OptString);
using LinearBinarySig = at::Tensor(const at::Tensor &, const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &,
                                   std::string_view);
using LinearPackSig = at::Tensor(const at::Tensor &, std::optional<int64_t>);
using MklPackSig = at::Tensor(const at::Tensor &, int64_t);
using MklLinearSig = at::Tensor(const at::Tensor &, const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &, int64_t);

OptString text(const char *s) { return s ? OptString(s) : std::nullopt; }

}  // namespace

extern "C" {

int ts_mkldnn_available(void) { return at::hasMKLDNN() ? 1 : 0; }
int ts_mkl_available(void) { return at::hasMKL() ? 1 : 0; }

ts_error ts_mkldnn_pack_conv2d_weight(ts_tensor w, const int64_t *padding, const int64_t *stride, const int64_t *dilation,
                                      int64_t groups, const int64_t *input_size, ts_tensor *out) {
  TS_TRY static auto op = lookup<ConvPackSig>("mkldnn::_reorder_convolution_weight", "");
  at::OptionalIntArrayRef size;
  if (input_size) size = dims(input_size, 4);
  *out = wrap(op.call(T(w), dims(padding, 2), dims(stride, 2), dims(dilation, 2), groups, size));
  TS_CATCH
}

ts_error ts_mkldnn_conv2d(ts_tensor x, ts_tensor w, ts_tensor b, const int64_t *padding, const int64_t *stride,
                          const int64_t *dilation, int64_t groups, const char *attr, const char *algorithm, ts_tensor *out) {
  TS_TRY static auto op = lookup<ConvSig>("mkldnn::_convolution_pointwise", "");
  *out = wrap(op.call(T(x), T(w), opt(b), dims(padding, 2), dims(stride, 2), dims(dilation, 2), groups, attr, Scalars(),
                      text(algorithm)));
  TS_CATCH
}

ts_error ts_mkldnn_conv2d_add(ts_tensor x, ts_tensor other, ts_tensor w, ts_tensor b, const int64_t *padding,
                              const int64_t *stride, const int64_t *dilation, int64_t groups, const char *unary_attr,
                              ts_tensor *out) {
  TS_TRY static auto op = lookup<ConvBinarySig>("mkldnn::_convolution_pointwise", "binary");
  *out = wrap(op.call(T(x), T(other), T(w), opt(b), dims(padding, 2), dims(stride, 2), dims(dilation, 2), groups, "add",
                      std::nullopt, text(unary_attr), Scalars(), std::nullopt));
  TS_CATCH
}

ts_error ts_mkldnn_conv2d_add_(ts_tensor other, ts_tensor x, ts_tensor w, ts_tensor b, const int64_t *padding, const int64_t *stride,
                               const int64_t *dilation, int64_t groups, int relu) {
  TS_TRY static auto op = lookup<ConvBinaryInplaceSig>("mkldnn::_convolution_pointwise_", "binary");
  op.call(T(other), T(x), T(w), opt(b), dims(padding, 2), dims(stride, 2), dims(dilation, 2), groups, "add", std::nullopt,
          relu ? OptString("relu") : std::nullopt, Scalars(), std::nullopt);
  TS_CATCH
}

ts_error ts_mkldnn_pack_linear_weight(ts_tensor w, int64_t batch_size, ts_tensor *out) {
  TS_TRY static auto op = lookup<LinearPackSig>("mkldnn::_reorder_linear_weight", "");
  *out = wrap(op.call(T(w), batch_size > 0 ? std::optional<int64_t>(batch_size) : std::nullopt));
  TS_CATCH
}

ts_error ts_mkldnn_linear(ts_tensor x, ts_tensor w, ts_tensor b, const char *attr, const char *algorithm, ts_tensor *out) {
  TS_TRY static auto op = lookup<LinearSig>("mkldnn::_linear_pointwise", "");
  *out = wrap(op.call(T(x), T(w), opt(b), attr, Scalars(), text(algorithm)));
  TS_CATCH
}

ts_error ts_mkldnn_linear_add(ts_tensor x, ts_tensor other, ts_tensor w, ts_tensor b, ts_tensor *out) {
  TS_TRY static auto op = lookup<LinearBinarySig>("mkldnn::_linear_pointwise", "binary");
  *out = wrap(op.call(T(x), T(other), T(w), opt(b), "add"));
  TS_CATCH
}

ts_error ts_mkl_pack_linear_weight(ts_tensor w, int64_t batch_size, ts_tensor *out) {
  TS_TRY static auto op = lookup<MklPackSig>("mkl::_mkl_reorder_linear_weight", "");
  *out = wrap(op.call(T(w), batch_size));
  TS_CATCH
}

ts_error ts_mkl_linear(ts_tensor x, ts_tensor packed_w, ts_tensor w, ts_tensor b, int64_t batch_size, ts_tensor *out) {
  TS_TRY static auto op = lookup<MklLinearSig>("mkl::_mkl_linear", "");
  *out = wrap(op.call(T(x), T(packed_w), T(w), opt(b), batch_size));
  TS_CATCH
}

}  // extern "C"
