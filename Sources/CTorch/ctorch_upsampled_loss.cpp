// CTorch: the decode heads' loss on the CPU in one fused kernel: the logits bilinearly upsampled to the label size
// (align_corners=False, ATen's source indices and weights) and the summed pixel cross-entropy, with its backward.
//
// The composite (upsample, log_softmax over the (pixels, classes) view, and the backward through both) writes and
// reads several label-sized class maps: 315 MB each at 2 x 150 x 512 x 512, about 270 ms of a 3 s LRFormer-T step.
// Here each output pixel's class scores are interpolated from its 4 source pixels into a scratch row of C floats and
// reduced to their log-sum-exp (saved: one float per pixel); the backward interpolates them again, turns them into
// (softmax - onehot) * grad and adds that to the 4 source pixels' gradient rows with the bilinear weights. No
// label-sized class map exists at any point. Other devices (and meta tensors) run the composite.
#include "ctorch_internal.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#define CTORCH_HAS_AVX2_KERNEL 1
#endif

using namespace ctorch;

namespace {

/// One output coordinate's two source indices and weights: ATen's compute_source_index_and_lambda for
/// align_corners=False with no explicit scale (scale = in / out, source = scale * (o + 0.5) - 0.5, clamped at 0).
template <typename S>
struct Tap {
  int64_t i0, i1;
  S w0, w1;
};

template <typename S>
std::vector<Tap<S>> bilinearTaps(int64_t in, int64_t out) {
  std::vector<Tap<S>> taps(out);
  const S scale = static_cast<S>(in) / static_cast<S>(out);
  for (int64_t o = 0; o < out; ++o) {
    if (in == out) {
      taps[o] = {o, o, S(1), S(0)};
      continue;
    }
    S source = std::max(scale * (static_cast<S>(o) + S(0.5)) - S(0.5), S(0));
    int64_t i0 = std::min(static_cast<int64_t>(std::floor(source)), in - 1);
    S w1 = std::min(std::max(source - static_cast<S>(i0), S(0)), S(1));
    taps[o] = {i0, i0 + (i0 < in - 1 ? 1 : 0), S(1) - w1, w1};
  }
  return taps;
}

/// The 4 source rows of class scores behind one output pixel and their bilinear weights.
template <typename S>
struct Corners {
  const S *p[4];
  S w[4];
};

/// Per-pixel arithmetic, portable: the compiler vectorises the interpolation; exp is the C library's.
template <typename S>
struct PortableOps {
  /// Writes the interpolated scores to z and returns their log-sum-exp.
  static S logSumExp(const Corners<S> &c, S *z, int64_t classes) {
    S m = -std::numeric_limits<S>::infinity();
    for (int64_t k = 0; k < classes; ++k) {
      z[k] = c.w[0] * c.p[0][k] + c.w[1] * c.p[1][k] + c.w[2] * c.p[2][k] + c.w[3] * c.p[3][k];
      m = std::max(m, z[k]);
    }
    S sum = 0;
    for (int64_t k = 0; k < classes; ++k) sum += std::exp(z[k] - m);
    return m + std::log(sum);
  }
  /// q = softmax(z) * scale from the saved log-sum-exp (z interpolated again).
  static void softmax(const Corners<S> &c, S lse, S scale, S *q, int64_t classes) {
    for (int64_t k = 0; k < classes; ++k) {
      S z = c.w[0] * c.p[0][k] + c.w[1] * c.p[1][k] + c.w[2] * c.p[2][k] + c.w[3] * c.p[3][k];
      q[k] = std::exp(z - lse) * scale;
    }
  }
  /// g[i] += w[i] * q for the 4 source gradient rows (some may be the same row at the borders).
  static void scatter(S *const g[4], const S w[4], const S *q, int64_t classes) {
    for (int i = 0; i < 4; ++i)
      for (int64_t k = 0; k < classes; ++k) g[i][k] += w[i] * q[k];
  }
};

#ifdef CTORCH_HAS_AVX2_KERNEL
#define AVX2 __attribute__((target("avx2,fma")))

/// exp on 8 floats (Cephes' expf: x = n ln2 + r, a degree-6 polynomial in r, 2^n through the exponent bits;
/// about 1 ulp). The clamps are written so that a NaN passes through (min/max return their second operand on NaN),
/// so NaN logits still give a NaN loss.
AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x);
  __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), x);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

AVX2 inline float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

AVX2 inline float horizontalMax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

/// Lanes [0, n) set: the last, partial vector of a row of class scores (n in 1...7).
AVX2 inline __m256i firstLanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 inline __m256 load8(const float *p, __m256i lanes, bool partial) {
  return partial ? _mm256_maskload_ps(p, lanes) : _mm256_loadu_ps(p);
}

/// Scores k..<k+8 interpolated from the 4 corners (lanes outside `lanes` read nothing and are 0).
AVX2 inline __m256 interpolate8(const Corners<float> &c, const __m256 w[4], int64_t k, __m256i lanes, bool partial) {
  __m256 v = _mm256_mul_ps(w[0], load8(c.p[0] + k, lanes, partial));
  v = _mm256_fmadd_ps(w[1], load8(c.p[1] + k, lanes, partial), v);
  v = _mm256_fmadd_ps(w[2], load8(c.p[2] + k, lanes, partial), v);
  return _mm256_fmadd_ps(w[3], load8(c.p[3] + k, lanes, partial), v);
}

/// The same three steps as PortableOps, 8 classes at a time (float32 on CPUs with AVX2 and FMA). The scratch rows
/// z and q hold classes rounded up to 8; a row's last, partial vector is read and written through lane masks.
struct Avx2Ops {
  AVX2 static float logSumExp(const Corners<float> &c, float *z, int64_t classes) {
    const __m256 w[4] = {_mm256_set1_ps(c.w[0]), _mm256_set1_ps(c.w[1]), _mm256_set1_ps(c.w[2]), _mm256_set1_ps(c.w[3])};
    const __m256 minusInfinity = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    const __m256i all = _mm256_set1_epi32(-1);
    __m256 vmax = minusInfinity;
    int64_t k = 0;
    for (; k + 8 <= classes; k += 8) {
      __m256 v = interpolate8(c, w, k, all, false);
      _mm256_storeu_ps(z + k, v);
      vmax = _mm256_max_ps(vmax, v);
    }
    if (k < classes) {  // padding lanes hold -inf: no effect on the max, exp gives 0
      const __m256i lanes = firstLanes(classes - k);
      __m256 v = _mm256_blendv_ps(minusInfinity, interpolate8(c, w, k, lanes, true), _mm256_castsi256_ps(lanes));
      _mm256_storeu_ps(z + k, v);
      vmax = _mm256_max_ps(vmax, v);
      k += 8;
    }
    const __m256 vm = _mm256_set1_ps(horizontalMax(vmax));
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();  // two chains of adds, not one
    int64_t j = 0;
    for (; j + 16 <= k; j += 16) {
      sum0 = _mm256_add_ps(sum0, exp8(_mm256_sub_ps(_mm256_loadu_ps(z + j), vm)));
      sum1 = _mm256_add_ps(sum1, exp8(_mm256_sub_ps(_mm256_loadu_ps(z + j + 8), vm)));
    }
    if (j < k) sum0 = _mm256_add_ps(sum0, exp8(_mm256_sub_ps(_mm256_loadu_ps(z + j), vm)));
    return _mm256_cvtss_f32(vm) + std::log(horizontalSum(_mm256_add_ps(sum0, sum1)));
  }
  AVX2 static void softmax(const Corners<float> &c, float lse, float scale, float *q, int64_t classes) {
    const __m256 w[4] = {_mm256_set1_ps(c.w[0]), _mm256_set1_ps(c.w[1]), _mm256_set1_ps(c.w[2]), _mm256_set1_ps(c.w[3])};
    const __m256 vl = _mm256_set1_ps(lse), vs = _mm256_set1_ps(scale);
    const __m256i all = _mm256_set1_epi32(-1);
    for (int64_t k = 0; k < classes; k += 8) {
      const bool partial = k + 8 > classes;
      const __m256 z = interpolate8(c, w, k, partial ? firstLanes(classes - k) : all, partial);
      _mm256_storeu_ps(q + k, _mm256_mul_ps(exp8(_mm256_sub_ps(z, vl)), vs));
    }
  }
  AVX2 static void scatter(float *const g[4], const float w[4], const float *q, int64_t classes) {
    const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]), w2 = _mm256_set1_ps(w[2]), w3 = _mm256_set1_ps(w[3]);
    int64_t k = 0;
    // g[i] may be the same row at the borders: each add reads what the previous one stored.
    for (; k + 8 <= classes; k += 8) {
      const __m256 v = _mm256_loadu_ps(q + k);
      _mm256_storeu_ps(g[0] + k, _mm256_fmadd_ps(w0, v, _mm256_loadu_ps(g[0] + k)));
      _mm256_storeu_ps(g[1] + k, _mm256_fmadd_ps(w1, v, _mm256_loadu_ps(g[1] + k)));
      _mm256_storeu_ps(g[2] + k, _mm256_fmadd_ps(w2, v, _mm256_loadu_ps(g[2] + k)));
      _mm256_storeu_ps(g[3] + k, _mm256_fmadd_ps(w3, v, _mm256_loadu_ps(g[3] + k)));
    }
    if (k < classes) {
      const __m256i lanes = firstLanes(classes - k);
      const __m256 v = _mm256_loadu_ps(q + k);
      _mm256_maskstore_ps(g[0] + k, lanes, _mm256_fmadd_ps(w0, v, _mm256_maskload_ps(g[0] + k, lanes)));
      _mm256_maskstore_ps(g[1] + k, lanes, _mm256_fmadd_ps(w1, v, _mm256_maskload_ps(g[1] + k, lanes)));
      _mm256_maskstore_ps(g[2] + k, lanes, _mm256_fmadd_ps(w2, v, _mm256_maskload_ps(g[2] + k, lanes)));
      _mm256_maskstore_ps(g[3] + k, lanes, _mm256_fmadd_ps(w3, v, _mm256_maskload_ps(g[3] + k, lanes)));
    }
  }
};
#undef AVX2

bool cpuHasAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#endif

/// The problem's shapes and pointers: logits (N, h, w, C) contiguous (channels-last), targets (N, H, W).
template <typename S>
struct Problem {
  int64_t images, classes, h, w, H, W, ignoreIndex;
  const S *logits;
  const int64_t *target;
  std::vector<Tap<S>> rows, cols;

  const S *scores(int64_t n, int64_t y, int64_t x) const { return logits + ((n * h + y) * w + x) * classes; }
  Corners<S> corners(int64_t n, const Tap<S> &r, const Tap<S> &c) const {
    return {{scores(n, r.i0, c.i0), scores(n, r.i0, c.i1), scores(n, r.i1, c.i0), scores(n, r.i1, c.i1)},
            {r.w0 * c.w0, r.w0 * c.w1, r.w1 * c.w0, r.w1 * c.w1}};
  }
};

/// Sum over valid pixels of -log softmax(z)[target]; one partial sum per output row, added in row order, so the
/// value does not depend on the thread count.
template <typename S, typename Ops>
double forwardSum(const Problem<S> &p, S *lse) {
  std::vector<double> rowLoss(p.images * p.H, 0.0);
  parallelFor(0, p.images * p.H, [&](int64_t begin, int64_t end) {
    std::vector<S> z(p.classes + 7);  // room for a last, padded vector
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / p.H, y = row % p.H;
      double sum = 0;
      for (int64_t x = 0; x < p.W; ++x) {
        const int64_t pixel = row * p.W + x, t = p.target[pixel];
        if (t == p.ignoreIndex) continue;
        S l = Ops::logSumExp(p.corners(n, p.rows[y], p.cols[x]), z.data(), p.classes);
        lse[pixel] = l;
        sum += static_cast<double>(l) - static_cast<double>(z[t]);
      }
      rowLoss[row] = sum;
    }
  });
  double total = 0;
  for (double v : rowLoss) total += v;
  return total;
}

/// Output rows are processed in blocks; blocks two apart read and write disjoint source rows, so the even blocks
/// run in parallel, then the odd ones, and no two threads ever add to the same gradient row at once.
template <typename S>
int64_t disjointBlockHeight(const Problem<S> &p) {
  for (int64_t height = 4;; height *= 2) {
    if (height * 2 >= p.H) return height;  // at most two blocks per image: one per phase
    bool disjoint = true;
    for (int64_t start = 0; start + 2 * height < p.H && disjoint; start += height) {
      const int64_t lastOfThis = std::min(start + height, p.H) - 1;
      disjoint = p.rows[start + 2 * height].i0 > p.rows[lastOfThis].i1;
    }
    if (disjoint) return height;
  }
}

template <typename S, typename Ops>
void backwardInto(const Problem<S> &p, const S *lse, S scale, S *grad) {
  const int64_t height = disjointBlockHeight(p), blocks = (p.H + height - 1) / height;
  for (int64_t phase = 0; phase < 2; ++phase) {
    const int64_t perImage = (blocks - phase + 1) / 2;  // blocks phase, phase + 2, ...
    parallelFor(0, p.images * perImage, [&](int64_t begin, int64_t end) {
      std::vector<S> q(p.classes + 7);
      for (int64_t task = begin; task < end; ++task) {
        const int64_t n = task / perImage, block = phase + 2 * (task % perImage);
        for (int64_t y = block * height; y < std::min((block + 1) * height, p.H); ++y) {
          const Tap<S> &r = p.rows[y];
          for (int64_t x = 0; x < p.W; ++x) {
            const int64_t pixel = (n * p.H + y) * p.W + x, t = p.target[pixel];
            if (t == p.ignoreIndex) continue;
            const Tap<S> &c = p.cols[x];
            const Corners<S> k = p.corners(n, r, c);
            Ops::softmax(k, lse[pixel], scale, q.data(), p.classes);
            q[t] -= scale;
            S *const g[4] = {grad + (k.p[0] - p.logits), grad + (k.p[1] - p.logits), grad + (k.p[2] - p.logits),
                             grad + (k.p[3] - p.logits)};
            Ops::scatter(g, k.w, q.data(), p.classes);
          }
        }
      }
    });
  }
}

template <typename S>
Problem<S> makeProblem(const at::Tensor &logits, const at::Tensor &target, int64_t ignoreIndex) {
  Problem<S> p{logits.size(0), logits.size(3), logits.size(1), logits.size(2), target.size(1), target.size(2), ignoreIndex,
               logits.data_ptr<S>(), target.data_ptr<int64_t>(), {}, {}};
  p.rows = bilinearTaps<S>(p.h, p.H);
  p.cols = bilinearTaps<S>(p.w, p.W);
  return p;
}

/// Runs `body` with the per-pixel arithmetic for this dtype and CPU.
template <typename Body>
void dispatch(at::ScalarType dtype, Body &&body) {
  if (dtype == at::kDouble) return body(double(), PortableOps<double>());
#ifdef CTORCH_HAS_AVX2_KERNEL
  if (cpuHasAvx2()) return body(float(), Avx2Ops());
#endif
  body(float(), PortableOps<float>());
}

struct UpsampledPixelCrossEntropySum : public torch::autograd::Function<UpsampledPixelCrossEntropySum> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx, at::Tensor logits,
                                                at::Tensor target, int64_t ignoreIndex) {
    // (N, h, w, C) rows of class scores; a channels-last tensor already is one. Reduced-precision logits
    // (autocast) are computed in float32, as autocast runs the upsampling and cross_entropy.
    auto compute = logits.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    auto rows = logits.to(compute).permute({0, 2, 3, 1}).contiguous();
    auto labels = target.to(at::kLong).contiguous();
    auto lse = at::empty(labels.sizes(), rows.options());
    double sum = 0;
    dispatch(compute, [&](auto scalar, auto ops) {
      using S = decltype(scalar);
      sum = forwardSum<S, decltype(ops)>(makeProblem<S>(rows, labels, ignoreIndex), lse.data_ptr<S>());
    });
    ctx->save_for_backward({rows, labels, lse});
    ctx->saved_data["ignore"] = ignoreIndex;
    ctx->saved_data["dtype"] = static_cast<int64_t>(logits.scalar_type());
    return {at::scalar_tensor(sum, rows.options())};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &rows = saved[0], &labels = saved[1], &lse = saved[2];
    const int64_t ignoreIndex = ctx->saved_data["ignore"].toInt();
    auto grad = at::zeros_like(rows);
    dispatch(rows.scalar_type(), [&](auto scalar, auto ops) {
      using S = decltype(scalar);
      const S scale = grads[0].item<S>();
      backwardInto<S, decltype(ops)>(makeProblem<S>(rows, labels, ignoreIndex), lse.data_ptr<S>(), scale, grad.data_ptr<S>());
    });
    auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    return {grad.permute({0, 3, 1, 2}).to(dtype), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

extern "C" {

ts_error ts_upsampled_pixel_cross_entropy_sum(ts_tensor logits, ts_tensor target, int64_t ignore_index, ts_tensor *out) {
  TS_TRY
    const auto &x = T(logits), &y = T(target);
    TORCH_CHECK(x.dim() == 4, "upsampled pixel cross-entropy expects (N, classes, h, w) logits, got ", x.sizes());
    TORCH_CHECK(y.dim() == 3 && y.size(0) == x.size(0), "upsampled pixel cross-entropy: labels ", y.sizes(),
                " do not match logits ", x.sizes());
    TORCH_CHECK(x.size(2) > 0 && x.size(3) > 0 && y.numel() > 0, "upsampled pixel cross-entropy: empty logits ", x.sizes(),
                " or labels ", y.sizes());
    if (x.device().is_cpu() && c10::isFloatingType(x.scalar_type())) {
      checkPixelTargets(y, x.size(1), ignore_index);
      *out = wrap(UpsampledPixelCrossEntropySum::apply(x, y, ignore_index)[0]);
    } else {
      auto up = at::upsample_bilinear2d(x.contiguous(at::MemoryFormat::ChannelsLast), {y.size(1), y.size(2)}, false);
      *out = wrap(pixelCrossEntropySum(up.permute({0, 2, 3, 1}).reshape({-1, x.size(1)}), y.reshape({-1}), ignore_index));
    }
  TS_CATCH
}

}  // extern "C"
