// Mixed precision and optimizer kernels: ATen's autocast state, the multi-tensor (_foreach_*) ops that
// torch.optim's foreach implementations use, the fused optimizer kernels and GradScaler's two kernels.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "ctorch_internal.h"

using namespace ctorch;

namespace {
c10::DeviceType devtype(int code) { return static_cast<c10::DeviceType>(code); }
std::vector<at::Scalar> scalars(const double *v, int n) { return std::vector<at::Scalar>(v, v + n); }
void outputs(std::vector<at::Tensor> r, ts_tensor *outs) {
  for (size_t i = 0; i < r.size(); i++) outs[i] = wrap(std::move(r[i]));
}
}  // namespace

extern "C" {

// ---- autocast ----
int ts_autocast_is_enabled(int dt) {
  try {
    return at::autocast::is_autocast_enabled(devtype(dt)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
ts_error ts_autocast_set_enabled(int dt, int on) { TS_TRY at::autocast::set_autocast_enabled(devtype(dt), on != 0); TS_CATCH }
int ts_autocast_get_dtype(int dt) {
  try {
    return static_cast<int>(at::autocast::get_autocast_dtype(devtype(dt)));
  } catch (...) {
    return -1;
  }
}
ts_error ts_autocast_set_dtype(int dt, int dtype) {
  TS_TRY at::autocast::set_autocast_dtype(devtype(dt), static_cast<at::ScalarType>(dtype)); TS_CATCH
}
int ts_autocast_increment_nesting(void) { return at::autocast::increment_nesting(); }
int ts_autocast_decrement_nesting(void) { return at::autocast::decrement_nesting(); }
void ts_autocast_clear_cache(void) { at::autocast::clear_cache(); }
int ts_autocast_cache_enabled(void) { return at::autocast::is_autocast_cache_enabled() ? 1 : 0; }
void ts_autocast_set_cache_enabled(int on) { at::autocast::set_autocast_cache_enabled(on != 0); }

// ---- foreach ----
ts_error ts_foreach_add_scalar_(const ts_tensor *ts, int n, double s) { TS_TRY at::_foreach_add_(list(ts, n), s); TS_CATCH }
ts_error ts_foreach_mul_scalar_(const ts_tensor *ts, int n, double s) { TS_TRY at::_foreach_mul_(list(ts, n), s); TS_CATCH }
ts_error ts_foreach_mul_tensor_(const ts_tensor *ts, int n, ts_tensor s) { TS_TRY at::_foreach_mul_(list(ts, n), T(s)); TS_CATCH }
ts_error ts_foreach_add_list_(const ts_tensor *ts, const ts_tensor *others, int n, double alpha) {
  TS_TRY at::_foreach_add_(list(ts, n), list(others, n), alpha); TS_CATCH
}
ts_error ts_foreach_add_list(const ts_tensor *ts, const ts_tensor *others, int n, double alpha, ts_tensor *outs) {
  TS_TRY outputs(at::_foreach_add(list(ts, n), list(others, n), alpha), outs); TS_CATCH
}
ts_error ts_foreach_lerp_scalar_(const ts_tensor *ts, const ts_tensor *ends, int n, double weight) {
  TS_TRY at::_foreach_lerp_(list(ts, n), list(ends, n), weight); TS_CATCH
}
ts_error ts_foreach_addcmul_scalar_(const ts_tensor *ts, const ts_tensor *a, const ts_tensor *b, int n, double value) {
  TS_TRY at::_foreach_addcmul_(list(ts, n), list(a, n), list(b, n), value); TS_CATCH
}
ts_error ts_foreach_addcdiv_scalarlist_(const ts_tensor *ts, const ts_tensor *a, const ts_tensor *b, int n, const double *values) {
  TS_TRY at::_foreach_addcdiv_(list(ts, n), list(a, n), list(b, n), scalars(values, n)); TS_CATCH
}
ts_error ts_foreach_div_scalarlist_(const ts_tensor *ts, int n, const double *values) {
  TS_TRY at::_foreach_div_(list(ts, n), scalars(values, n)); TS_CATCH
}
ts_error ts_foreach_sqrt(const ts_tensor *ts, int n, ts_tensor *outs) { TS_TRY outputs(at::_foreach_sqrt(list(ts, n)), outs); TS_CATCH }
ts_error ts_foreach_norm(const ts_tensor *ts, int n, double p, ts_tensor *outs) {
  TS_TRY outputs(at::_foreach_norm(list(ts, n), p), outs); TS_CATCH
}

// ---- fused optimizers ----
ts_error ts_fused_adamw_(const ts_tensor *params, const ts_tensor *grads, const ts_tensor *exp_avgs, const ts_tensor *exp_avg_sqs,
                         const ts_tensor *steps, int n, double lr, double beta1, double beta2, double weight_decay, double eps,
                         ts_tensor grad_scale, ts_tensor found_inf) {
  TS_TRY at::_fused_adamw_(list(params, n), list(grads, n), list(exp_avgs, n), list(exp_avg_sqs, n), {}, list(steps, n), lr, beta1,
                           beta2, weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false, opt(grad_scale), opt(found_inf));
  TS_CATCH
}
ts_error ts_fused_sgd_(const ts_tensor *params, const ts_tensor *grads, const ts_tensor *momentum_bufs, int n_bufs, int n,
                       double weight_decay, double momentum, double lr, double dampening, int nesterov, int is_first_step,
                       ts_tensor grad_scale, ts_tensor found_inf) {
  TS_TRY at::_fused_sgd_(list(params, n), list(grads, n), list(momentum_bufs, n_bufs), weight_decay, momentum, lr, dampening,
                         nesterov != 0, /*maximize=*/false, is_first_step != 0, opt(grad_scale), opt(found_inf));
  TS_CATCH
}

// ---- gradient scaling ----
ts_error ts_amp_foreach_non_finite_check_and_unscale_(const ts_tensor *grads, int n, ts_tensor found_inf, ts_tensor inv_scale) {
  TS_TRY at::_amp_foreach_non_finite_check_and_unscale_(list(grads, n), T(found_inf), T(inv_scale)); TS_CATCH
}
ts_error ts_amp_update_scale_(ts_tensor scale, ts_tensor growth_tracker, ts_tensor found_inf, double growth_factor,
                              double backoff_factor, int64_t growth_interval) {
  TS_TRY at::_amp_update_scale_(T(scale), T(growth_tracker), T(found_inf), growth_factor, backoff_factor, growth_interval);
  TS_CATCH
}

}  // extern "C"
