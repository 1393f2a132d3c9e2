// CTorch implementation: one small function per op, each behind the same exception barrier.
// No model logic lives here.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/api/include/torch/version.h>

#include <dlfcn.h>
#include <malloc.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>

#include "ctorch_internal.h"

using namespace ctorch;

namespace {
at::Tensor compare(ts_compare_op op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case TS_COMPARE_EQ: return a.eq(b);
    case TS_COMPARE_NE: return a.ne(b);
    case TS_COMPARE_LT: return a.lt(b);
    case TS_COMPARE_LE: return a.le(b);
    case TS_COMPARE_GT: return a.gt(b);
    case TS_COMPARE_GE: return a.ge(b);
    case TS_COMPARE_LOGICAL_AND: return a.logical_and(b);
    case TS_COMPARE_LOGICAL_OR: return a.logical_or(b);
  }
  TORCH_CHECK(false, "unknown comparison code ", static_cast<int>(op));
}
}  // namespace

namespace ctorch {
ts_error_kind classify(const c10::Error &e) {
  if (dynamic_cast<const c10::OutOfMemoryError *>(&e)) return TS_ERROR_OUT_OF_MEMORY;
  if (dynamic_cast<const c10::AcceleratorError *>(&e)) return TS_ERROR_DEVICE;
  if (dynamic_cast<const c10::IndexError *>(&e) || dynamic_cast<const c10::ValueError *>(&e) ||
      dynamic_cast<const c10::TypeError *>(&e))
    return TS_ERROR_VALUE;
  const std::string &m = e.msg();
  auto has = [&](const char *s) { return m.find(s) != std::string::npos; };
  if (has("DefaultCPUAllocator: can't allocate memory") || has("DefaultCPUAllocator: not enough memory") ||
      has("CUDA out of memory"))
    return TS_ERROR_OUT_OF_MEMORY;
  if (has("Cannot access accelerator device when none is available") || has("Expected all tensors to be on the same device") ||
      has("CUDA error:") || has("no CUDA GPUs are available") || has("Found no NVIDIA driver"))
    return TS_ERROR_DEVICE;
  return TS_ERROR_OTHER;
}
}  // namespace ctorch

extern "C" {

ts_error_kind ts_error_get_kind(ts_error err) { return err->kind; }
const char *ts_error_message(ts_error err) { return err->message; }
void ts_error_free(ts_error err) {
  if (err == nullptr) return;
  std::free(err->message);
  delete err;
}
void ts_string_free(char *s) { std::free(s); }
void ts_free(ts_tensor t) { delete t; }

// ---- library ----
const char *ts_version(void) { return TORCH_VERSION; }
ts_error ts_manual_seed(uint64_t seed) { TS_TRY at::manual_seed(seed); TS_CATCH }
int ts_get_num_threads(void) { return at::get_num_threads(); }
ts_error ts_set_num_threads(int n) { TS_TRY at::set_num_threads(n); TS_CATCH }

int ts_cuda_load(char **reason) {
  *reason = nullptr;
  try {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&at::get_num_threads), &info) == 0 || info.dli_fname == nullptr) {
      *reason = dup("cannot locate libtorch_cpu.so to find libtorch_cuda.so beside it");
      return 0;
    }
    std::string path(info.dli_fname);
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    std::string cuda = dir + "/libtorch_cuda.so";
    if (dlopen(cuda.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char *e = dlerror();
      *reason = dup((std::string("cannot load ") + cuda + ": " + (e ? e : "unknown error")).c_str());
      return 0;
    }
    if (!at::detail::getCUDAHooks().hasCUDA()) {
      *reason = dup("libtorch_cuda.so loaded, but no CUDA device or driver is available");
      return 0;
    }
    return 1;
  } catch (const std::exception &e) {
    *reason = dup(e.what());
    return 0;
  } catch (...) {
    *reason = dup("unknown error while loading CUDA");
    return 0;
  }
}
int ts_cuda_device_count(void) {
  try {
    return at::detail::getCUDAHooks().deviceCount();
  } catch (...) {
    return 0;
  }
}
ts_error ts_cuda_synchronize(int device) { TS_TRY at::detail::getCUDAHooks().deviceSynchronize(device); TS_CATCH }

void ts_keep_freed_memory(int64_t mmap_threshold_bytes) {
  // Blocks up to the threshold come from the heap and stay there when freed...
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min<int64_t>(mmap_threshold_bytes, INT32_MAX)));
  mallopt(M_TRIM_THRESHOLD, INT32_MAX);  // ...which is never trimmed
  mallopt(M_TOP_PAD, 64 << 20);        // and grows in 64 MiB steps
}

int ts_set_flush_denormal(int on) {
  try {
    return at::globalContext().setFlushDenormal(on != 0) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

// ---- autograd state ----
int ts_grad_enabled(void) { return at::GradMode::is_enabled() ? 1 : 0; }
void ts_set_grad_enabled(int enabled) { at::GradMode::set_enabled(enabled != 0); }
ts_guard ts_inference_mode_enter(void) { return new ts_guard_s(); }
void ts_inference_mode_exit(ts_guard g) { delete g; }

// ---- info ----
// Info reads the handle's own tensor: a meta twin has the same sizes, strides and dtype.
int64_t ts_dim(ts_tensor t) { return t->t.dim(); }
void ts_sizes(ts_tensor t, int64_t *out) {
  auto s = t->t.sizes();
  for (size_t i = 0; i < s.size(); i++) out[i] = s[i];
}
void ts_strides(ts_tensor t, int64_t *out) {
  auto s = t->t.strides();
  for (size_t i = 0; i < s.size(); i++) out[i] = s[i];
}
int ts_dtype(ts_tensor t) { return static_cast<int>(t->t.scalar_type()); }
int ts_device_type(ts_tensor t) { return static_cast<int>(t->t.device().type()); }
int ts_device_index(ts_tensor t) { return t->t.device().has_index() ? t->t.device().index() : 0; }
int64_t ts_numel(ts_tensor t) { return t->t.numel(); }
int ts_is_contiguous(ts_tensor t) { return t->t.is_contiguous() ? 1 : 0; }
int ts_requires_grad(ts_tensor t) { return t->t.requires_grad() ? 1 : 0; }
int ts_defined(ts_tensor t) { return t->t.defined() ? 1 : 0; }
ts_error ts_to_string(ts_tensor t, char **out) {
  TS_TRY std::ostringstream s;
  s << T(t);
  *out = dup(s.str().c_str());
  TS_CATCH
}

// ---- creation ----
ts_error ts_empty(const int64_t *shape, int nd, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::empty(dims(shape, nd), options(dtype, dt, di))); TS_CATCH
}
ts_error ts_zeros(const int64_t *shape, int nd, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::zeros(dims(shape, nd), options(dtype, dt, di))); TS_CATCH
}
ts_error ts_ones(const int64_t *shape, int nd, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::ones(dims(shape, nd), options(dtype, dt, di))); TS_CATCH
}
ts_error ts_full(const int64_t *shape, int nd, double value, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::full(dims(shape, nd), value, options(dtype, dt, di))); TS_CATCH
}
ts_error ts_arange(double start, double end, double step, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::arange(start, end, step, options(dtype, dt, di))); TS_CATCH
}
ts_error ts_linspace(double start, double end, int64_t steps, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::linspace(start, end, steps, options(dtype, dt, di))); TS_CATCH
}
ts_error ts_rand(const int64_t *shape, int nd, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::rand(dims(shape, nd), options(dtype, dt, di))); TS_CATCH
}
ts_error ts_randn(const int64_t *shape, int nd, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::randn(dims(shape, nd), options(dtype, dt, di))); TS_CATCH
}
ts_error ts_randint(int64_t low, int64_t high, const int64_t *shape, int nd, int dtype, int dt, int di, ts_tensor *out) {
  TS_TRY *out = wrap(at::randint(low, high, dims(shape, nd), options(dtype, dt, di))); TS_CATCH
}
ts_error ts_from_data(const void *data, size_t nbytes, const int64_t *shape, int nd, int dtype, ts_tensor *out) {
  TS_TRY auto t = at::empty(dims(shape, nd), options(dtype, 0, 0));
  TORCH_CHECK(t.nbytes() == nbytes, "from_data: ", nbytes, " bytes given for shape ", t.sizes(), " of ", t.scalar_type(),
              " (", t.nbytes(), " bytes expected)");
  if (nbytes > 0 && !t.is_meta()) std::memcpy(t.data_ptr(), data, nbytes);
  *out = wrap(std::move(t));
  TS_CATCH
}
// A shape-only (meta) tensor has no values: it reads back as zeros.
ts_error ts_copy_to_host(ts_tensor t, void *dst, size_t nbytes) {
  TS_TRY const auto &x = T(t);
  TORCH_CHECK(x.nbytes() == nbytes, "copy_to_host: buffer of ", nbytes, " bytes for ", x.nbytes(), " bytes of data");
  if (x.is_meta()) {
    if (nbytes > 0) std::memset(dst, 0, nbytes);
    return nullptr;
  }
  auto c = x.detach().to(at::kCPU).contiguous();
  if (nbytes > 0) std::memcpy(dst, c.data_ptr(), nbytes);
  TS_CATCH
}
ts_error ts_item_double(ts_tensor t, double *out) {
  TS_TRY const auto &x = T(t);
  TORCH_CHECK(x.numel() == 1, "a Tensor with ", x.numel(), " elements cannot be converted to Scalar");
  *out = x.is_meta() ? 0 : x.item<double>();
  TS_CATCH
}
ts_error ts_item_int64(ts_tensor t, int64_t *out) {
  TS_TRY const auto &x = T(t);
  TORCH_CHECK(x.numel() == 1, "a Tensor with ", x.numel(), " elements cannot be converted to Scalar");
  *out = x.is_meta() ? 0 : x.item<int64_t>();
  TS_CATCH
}

// ---- conversion / autograd ----
ts_error ts_to(ts_tensor t, int dtype, int dt, int di, int non_blocking, int copy, ts_tensor *out) {
  TS_TRY *out = wrap(T(t).to(options(dtype, dt, di), non_blocking != 0, copy != 0)); TS_CATCH
}
ts_error ts_contiguous(ts_tensor t, ts_tensor *out) { TS_TRY *out = wrap(T(t).contiguous()); TS_CATCH }
ts_error ts_contiguous_format(ts_tensor t, int fmt, ts_tensor *out) {
  TS_TRY *out = wrap(T(t).contiguous(static_cast<c10::MemoryFormat>(fmt))); TS_CATCH
}
int ts_is_contiguous_format(ts_tensor t, int fmt) {
  try {
    return t->t.is_contiguous(static_cast<c10::MemoryFormat>(fmt)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
ts_error ts_pin_memory(ts_tensor t, ts_tensor *out) { TS_TRY *out = wrap(T(t).pin_memory()); TS_CATCH }
int ts_is_pinned(ts_tensor t) {
  try {
    return t->t.is_pinned() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
ts_error ts_clone(ts_tensor t, ts_tensor *out) { TS_TRY *out = wrap(T(t).clone()); TS_CATCH }
ts_error ts_detach(ts_tensor t, ts_tensor *out) { TS_TRY *out = wrap(T(t).detach()); TS_CATCH }
// The real tensor even in meta mode: modules use it to re-point a parameter (Tensor.assign).
ts_error ts_shallow_clone(ts_tensor t, ts_tensor *out) { TS_TRY *out = wrap(t->t); TS_CATCH }
ts_error ts_set_requires_grad(ts_tensor t, int requires) { TS_TRY T(t).set_requires_grad(requires != 0); TS_CATCH }
ts_error ts_grad(ts_tensor t, ts_tensor *out) {
  TS_TRY const auto &g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  TS_CATCH
}
ts_error ts_zero_grad(ts_tensor t) {
  TS_TRY auto &g = T(t).mutable_grad();
  if (g.defined()) g = at::Tensor();  // like optimizer.zero_grad(set_to_none=True)
  TS_CATCH
}
// In meta mode there is no graph to run (twins do not require grad): backward does nothing, grads are absent.
ts_error ts_backward(ts_tensor t, ts_tensor grad, int retain_graph) {
  TS_TRY if (meta_mode()) return nullptr;
  T(t).backward(grad ? T(grad) : at::Tensor(), retain_graph != 0);
  TS_CATCH
}
ts_error ts_autograd_grad(const ts_tensor *outputs, int n_out, const ts_tensor *inputs, int n_in, int create_graph,
                          ts_tensor *out_grads) {
  TS_TRY if (meta_mode()) {
    for (int i = 0; i < n_in; i++) out_grads[i] = nullptr;
    return nullptr;
  }
  auto grads = torch::autograd::grad(list(outputs, n_out), list(inputs, n_in), {}, c10::nullopt,
                                            create_graph != 0, true);
  for (int i = 0; i < n_in; i++) out_grads[i] = grads[i].defined() ? wrap(grads[i]) : nullptr;
  TS_CATCH
}

// ---- shape ----
ts_error ts_reshape(ts_tensor t, const int64_t *s, int nd, ts_tensor *out) { TS_TRY *out = wrap(T(t).reshape(dims(s, nd))); TS_CATCH }
ts_error ts_view(ts_tensor t, const int64_t *s, int nd, ts_tensor *out) { TS_TRY *out = wrap(T(t).view(dims(s, nd))); TS_CATCH }
ts_error ts_permute(ts_tensor t, const int64_t *d, int nd, ts_tensor *out) { TS_TRY *out = wrap(T(t).permute(dims(d, nd))); TS_CATCH }
ts_error ts_transpose(ts_tensor t, int64_t d0, int64_t d1, ts_tensor *out) { TS_TRY *out = wrap(T(t).transpose(d0, d1)); TS_CATCH }
ts_error ts_flatten(ts_tensor t, int64_t s, int64_t e, ts_tensor *out) { TS_TRY *out = wrap(T(t).flatten(s, e)); TS_CATCH }
ts_error ts_squeeze(ts_tensor t, int64_t d, ts_tensor *out) { TS_TRY *out = wrap(T(t).squeeze(d)); TS_CATCH }
ts_error ts_unsqueeze(ts_tensor t, int64_t d, ts_tensor *out) { TS_TRY *out = wrap(T(t).unsqueeze(d)); TS_CATCH }
ts_error ts_expand(ts_tensor t, const int64_t *s, int nd, ts_tensor *out) { TS_TRY *out = wrap(T(t).expand(dims(s, nd))); TS_CATCH }
ts_error ts_repeat(ts_tensor t, const int64_t *r, int nd, ts_tensor *out) { TS_TRY *out = wrap(T(t).repeat(dims(r, nd))); TS_CATCH }
ts_error ts_cat(const ts_tensor *ts, int n, int64_t dim, ts_tensor *out) { TS_TRY *out = wrap(at::cat(list(ts, n), dim)); TS_CATCH }
ts_error ts_stack(const ts_tensor *ts, int n, int64_t dim, ts_tensor *out) { TS_TRY *out = wrap(at::stack(list(ts, n), dim)); TS_CATCH }
ts_error ts_split_with_sizes(ts_tensor t, const int64_t *sizes, int n, int64_t dim, ts_tensor *outs) {
  TS_TRY auto parts = T(t).split_with_sizes(dims(sizes, n), dim);
  for (int i = 0; i < n; i++) outs[i] = wrap(parts[i]);
  TS_CATCH
}
ts_error ts_narrow(ts_tensor t, int64_t dim, int64_t start, int64_t len, ts_tensor *out) {
  TS_TRY *out = wrap(T(t).narrow(dim, start, len)); TS_CATCH
}
ts_error ts_slice(ts_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ts_tensor *out) {
  TS_TRY *out = wrap(T(t).slice(dim, start, end, step)); TS_CATCH
}
ts_error ts_select(ts_tensor t, int64_t dim, int64_t index, ts_tensor *out) { TS_TRY *out = wrap(T(t).select(dim, index)); TS_CATCH }
ts_error ts_index_select(ts_tensor t, int64_t dim, ts_tensor index, ts_tensor *out) {
  TS_TRY *out = wrap(T(t).index_select(dim, T(index))); TS_CATCH
}
ts_error ts_gather(ts_tensor t, int64_t dim, ts_tensor index, ts_tensor *out) { TS_TRY *out = wrap(T(t).gather(dim, T(index))); TS_CATCH }
ts_error ts_masked_fill(ts_tensor t, ts_tensor mask, double v, ts_tensor *out) { TS_TRY *out = wrap(T(t).masked_fill(T(mask), v)); TS_CATCH }
ts_error ts_where(ts_tensor c, ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(at::where(T(c), T(a), T(b))); TS_CATCH }
ts_error ts_constant_pad(ts_tensor t, const int64_t *pad, int n, double v, ts_tensor *out) {
  TS_TRY *out = wrap(at::constant_pad_nd(T(t), dims(pad, n), v)); TS_CATCH
}
ts_error ts_flip(ts_tensor t, const int64_t *d, int nd, ts_tensor *out) { TS_TRY *out = wrap(T(t).flip(dims(d, nd))); TS_CATCH }

// ---- element-wise ----
ts_error ts_add(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(T(a) + T(b)); TS_CATCH }
ts_error ts_sub(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(T(a) - T(b)); TS_CATCH }
ts_error ts_mul(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(T(a) * T(b)); TS_CATCH }
ts_error ts_div(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(T(a) / T(b)); TS_CATCH }
ts_error ts_add_scalar(ts_tensor a, double s, ts_tensor *out) { TS_TRY *out = wrap(T(a) + s); TS_CATCH }
ts_error ts_mul_scalar(ts_tensor a, double s, ts_tensor *out) { TS_TRY *out = wrap(T(a) * s); TS_CATCH }
ts_error ts_div_scalar(ts_tensor a, double s, ts_tensor *out) { TS_TRY *out = wrap(T(a) / s); TS_CATCH }
ts_error ts_rsub_scalar(ts_tensor a, double s, ts_tensor *out) { TS_TRY *out = wrap(at::rsub(T(a), s)); TS_CATCH }
ts_error ts_pow_scalar(ts_tensor a, double e, ts_tensor *out) { TS_TRY *out = wrap(T(a).pow(e)); TS_CATCH }
ts_error ts_pow(ts_tensor a, ts_tensor e, ts_tensor *out) { TS_TRY *out = wrap(T(a).pow(T(e))); TS_CATCH }
ts_error ts_clamp(ts_tensor a, double lo, double hi, int has_lo, int has_hi, ts_tensor *out) {
  TS_TRY c10::optional<at::Scalar> l, h;
  if (has_lo) l = lo;
  if (has_hi) h = hi;
  *out = wrap(at::clamp(T(a), l, h));
  TS_CATCH
}
ts_error ts_unary(ts_unary_op op, ts_tensor a, ts_tensor *out) {
  TS_TRY const at::Tensor &x = T(a);
  at::Tensor r;
  switch (op) {
    case TS_UNARY_NEG: r = x.neg(); break;
    case TS_UNARY_ABS: r = x.abs(); break;
    case TS_UNARY_EXP: r = x.exp(); break;
    case TS_UNARY_LOG: r = x.log(); break;
    case TS_UNARY_SQRT: r = x.sqrt(); break;
    case TS_UNARY_RSQRT: r = x.rsqrt(); break;
    case TS_UNARY_SIN: r = x.sin(); break;
    case TS_UNARY_COS: r = x.cos(); break;
    case TS_UNARY_TANH: r = x.tanh(); break;
    case TS_UNARY_SIGMOID: r = x.sigmoid(); break;
    case TS_UNARY_RELU: r = x.relu(); break;
    case TS_UNARY_FLOOR: r = x.floor(); break;
    case TS_UNARY_CEIL: r = x.ceil(); break;
    case TS_UNARY_ROUND: r = x.round(); break;
    case TS_UNARY_SIGN: r = x.sign(); break;
    case TS_UNARY_LOGICAL_NOT: r = x.logical_not(); break;
    case TS_UNARY_ISNAN: r = x.isnan(); break;
    case TS_UNARY_ISINF: r = x.isinf(); break;
    case TS_UNARY_ERF: r = x.erf(); break;
    case TS_UNARY_SQUARE: r = x.square(); break;
    case TS_UNARY_RECIPROCAL: r = x.reciprocal(); break;
    case TS_UNARY_SILU: r = at::silu(x); break;
    case TS_UNARY_HARDSWISH: r = at::hardswish(x); break;
    default: TORCH_CHECK(false, "unknown unary op code ", static_cast<int>(op));
  }
  *out = wrap(std::move(r));
  TS_CATCH
}

ts_error ts_compare(ts_compare_op op, ts_tensor a, ts_tensor b, ts_tensor *out) {
  TS_TRY *out = wrap(compare(op, T(a), T(b))); TS_CATCH
}
ts_error ts_compare_scalar(ts_compare_op op, ts_tensor a, double s, ts_tensor *out) {
  TS_TRY *out = wrap(compare(op, T(a), at::scalar_tensor(s, T(a).options()))); TS_CATCH
}
ts_error ts_maximum(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(at::maximum(T(a), T(b))); TS_CATCH }
ts_error ts_minimum(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(at::minimum(T(a), T(b))); TS_CATCH }

// ---- in-place ----
ts_error ts_copy_(ts_tensor dst, ts_tensor src) { TS_TRY T(dst).copy_(T(src)); TS_CATCH }
ts_error ts_zero_(ts_tensor t) { TS_TRY T(t).zero_(); TS_CATCH }
ts_error ts_fill_(ts_tensor t, double v) { TS_TRY T(t).fill_(v); TS_CATCH }
ts_error ts_add_(ts_tensor t, ts_tensor o, double alpha) {
  // Integer tensors accept only an integral alpha.
  TS_TRY at::Scalar a = T(t).is_floating_point() ? at::Scalar(alpha) : at::Scalar(static_cast<int64_t>(alpha));
  T(t).add_(T(o), a);
  TS_CATCH
}
ts_error ts_mul_(ts_tensor t, ts_tensor o) { TS_TRY T(t).mul_(T(o)); TS_CATCH }
ts_error ts_mul_scalar_(ts_tensor t, double s) { TS_TRY T(t).mul_(s); TS_CATCH }
ts_error ts_addcmul_(ts_tensor t, ts_tensor a, ts_tensor b, double v) { TS_TRY T(t).addcmul_(T(a), T(b), v); TS_CATCH }
ts_error ts_addcdiv_(ts_tensor t, ts_tensor a, ts_tensor b, double v) { TS_TRY T(t).addcdiv_(T(a), T(b), v); TS_CATCH }
ts_error ts_lerp_(ts_tensor t, ts_tensor e, double w) { TS_TRY T(t).lerp_(T(e), w); TS_CATCH }
ts_error ts_uniform_(ts_tensor t, double lo, double hi) { TS_TRY T(t).uniform_(lo, hi); TS_CATCH }
ts_error ts_normal_(ts_tensor t, double m, double s) { TS_TRY T(t).normal_(m, s); TS_CATCH }
ts_error ts_trunc_normal_(ts_tensor t, double mean, double std, double a, double b) {
  // PyTorch's nn.init.trunc_normal_: inverse-CDF sampling of the truncated normal.
  TS_TRY auto norm_cdf = [](double x) { return (1. + std::erf(x / std::sqrt(2.))) / 2.; };
  double l = norm_cdf((a - mean) / std), u = norm_cdf((b - mean) / std);
  at::NoGradGuard ng;
  auto &x = T(t);
  x.uniform_(2 * l - 1, 2 * u - 1);
  x.erfinv_();
  x.mul_(std * std::sqrt(2.));
  x.add_(mean);
  x.clamp_(a, b);
  TS_CATCH
}

// ---- reductions ----
ts_error ts_sum(ts_tensor t, const int64_t *d, int nd, int keep, ts_tensor *out) {
  TS_TRY *out = wrap(nd == 0 ? T(t).sum() : T(t).sum(dims(d, nd), keep != 0)); TS_CATCH
}
ts_error ts_mean(ts_tensor t, const int64_t *d, int nd, int keep, ts_tensor *out) {
  TS_TRY *out = wrap(nd == 0 ? T(t).mean() : T(t).mean(dims(d, nd), keep != 0)); TS_CATCH
}
ts_error ts_var(ts_tensor t, const int64_t *d, int nd, int unbiased, int keep, ts_tensor *out) {
  TS_TRY c10::optional<at::IntArrayRef> dd;
  if (nd > 0) dd = dims(d, nd);
  *out = wrap(at::var(T(t), dd, at::Scalar(unbiased ? 1 : 0), keep != 0));
  TS_CATCH
}
ts_error ts_amax(ts_tensor t, const int64_t *d, int nd, int keep, ts_tensor *out) {
  TS_TRY *out = wrap(at::amax(T(t), dims(d, nd), keep != 0)); TS_CATCH
}
ts_error ts_amin(ts_tensor t, const int64_t *d, int nd, int keep, ts_tensor *out) {
  TS_TRY *out = wrap(at::amin(T(t), dims(d, nd), keep != 0)); TS_CATCH
}
ts_error ts_max_dim(ts_tensor t, int64_t dim, int keep, ts_tensor *values, ts_tensor *indices) {
  TS_TRY auto r = T(t).max(dim, keep != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  TS_CATCH
}
ts_error ts_min_dim(ts_tensor t, int64_t dim, int keep, ts_tensor *values, ts_tensor *indices) {
  TS_TRY auto r = T(t).min(dim, keep != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  TS_CATCH
}
ts_error ts_argmax(ts_tensor t, int64_t dim, int keep, ts_tensor *out) { TS_TRY *out = wrap(T(t).argmax(dim, keep != 0)); TS_CATCH }
ts_error ts_topk(ts_tensor t, int64_t k, int64_t dim, int largest, ts_tensor *values, ts_tensor *indices) {
  TS_TRY auto r = T(t).topk(k, dim, largest != 0, true);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  TS_CATCH
}
ts_error ts_norm(ts_tensor t, double p, ts_tensor *out) { TS_TRY *out = wrap(T(t).norm(p)); TS_CATCH }
ts_error ts_bincount(ts_tensor t, ts_tensor w, int64_t minlength, ts_tensor *out) {
  TS_TRY *out = wrap(T(t).bincount(opt(w), minlength)); TS_CATCH
}
ts_error ts_all_finite(ts_tensor t, int *out) {
  TS_TRY const auto &x = T(t);
  *out = x.is_meta() || x.isfinite().all().item<bool>() ? 1 : 0;
  TS_CATCH
}

// ---- linear algebra ----
ts_error ts_matmul(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(at::matmul(T(a), T(b))); TS_CATCH }
ts_error ts_bmm(ts_tensor a, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(at::bmm(T(a), T(b))); TS_CATCH }
ts_error ts_einsum(const char *eq, const ts_tensor *ts, int n, ts_tensor *out) { TS_TRY *out = wrap(at::einsum(eq, list(ts, n))); TS_CATCH }

// ---- neural-network functions ----
ts_error ts_conv2d(ts_tensor x, ts_tensor w, ts_tensor b, const int64_t *stride, const int64_t *padding, const int64_t *dilation,
                   int64_t groups, ts_tensor *out) {
  TS_TRY *out = wrap(at::conv2d(T(x), T(w), opt(b), dims(stride, 2), dims(padding, 2), dims(dilation, 2), groups)); TS_CATCH
}
ts_error ts_linear(ts_tensor x, ts_tensor w, ts_tensor b, ts_tensor *out) { TS_TRY *out = wrap(at::linear(T(x), T(w), opt(b))); TS_CATCH }
ts_error ts_layer_norm(ts_tensor x, const int64_t *s, int nd, ts_tensor w, ts_tensor b, double eps, ts_tensor *out) {
  TS_TRY *out = wrap(at::layer_norm(T(x), dims(s, nd), opt(w), opt(b), eps)); TS_CATCH
}
ts_error ts_batch_norm(ts_tensor x, ts_tensor w, ts_tensor b, ts_tensor rm, ts_tensor rv, int training, double momentum,
                       double eps, ts_tensor *out) {
  TS_TRY *out = wrap(at::batch_norm(T(x), opt(w), opt(b), opt(rm), opt(rv), training != 0, momentum, eps, true)); TS_CATCH
}
ts_error ts_group_norm(ts_tensor x, int64_t groups, ts_tensor w, ts_tensor b, double eps, ts_tensor *out) {
  TS_TRY *out = wrap(at::group_norm(T(x), groups, opt(w), opt(b), eps)); TS_CATCH
}
ts_error ts_gelu(ts_tensor x, int tanh_approx, ts_tensor *out) { TS_TRY *out = wrap(at::gelu(T(x), tanh_approx ? "tanh" : "none")); TS_CATCH }
ts_error ts_softmax(ts_tensor x, int64_t dim, ts_tensor *out) { TS_TRY *out = wrap(at::softmax(T(x), dim)); TS_CATCH }
ts_error ts_log_softmax(ts_tensor x, int64_t dim, ts_tensor *out) { TS_TRY *out = wrap(at::log_softmax(T(x), dim)); TS_CATCH }
ts_error ts_dropout(ts_tensor x, double p, int train, ts_tensor *out) { TS_TRY *out = wrap(at::dropout(T(x), p, train != 0)); TS_CATCH }
ts_error ts_feature_dropout(ts_tensor x, double p, int train, ts_tensor *out) {
  TS_TRY *out = wrap(at::feature_dropout(T(x), p, train != 0)); TS_CATCH
}
ts_error ts_adaptive_avg_pool2d(ts_tensor x, const int64_t *size, ts_tensor *out) {
  TS_TRY *out = wrap(at::adaptive_avg_pool2d(T(x), dims(size, 2))); TS_CATCH
}
ts_error ts_avg_pool2d(ts_tensor x, const int64_t *k, const int64_t *s, const int64_t *p, int ceil_mode, int count_include_pad,
                       ts_tensor *out) {
  TS_TRY *out = wrap(at::avg_pool2d(T(x), dims(k, 2), dims(s, 2), dims(p, 2), ceil_mode != 0, count_include_pad != 0)); TS_CATCH
}
ts_error ts_max_pool2d(ts_tensor x, const int64_t *k, const int64_t *s, const int64_t *p, const int64_t *d, int ceil_mode,
                       ts_tensor *out) {
  TS_TRY *out = wrap(at::max_pool2d(T(x), dims(k, 2), dims(s, 2), dims(p, 2), dims(d, 2), ceil_mode != 0)); TS_CATCH
}
ts_error ts_upsample_bilinear2d(ts_tensor x, const int64_t *size, int align_corners, ts_tensor *out) {
  TS_TRY *out = wrap(at::upsample_bilinear2d(T(x), dims(size, 2), align_corners != 0)); TS_CATCH
}
ts_error ts_upsample_nearest2d(ts_tensor x, const int64_t *size, ts_tensor *out) {
  TS_TRY *out = wrap(at::upsample_nearest2d(T(x), dims(size, 2))); TS_CATCH
}
ts_error ts_sdpa(ts_tensor q, ts_tensor k, ts_tensor v, ts_tensor mask, double dropout, int is_causal, double scale,
                 ts_tensor *out) {
  TS_TRY c10::optional<double> sc;
  if (scale > 0) sc = scale;
  *out = wrap(at::scaled_dot_product_attention(T(q), T(k), T(v), opt(mask), dropout, is_causal != 0, sc));
  TS_CATCH
}
ts_error ts_cross_entropy(ts_tensor logits, ts_tensor target, ts_tensor weight, int reduction, int64_t ignore_index,
                          double label_smoothing, ts_tensor *out) {
  TS_TRY *out = wrap(at::cross_entropy_loss(T(logits), T(target), opt(weight), reduction, ignore_index, label_smoothing));
  TS_CATCH
}
ts_error ts_one_hot(ts_tensor t, int64_t n, ts_tensor *out) { TS_TRY *out = wrap(at::one_hot(T(t), n)); TS_CATCH }

}  // extern "C"
