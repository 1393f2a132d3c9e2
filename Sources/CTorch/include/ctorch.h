/*
 * CTorch: the thin C ABI over libtorch that SwiftSeg's Swift layer calls.
 *
 * Conventions (after tch-rs's torch_api.h):
 *  - ts_tensor is an opaque, owned handle to one at::Tensor; free it with ts_free.
 *  - Every fallible function returns a ts_error: NULL on success, otherwise an owned error object
 *    (a kind and libtorch's text without the C++ backtrace) to free with ts_error_free. No C++
 *    exception crosses this boundary and nothing here aborts the process.
 *  - Strings returned through `char **` (ts_to_string, ts_cuda_load's reason) are freed with ts_string_free.
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
typedef struct ts_error_s *ts_error;
typedef struct ts_guard_s *ts_guard;
typedef struct ts_cuda_graph_s *ts_cuda_graph;

/* What went wrong, so that callers can react without parsing messages. */
typedef enum {
  TS_ERROR_OTHER = 0,         /* anything else, including most shape checks (plain c10::Error) */
  TS_ERROR_OUT_OF_MEMORY = 1, /* c10::OutOfMemoryError (CUDA caching allocator), the CPU allocator's failure, std::bad_alloc */
  TS_ERROR_VALUE = 2,         /* c10::IndexError, c10::ValueError, c10::TypeError: bad indices, values or dtypes */
  TS_ERROR_DEVICE = 3,        /* c10::AcceleratorError (CUDA runtime/driver), no accelerator, tensors on different devices */
} ts_error_kind;

ts_error_kind ts_error_get_kind(ts_error err);
const char *ts_error_message(ts_error err); /* owned by err */
void ts_error_free(ts_error err);
void ts_string_free(char *s);
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
/* Peak bytes allocated by the CUDA caching allocator on `device` since the last reset (-1 if unknown). */
int64_t ts_cuda_peak_memory(int device);
/* Resets the peak statistics (allocated and reserved) of `device`. */
ts_error ts_cuda_reset_peak_memory(int device);
/* The caching allocator's figures for `device`, in bytes: out[0] allocated, out[1] reserved,
   out[2] peak allocated, out[3] peak reserved (peaks since the last reset), out[4] free and out[5] total
   device memory (cudaMemGetInfo), out[6] number of OOMs so far. */
ts_error ts_cuda_memory_stats(int device, int64_t *out);
/* Returns the allocator's unused cached blocks to the driver (torch.cuda.empty_cache). */
ts_error ts_cuda_empty_cache(void);
/* cuDNN autotuning (torch.backends.cudnn.benchmark); off by default. */
void ts_set_cudnn_benchmark(int on);
int ts_cudnn_benchmark(void);
/* TF32 for float32 matmuls (cuBLAS) and convolutions (cuDNN); PyTorch's defaults: matmul off, conv on. */
void ts_set_allow_tf32(int matmul, int conv);
void ts_allow_tf32(int *matmul, int *conv);

/* glibc allocator: keep freed blocks in the process (no mmap/unmap per large tensor). */
void ts_keep_freed_memory(int64_t mmap_threshold_bytes);

/* Flush denormal floats to zero on this thread (threads created later inherit it). 1 if supported. */
int ts_set_flush_denormal(int on);

/* ---- autograd state ---- */
int ts_grad_enabled(void);
void ts_set_grad_enabled(int enabled);
ts_guard ts_inference_mode_enter(void);
void ts_inference_mode_exit(ts_guard g);

/* ---- mixed precision: ATen's autocast state (thread-local, per device type) ---- */
int ts_autocast_is_enabled(int dev_type);
ts_error ts_autocast_set_enabled(int dev_type, int on);
int ts_autocast_get_dtype(int dev_type);
ts_error ts_autocast_set_dtype(int dev_type, int dtype);
int ts_autocast_increment_nesting(void);
int ts_autocast_decrement_nesting(void);
void ts_autocast_clear_cache(void);
int ts_autocast_cache_enabled(void);
void ts_autocast_set_cache_enabled(int on);

/* ---- shape-only (meta) continuation after an out-of-memory error ----
   While entered on a thread, every op of that thread runs on shape-only "meta" twins of its inputs:
   no memory, no arithmetic, inputs untouched, results with the right shapes (values read back as 0).
   Lets non-throwing model code run on to the point where the caller can throw (see Torch.catchingOutOfMemory). */
void ts_meta_mode_enter(void);
void ts_meta_mode_exit(void);
int ts_meta_mode_active(void);

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
/* non_blocking: asynchronous host<->device copies (from pinned memory; tensor.to(..., non_blocking=True)). */
ts_error ts_to(ts_tensor t, int dtype, int dev_type, int dev_index, int non_blocking, int copy, ts_tensor *out);
ts_error ts_contiguous(ts_tensor t, ts_tensor *out);
/* memory_format: c10::MemoryFormat (0 contiguous, 1 preserve, 2 channels_last, 3 channels_last_3d). */
ts_error ts_contiguous_format(ts_tensor t, int memory_format, ts_tensor *out);
int ts_is_contiguous_format(ts_tensor t, int memory_format);
/* Page-locked host copy of a CPU tensor (needs CUDA); is_pinned is 0 when unknown. */
ts_error ts_pin_memory(ts_tensor t, ts_tensor *out);
int ts_is_pinned(ts_tensor t);
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
/* Element-wise unary ops, dispatched by code (the ATen function of the same name). */
typedef enum {
  TS_UNARY_NEG = 0,
  TS_UNARY_ABS = 1,
  TS_UNARY_EXP = 2,
  TS_UNARY_LOG = 3,
  TS_UNARY_SQRT = 4,
  TS_UNARY_RSQRT = 5,
  TS_UNARY_SIN = 6,
  TS_UNARY_COS = 7,
  TS_UNARY_TANH = 8,
  TS_UNARY_SIGMOID = 9,
  TS_UNARY_RELU = 10,
  TS_UNARY_FLOOR = 11,
  TS_UNARY_CEIL = 12,
  TS_UNARY_ROUND = 13,
  TS_UNARY_SIGN = 14,
  TS_UNARY_LOGICAL_NOT = 15,
  TS_UNARY_ISNAN = 16,
  TS_UNARY_ISINF = 17,
  TS_UNARY_ERF = 18,
  TS_UNARY_SQUARE = 19,
  TS_UNARY_RECIPROCAL = 20,
  TS_UNARY_SILU = 21,
  TS_UNARY_HARDSWISH = 22,
} ts_unary_op;
ts_error ts_unary(ts_unary_op op, ts_tensor a, ts_tensor *out);
/* Comparisons and logical and/or, dispatched by code. */
typedef enum {
  TS_COMPARE_EQ = 0,
  TS_COMPARE_NE = 1,
  TS_COMPARE_LT = 2,
  TS_COMPARE_LE = 3,
  TS_COMPARE_GT = 4,
  TS_COMPARE_GE = 5,
  TS_COMPARE_LOGICAL_AND = 6,
  TS_COMPARE_LOGICAL_OR = 7,
} ts_compare_op;
ts_error ts_compare(ts_compare_op op, ts_tensor a, ts_tensor b, ts_tensor *out);
ts_error ts_compare_scalar(ts_compare_op op, ts_tensor a, double s, ts_tensor *out);
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
/* Summed cross-entropy of (pixels, classes) logits against class indices, rows equal to ignore_index left out;
   its backward writes softmax - onehot in one pass (ctorch_loss.cpp). */
ts_error ts_pixel_cross_entropy_sum(ts_tensor logits, ts_tensor target, int64_t ignore_index, ts_tensor *out);
/* The decode heads' loss: (N, C, h, w) logits bilinearly upsampled (align_corners=False) to the (N, H, W) labels'
   size, then the summed pixel cross-entropy. On the CPU one fused kernel that never builds the upsampled map
   (ctorch_upsampled_loss.cpp); elsewhere upsample + ts_pixel_cross_entropy_sum. */
ts_error ts_upsampled_pixel_cross_entropy_sum(ts_tensor logits, ts_tensor target, int64_t ignore_index, ts_tensor *out);

/* ---- sampling and binary losses (ctorch_sampling.cpp) ---- */
/* F.grid_sample: mode 0 bilinear, 1 nearest, 2 bicubic; padding_mode 0 zeros, 1 border, 2 reflection. */
ts_error ts_grid_sample(ts_tensor input, ts_tensor grid, int mode, int padding_mode, int align_corners, ts_tensor *out);
/* F.binary_cross_entropy_with_logits; reduction 0 none, 1 mean, 2 sum. */
ts_error ts_binary_cross_entropy_with_logits(ts_tensor logits, ts_tensor target, ts_tensor weight /* nullable */,
                                             ts_tensor pos_weight /* nullable */, int reduction, ts_tensor *out);

/* ---- multi-tensor ops (torch._foreach_*): one call for a list of same-device tensors ----
   In-place forms end in `_`; `others`, `a`, `b` and `values` have n entries like `ts`. */
ts_error ts_foreach_add_scalar_(const ts_tensor *ts, int n, double s);
ts_error ts_foreach_mul_scalar_(const ts_tensor *ts, int n, double s);
ts_error ts_foreach_mul_tensor_(const ts_tensor *ts, int n, ts_tensor s); /* s: a one-element tensor */
ts_error ts_foreach_add_list_(const ts_tensor *ts, const ts_tensor *others, int n, double alpha);
ts_error ts_foreach_add_list(const ts_tensor *ts, const ts_tensor *others, int n, double alpha, ts_tensor *outs);
ts_error ts_foreach_lerp_scalar_(const ts_tensor *ts, const ts_tensor *ends, int n, double weight);
ts_error ts_foreach_addcmul_scalar_(const ts_tensor *ts, const ts_tensor *a, const ts_tensor *b, int n, double value);
ts_error ts_foreach_addcdiv_scalarlist_(const ts_tensor *ts, const ts_tensor *a, const ts_tensor *b, int n, const double *values);
ts_error ts_foreach_div_scalarlist_(const ts_tensor *ts, int n, const double *values);
ts_error ts_foreach_sqrt(const ts_tensor *ts, int n, ts_tensor *outs);
ts_error ts_foreach_norm(const ts_tensor *ts, int n, double p, ts_tensor *outs);

/* ---- fused optimizer kernels (torch._fused_adamw_, torch._fused_sgd_; CPU and CUDA) ----
   State steps must already hold the new step count (PyTorch increments them before the call).
   grad_scale and found_inf (nullable, one-element float tensors on the params' device): the kernel
   divides gradients by grad_scale and skips the whole update when found_inf is 1 (GradScaler). */
ts_error ts_fused_adamw_(const ts_tensor *params, const ts_tensor *grads, const ts_tensor *exp_avgs, const ts_tensor *exp_avg_sqs,
                         const ts_tensor *steps, int n, double lr, double beta1, double beta2, double weight_decay, double eps,
                         ts_tensor grad_scale, ts_tensor found_inf);
/* n_bufs: 0 (no momentum) or n. */
ts_error ts_fused_sgd_(const ts_tensor *params, const ts_tensor *grads, const ts_tensor *momentum_bufs, int n_bufs, int n,
                       double weight_decay, double momentum, double lr, double dampening, int nesterov, int is_first_step,
                       ts_tensor grad_scale, ts_tensor found_inf);

/* ---- gradient scaling (ATen's GradScaler kernels) ---- */
/* grads *= inv_scale in place; found_inf (one-element float) is set to 1 if any gradient holds inf or NaN. */
ts_error ts_amp_foreach_non_finite_check_and_unscale_(const ts_tensor *grads, int n, ts_tensor found_inf, ts_tensor inv_scale);
/* scale (float) and growth_tracker (int32) updated in place from found_inf. */
ts_error ts_amp_update_scale_(ts_tensor scale, ts_tensor growth_tracker, ts_tensor found_inf, double growth_factor,
                              double backoff_factor, int64_t growth_interval);

/* ---- CUDA graphs (at::cuda::CUDAGraph, reached through libtorch_cuda.so at run time) ----
   Work recorded between capture_begin and capture_end runs again, on the same memory, at each replay.
   side_stream(g, 1) makes the graph's own stream current on this thread (capture needs a non-default
   stream; warm-up should run there too); side_stream(g, 0) synchronizes and restores the previous stream. */
ts_error ts_cuda_graph_new(int device, ts_cuda_graph *out);
ts_error ts_cuda_graph_side_stream(ts_cuda_graph g, int on);
ts_error ts_cuda_graph_capture_begin(ts_cuda_graph g);
ts_error ts_cuda_graph_capture_end(ts_cuda_graph g);
ts_error ts_cuda_graph_replay(ts_cuda_graph g);
void ts_cuda_graph_free(ts_cuda_graph g);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_H */
