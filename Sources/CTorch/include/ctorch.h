/*
 * CTorch: the thin C ABI over libtorch that SwiftSeg's Swift layer calls.
 *
 * Conventions (after tch-rs's torch_api.h):
 *  - ts_tensor is an opaque, owned handle to one at::Tensor; free it with ts_free.
 *  - Every fallible function returns a ts_error: NULL on success, otherwise an owned message
 *    (libtorch's text without the C++ backtrace) to free with ts_error_free. No C++ exception
 *    crosses this boundary and nothing here aborts the process.
 *  - Results are written through `out` pointers. Integer lists are (pointer, count) pairs.
 *  - dtype codes are c10::ScalarType values; device types are c10::DeviceType values (0 CPU, 1 CUDA).
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_tensor_s *ts_tensor;
typedef char *ts_error;
typedef struct ts_guard_s *ts_guard;

void ts_error_free(ts_error err);
void ts_free(ts_tensor t);

/* ---- library ---- */
const char *ts_version(void);
ts_error ts_manual_seed(uint64_t seed);
int ts_get_num_threads(void);
ts_error ts_set_num_threads(int n);
/* Loads libtorch_cuda.so from libtorch_cpu's folder (dlopen) so CUDA kernels register.
   Returns 1 when CUDA is usable; otherwise 0 and *reason (owned, free with ts_error_free). */
int ts_cuda_load(char **reason);
int ts_cuda_device_count(void);
ts_error ts_cuda_synchronize(int device);
/* Peak bytes held by the CUDA caching allocator on `device` since the last reset (-1 if unknown). */
int64_t ts_cuda_peak_memory(int device);
ts_error ts_cuda_reset_peak_memory(int device);

/* glibc allocator: keep freed blocks in the process (no mmap/unmap per large tensor). */
void ts_keep_freed_memory(void);

/* Flush denormal floats to zero on this thread (threads created later inherit it). 1 if supported. */
int ts_set_flush_denormal(int on);

/* ---- autograd state ---- */
int ts_grad_enabled(void);
void ts_set_grad_enabled(int enabled);
ts_guard ts_inference_mode_enter(void);
void ts_inference_mode_exit(ts_guard g);

/* ---- tensor info ---- */
int64_t ts_dim(ts_tensor t);
void ts_sizes(ts_tensor t, int64_t *out);
void ts_strides(ts_tensor t, int64_t *out);
int ts_dtype(ts_tensor t);
int ts_device_type(ts_tensor t);
int ts_device_index(ts_tensor t);
int64_t ts_numel(ts_tensor t);
int ts_is_contiguous(ts_tensor t);
int ts_requires_grad(ts_tensor t);
int ts_defined(ts_tensor t);
ts_error ts_to_string(ts_tensor t, char **out);

/* ---- creation ---- */
ts_error ts_empty(const int64_t *shape, int nd, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_zeros(const int64_t *shape, int nd, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_ones(const int64_t *shape, int nd, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_full(const int64_t *shape, int nd, double value, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_arange(double start, double end, double step, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_linspace(double start, double end, int64_t steps, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_rand(const int64_t *shape, int nd, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_randn(const int64_t *shape, int nd, int dtype, int dev_type, int dev_index, ts_tensor *out);
ts_error ts_randint(int64_t low, int64_t high, const int64_t *shape, int nd, int dtype, int dev_type, int dev_index, ts_tensor *out);
/* Copies `nbytes` of host memory into a new CPU tensor. */
ts_error ts_from_data(const void *data, size_t nbytes, const int64_t *shape, int nd, int dtype, ts_tensor *out);
/* Copies the tensor (any device/layout) into host memory as contiguous bytes. */
ts_error ts_copy_to_host(ts_tensor t, void *dst, size_t nbytes);
ts_error ts_item_double(ts_tensor t, double *out);
ts_error ts_item_int64(ts_tensor t, int64_t *out);

/* ---- conversion / autograd ---- */
ts_error ts_to(ts_tensor t, int dtype, int dev_type, int dev_index, int copy, ts_tensor *out);
ts_error ts_contiguous(ts_tensor t, ts_tensor *out);
ts_error ts_clone(ts_tensor t, ts_tensor *out);
ts_error ts_detach(ts_tensor t, ts_tensor *out);
ts_error ts_shallow_clone(ts_tensor t, ts_tensor *out);
ts_error ts_set_requires_grad(ts_tensor t, int requires);
ts_error ts_grad(ts_tensor t, ts_tensor *out); /* *out NULL when no gradient */
ts_error ts_zero_grad(ts_tensor t);
ts_error ts_backward(ts_tensor t, ts_tensor grad /* nullable */, int retain_graph);
ts_error ts_autograd_grad(const ts_tensor *outputs, int n_out, const ts_tensor *inputs, int n_in,
                          int create_graph, ts_tensor *out_grads);

/* ---- shape ---- */
ts_error ts_reshape(ts_tensor t, const int64_t *shape, int nd, ts_tensor *out);
ts_error ts_view(ts_tensor t, const int64_t *shape, int nd, ts_tensor *out);
ts_error ts_permute(ts_tensor t, const int64_t *dims, int nd, ts_tensor *out);
ts_error ts_transpose(ts_tensor t, int64_t d0, int64_t d1, ts_tensor *out);
ts_error ts_flatten(ts_tensor t, int64_t start, int64_t end, ts_tensor *out);
ts_error ts_squeeze(ts_tensor t, int64_t dim, ts_tensor *out);
ts_error ts_unsqueeze(ts_tensor t, int64_t dim, ts_tensor *out);
ts_error ts_expand(ts_tensor t, const int64_t *shape, int nd, ts_tensor *out);
ts_error ts_repeat(ts_tensor t, const int64_t *reps, int nd, ts_tensor *out);
ts_error ts_cat(const ts_tensor *ts, int n, int64_t dim, ts_tensor *out);
ts_error ts_stack(const ts_tensor *ts, int n, int64_t dim, ts_tensor *out);
ts_error ts_split_with_sizes(ts_tensor t, const int64_t *sizes, int n, int64_t dim, ts_tensor *outs);
ts_error ts_narrow(ts_tensor t, int64_t dim, int64_t start, int64_t length, ts_tensor *out);
ts_error ts_slice(ts_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ts_tensor *out);
ts_error ts_select(ts_tensor t, int64_t dim, int64_t index, ts_tensor *out);
ts_error ts_index_select(ts_tensor t, int64_t dim, ts_tensor index, ts_tensor *out);
ts_error ts_gather(ts_tensor t, int64_t dim, ts_tensor index, ts_tensor *out);
ts_error ts_masked_fill(ts_tensor t, ts_tensor mask, double value, ts_tensor *out);
ts_error ts_where(ts_tensor cond, ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_constant_pad(ts_tensor t, const int64_t *pad, int n, double value, ts_tensor *out);
ts_error ts_flip(ts_tensor t, const int64_t *dims, int nd, ts_tensor *out);

/* ---- element-wise ---- */
ts_error ts_add(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_sub(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_mul(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_div(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_add_scalar(ts_tensor a, double s, ts_tensor *out);
ts_error ts_mul_scalar(ts_tensor a, double s, ts_tensor *out);
ts_error ts_div_scalar(ts_tensor a, double s, ts_tensor *out);
ts_error ts_rsub_scalar(ts_tensor a, double s, ts_tensor *out); /* s - a */
ts_error ts_pow_scalar(ts_tensor a, double e, ts_tensor *out);
ts_error ts_pow(ts_tensor a, ts_tensor e, ts_tensor *out);
ts_error ts_clamp(ts_tensor a, double lo, double hi, int has_lo, int has_hi, ts_tensor *out);
/* Unary ops by name: neg abs exp log sqrt rsqrt sin cos tanh sigmoid relu floor ceil round sign
   logical_not isnan isinf erf square reciprocal */
ts_error ts_unary(const char *name, ts_tensor a, ts_tensor *out);
/* Comparisons by name: eq ne lt le gt ge; logical_and logical_or */
ts_error ts_compare(const char *name, ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_compare_scalar(const char *name, ts_tensor a, double s, ts_tensor *out);
ts_error ts_maximum(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_minimum(ts_tensor a, ts_tensor b, ts_tensor *out);

/* ---- in-place (explicit) ---- */
ts_error ts_copy_(ts_tensor dst, ts_tensor src);
ts_error ts_zero_(ts_tensor t);
ts_error ts_fill_(ts_tensor t, double v);
ts_error ts_add_(ts_tensor t, ts_tensor other, double alpha);
ts_error ts_mul_(ts_tensor t, ts_tensor other);
ts_error ts_mul_scalar_(ts_tensor t, double s);
ts_error ts_addcmul_(ts_tensor t, ts_tensor a, ts_tensor b, double value);
ts_error ts_addcdiv_(ts_tensor t, ts_tensor a, ts_tensor b, double value);
ts_error ts_lerp_(ts_tensor t, ts_tensor end, double weight);
ts_error ts_uniform_(ts_tensor t, double lo, double hi);
ts_error ts_normal_(ts_tensor t, double mean, double std);
ts_error ts_trunc_normal_(ts_tensor t, double mean, double std, double a, double b);

/* ---- reductions ---- */
ts_error ts_sum(ts_tensor t, const int64_t *dims, int nd, int keepdim, ts_tensor *out); /* nd 0 = all */
ts_error ts_mean(ts_tensor t, const int64_t *dims, int nd, int keepdim, ts_tensor *out);
ts_error ts_var(ts_tensor t, const int64_t *dims, int nd, int unbiased, int keepdim, ts_tensor *out);
ts_error ts_amax(ts_tensor t, const int64_t *dims, int nd, int keepdim, ts_tensor *out);
ts_error ts_amin(ts_tensor t, const int64_t *dims, int nd, int keepdim, ts_tensor *out);
ts_error ts_max_dim(ts_tensor t, int64_t dim, int keepdim, ts_tensor *values, ts_tensor *indices);
ts_error ts_min_dim(ts_tensor t, int64_t dim, int keepdim, ts_tensor *values, ts_tensor *indices);
ts_error ts_argmax(ts_tensor t, int64_t dim, int keepdim, ts_tensor *out);
ts_error ts_topk(ts_tensor t, int64_t k, int64_t dim, int largest, ts_tensor *values, ts_tensor *indices);
ts_error ts_norm(ts_tensor t, double p, ts_tensor *out);
ts_error ts_bincount(ts_tensor t, ts_tensor weights /* nullable */, int64_t minlength, ts_tensor *out);
ts_error ts_all_finite(ts_tensor t, int *out);

/* ---- linear algebra ---- */
ts_error ts_matmul(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_bmm(ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_einsum(const char *equation, const ts_tensor *ts, int n, ts_tensor *out);

/* ---- neural-network functions ---- */
ts_error ts_conv2d(ts_tensor x, ts_tensor w, ts_tensor b, const int64_t *stride, const int64_t *padding,
                   const int64_t *dilation, int64_t groups, ts_tensor *out);
ts_error ts_linear(ts_tensor x, ts_tensor w, ts_tensor b, ts_tensor *out);
ts_error ts_layer_norm(ts_tensor x, const int64_t *shape, int nd, ts_tensor w, ts_tensor b, double eps, ts_tensor *out);
ts_error ts_batch_norm(ts_tensor x, ts_tensor w, ts_tensor b, ts_tensor running_mean, ts_tensor running_var,
                       int training, double momentum, double eps, ts_tensor *out);
ts_error ts_group_norm(ts_tensor x, int64_t groups, ts_tensor w, ts_tensor b, double eps, ts_tensor *out);
ts_error ts_gelu(ts_tensor x, int tanh_approx, ts_tensor *out);
ts_error ts_softmax(ts_tensor x, int64_t dim, ts_tensor *out);
ts_error ts_log_softmax(ts_tensor x, int64_t dim, ts_tensor *out);
ts_error ts_dropout(ts_tensor x, double p, int train, ts_tensor *out);
ts_error ts_feature_dropout(ts_tensor x, double p, int train, ts_tensor *out);
ts_error ts_adaptive_avg_pool2d(ts_tensor x, const int64_t *size, ts_tensor *out);
ts_error ts_avg_pool2d(ts_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                       int ceil_mode, int count_include_pad, ts_tensor *out);
ts_error ts_max_pool2d(ts_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                       const int64_t *dilation, int ceil_mode, ts_tensor *out);
ts_error ts_upsample_bilinear2d(ts_tensor x, const int64_t *size, int align_corners, ts_tensor *out);
ts_error ts_upsample_nearest2d(ts_tensor x, const int64_t *size, ts_tensor *out);
/* Bicubic (a = -0.75, as F.interpolate mode="bicubic"); ctorch_resize.cpp. */
ts_error ts_upsample_bicubic2d(ts_tensor x, const int64_t *size, int align_corners, ts_tensor *out);
ts_error ts_sdpa(ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor mask /* nullable */, double dropout,
                 int is_causal, double scale /* <= 0: default */, ts_tensor *out);
ts_error ts_cross_entropy(ts_tensor logits, ts_tensor target, ts_tensor weight /* nullable */, int reduction,
                          int64_t ignore_index, double label_smoothing, ts_tensor *out);
ts_error ts_one_hot(ts_tensor t, int64_t num_classes, ts_tensor *out);

/* ---- sampling and binary losses (ctorch_sampling.cpp) ---- */
/* F.grid_sample: mode 0 bilinear, 1 nearest, 2 bicubic; padding_mode 0 zeros, 1 border, 2 reflection. */
ts_error ts_grid_sample(ts_tensor input, ts_tensor grid, int mode, int padding_mode, int align_corners, ts_tensor *out);
/* F.binary_cross_entropy_with_logits; reduction 0 none, 1 mean, 2 sum. */
ts_error ts_binary_cross_entropy_with_logits(ts_tensor logits, ts_tensor target, ts_tensor weight /* nullable */,
                                             ts_tensor pos_weight /* nullable */, int reduction, ts_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_H */
