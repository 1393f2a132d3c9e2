/*
 * CTorch: what the inference path needs beyond ctorch.h: memory formats, a fused multiply-add, and the oneDNN
 * (mkldnn) and MKL kernels that PyTorch's inductor calls when it freezes a model for the CPU: weights reordered
 * once into the kernel's blocked layout, bias and a pointwise op (or an addition) applied in the same pass.
 * Same conventions as ctorch.h.
 */
#ifndef CTORCH_INFERENCE_H
#define CTORCH_INFERENCE_H

#include "ctorch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- element-wise (ctorch_elementwise.cpp) ---- */
/* In-place ReLU (inference only: autograd may need the input). */
ts_error ts_relu_(ts_tensor t);
/* t + value * a * b in one pass (torch.addcmul). */
ts_error ts_addcmul(ts_tensor t, ts_tensor a, ts_tensor b, double value, ts_tensor *out);

/* ---- oneDNN and MKL (ctorch_mkldnn.cpp) ---- */
int ts_mkldnn_available(void);
int ts_mkl_available(void);

/* A conv weight [O, I/groups, kh, kw] reordered for oneDNN: an opaque tensor for ts_mkldnn_conv2d only.
   input_size (4 values, nullable) is a shape hint. */
ts_error ts_mkldnn_pack_conv2d_weight(ts_tensor w, const int64_t *padding, const int64_t *stride, const int64_t *dilation,
                                      int64_t groups, const int64_t *input_size, ts_tensor *out);
/* unary(conv(x) + bias), channels-last output. attr: "none", "relu", "gelu", "hardswish", "swish", "sigmoid", "tanh";
   algorithm (nullable): "none" (exact) or "tanh" for gelu. */
ts_error ts_mkldnn_conv2d(ts_tensor x, ts_tensor packed_w, ts_tensor b, const int64_t *padding, const int64_t *stride,
                          const int64_t *dilation, int64_t groups, const char *attr, const char *algorithm, ts_tensor *out);
/* unary(conv(x) + bias + other), a new channels-last tensor; other has the output's shape. unary_attr nullable. */
ts_error ts_mkldnn_conv2d_add(ts_tensor x, ts_tensor other, ts_tensor packed_w, ts_tensor b, const int64_t *padding,
                              const int64_t *stride, const int64_t *dilation, int64_t groups, const char *unary_attr,
                              ts_tensor *out);

/* other += conv(x) + bias (then ReLU if relu), in place: oneDNN's sum post-op writes into a channels-last `other`. */
ts_error ts_mkldnn_conv2d_add_(ts_tensor other, ts_tensor x, ts_tensor packed_w, ts_tensor b, const int64_t *padding,
                               const int64_t *stride, const int64_t *dilation, int64_t groups, int relu);

/* A linear weight [out, in] reordered for oneDNN (batch_size <= 0: no hint). */
ts_error ts_mkldnn_pack_linear_weight(ts_tensor w, int64_t batch_size, ts_tensor *out);
/* unary(x W^T + bias) over the last dimension of x. */
ts_error ts_mkldnn_linear(ts_tensor x, ts_tensor packed_w, ts_tensor b, const char *attr, const char *algorithm, ts_tensor *out);
/* x W^T + bias + other (other: the output's shape). */
ts_error ts_mkldnn_linear_add(ts_tensor x, ts_tensor other, ts_tensor packed_w, ts_tensor b, ts_tensor *out);

/* MKL's packed sgemm: a weight packed for exactly `batch_size` rows (the product of x's leading dimensions);
   ts_mkl_linear falls back to the plain weight `w` for other row counts. */
ts_error ts_mkl_pack_linear_weight(ts_tensor w, int64_t batch_size, ts_tensor *out);
ts_error ts_mkl_linear(ts_tensor x, ts_tensor packed_w, ts_tensor w, ts_tensor b, int64_t batch_size, ts_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_INFERENCE_H */
