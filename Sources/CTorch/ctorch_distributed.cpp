// CTorch distributed: c10d's TCPStore, process groups (Gloo, NCCL), the DDP Reducer and SyncBatchNorm.
// Thin like the rest of the shim: each entry point forwards to c10d behind the same exception barrier.
//
// Gloo: the c10d header is compiled against declarations of the few Gloo types it names
// (gloo_decls/, see gloo/context.h there) because the pip libtorch ships no Gloo headers.
// NCCL: lives in libtorch_cuda, which is loaded at run time (ts_cuda_load), so its two constructors
// are resolved with dlsym instead of being linked.
#define USE_C10D_GLOO 1

#include "ctorch_distributed.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <dlfcn.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "ctorch_internal.h"

using namespace ctorch;
using std::chrono::milliseconds;

// The Gloo declarations must not change ProcessGroupGloo's layout: the library allocates and frees
// it with this size (0x1e8 in torch 2.11's deleting destructor). A different torch needs re-measuring:
// objdump -d libtorch_cpu.so at _ZN4c10d16ProcessGroupGlooD0Ev, the size passed to operator delete.
static_assert(sizeof(c10d::ProcessGroupGloo) == 0x1e8,
              "ProcessGroupGloo's layout differs from torch 2.11's; check gloo_decls against this torch");

struct ts_store_s {
  c10::intrusive_ptr<c10d::Store> store;
  int port;
};

struct ts_process_group_s {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  milliseconds timeout;
};

struct ts_reducer_s {
  std::unique_ptr<c10d::Reducer> reducer;
  bool forwardPrepared = false;
};

namespace {

milliseconds callTimeout(ts_process_group g, int64_t timeout_ms) {
  return timeout_ms > 0 ? milliseconds(timeout_ms) : g->timeout;
}

// Waits for a collective. Gloo (CPU tensors) bounds the operation by `timeout` and reports the peer
// that failed; the wait here is a backstop a little later so that nothing can block forever. NCCL
// (CUDA tensors) only orders the current stream after the collective, as torch's async_op=False:
// blocking the host would stall the GPU queue, and NCCL's watchdog enforces its timeout.
void finish(const c10::intrusive_ptr<c10d::Work> &work, milliseconds timeout, const char *what, bool cuda) {
  if (cuda) {
    work->wait();
    return;
  }
  try {
    work->wait(timeout + milliseconds(10000));
  } catch (const c10::Error &e) {
    std::string m = e.what_without_backtrace();
    if (m.find("Operation timed out") != std::string::npos) {
      TORCH_CHECK(false, what, " did not complete within ", timeout.count(),
                  " ms: a peer may have died or stopped calling the same collectives");
    }
    throw;
  }
}

bool anyCuda(const std::vector<at::Tensor> &ts) {
  return std::any_of(ts.begin(), ts.end(), [](const at::Tensor &t) { return t.is_cuda(); });
}

std::shared_ptr<::gloo::transport::Device> glooDevice(const char *interface, const char *hostname) {
  if (interface != nullptr && *interface != 0) return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  if (hostname != nullptr && *hostname != 0) return c10d::ProcessGroupGloo::createDeviceForHostname(hostname);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// One backend over its own key space, as torch's _new_process_group_helper: "<group>/<device>/<key>".
c10::intrusive_ptr<c10d::Backend> makeGloo(const c10::intrusive_ptr<c10d::Store> &store, const std::string &name, int rank,
                                           int size, milliseconds timeout, const char *interface, const char *hostname) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(glooDevice(interface, hostname));
  options->threads = 2;
  options->group_name = name;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(name + "/cpu", store);
  auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, size, options);
  gloo->setSequenceNumberForGroup();
  return gloo;
}

// ---- NCCL through dlsym ----

// Sizes of the objects we allocate for libtorch_cuda's constructors. The library frees them with
// their true sizes (ProcessGroupNCCL is 0x458 bytes in torch 2.11); glibc's free ignores the size, so
// generous blocks keep this correct if a later build grows the classes.
constexpr size_t kNcclOptionsBytes = 16 << 10;
constexpr size_t kNcclGroupBytes = 64 << 10;

using NcclOptionsCtor = void (*)(void *self, bool isHighPriorityStream);
using NcclGroupCtor = void (*)(void *self, c10::intrusive_ptr<c10d::Store> store, int rank, int size,
                               c10::intrusive_ptr<c10d::Backend::Options> options);

void *cudaSymbol(const char *name) {
  void *p = dlsym(RTLD_DEFAULT, name);
  TORCH_CHECK(p != nullptr, "NCCL process groups need libtorch_cuda (call ts_cuda_load first; CUDA unavailable?): ",
              "symbol ", name, " not found");
  return p;
}

void *allocateZeroed(size_t bytes) {
  void *p = ::operator new(bytes, std::align_val_t(64));
  std::memset(p, 0, bytes);
  return p;
}

c10::intrusive_ptr<c10d::Backend> makeNccl(const c10::intrusive_ptr<c10d::Store> &store, const std::string &name,
                                           int rank, int size, milliseconds timeout) {
  auto optionsCtor = reinterpret_cast<NcclOptionsCtor>(cudaSymbol("_ZN4c10d16ProcessGroupNCCL7OptionsC1Eb"));
  auto groupCtor = reinterpret_cast<NcclGroupCtor>(cudaSymbol(
      "_ZN4c10d16ProcessGroupNCCLC1EN3c1013intrusive_ptrINS_5StoreENS1_6detail34intrusive_target_default_null_"
      "typeIS3_EEEEiiNS2_INS0_7OptionsENS5_IS8_EEEE"));
  // Options derive from Backend::Options alone, so the base (timeout, group name) sits at offset 0.
  void *optionsMemory = allocateZeroed(kNcclOptionsBytes);
  optionsCtor(optionsMemory, false);
  auto options = c10::intrusive_ptr<c10d::Backend::Options>::unsafe_steal_from_new(
      static_cast<c10d::Backend::Options *>(optionsMemory));
  options->timeout = timeout;
  options->group_name = name;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(name + "/cuda", store);
  void *groupMemory = allocateZeroed(kNcclGroupBytes);
  try {
    groupCtor(groupMemory, prefixed, rank, size, options);
  } catch (...) {
    ::operator delete(groupMemory, std::align_val_t(64));
    throw;
  }
  return c10::intrusive_ptr<c10d::Backend>::unsafe_steal_from_new(static_cast<c10d::Backend *>(groupMemory));
}

// ---- SyncBatchNorm ----
// torch.nn.modules._functions.SyncBatchNorm. On CUDA the fused kernels it uses
// (batch_norm_stats, batch_norm_gather_stats_with_counts, batch_norm_elemt, batch_norm_backward_reduce,
// batch_norm_backward_elemt); libtorch registers those for CUDA only, so on CPU the same five steps
// are written with ordinary ops. The exchanged quantities (per-rank mean, invstd, count and the two
// gradient sums) are the same on both.

std::optional<at::Tensor> ifDefined(const at::Tensor &t) {
  if (!t.defined()) return std::nullopt;
  return t;
}

std::vector<int64_t> reducedDims(const at::Tensor &x) {
  std::vector<int64_t> d{0};
  for (int64_t i = 2; i < x.dim(); i++) d.push_back(i);
  return d;
}

// (C) -> (1, C, 1, ...) to broadcast against x.
at::Tensor perChannel(const at::Tensor &v, const at::Tensor &x) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = v.numel();
  return v.reshape(shape);
}

std::tuple<at::Tensor, at::Tensor> localStats(const at::Tensor &x, double eps) {
  if (x.is_cuda()) return at::batch_norm_stats(x, eps);
  auto [var, mean] = at::var_mean(x, reducedDims(x), /*correction=*/0, /*keepdim=*/false);
  return {mean, (var + eps).rsqrt()};
}

// Combines per-rank statistics weighted by their counts (Chan et al.'s parallel variance), and updates
// the running statistics with the unbiased global variance.
std::tuple<at::Tensor, at::Tensor> globalStats(const at::Tensor &x, const at::Tensor &meanAll, const at::Tensor &invstdAll,
                                               const at::Tensor &runningMean, const at::Tensor &runningVar,
                                               double momentum, double eps, const at::Tensor &counts) {
  if (x.is_cuda()) {
    return at::batch_norm_gather_stats_with_counts(x, meanAll, invstdAll, ifDefined(runningMean), ifDefined(runningVar), momentum,
                                                   eps, counts);
  }
  auto c = counts.to(meanAll.scalar_type()).unsqueeze(1);  // W,1
  auto n = c.sum();
  auto mean = (meanAll * c).sum(0) / n;
  auto varAll = invstdAll.pow(-2) - eps;
  auto var = ((varAll + (meanAll - mean).pow(2)) * c).sum(0) / n;
  if (runningMean.defined()) {
    runningMean.mul_(1 - momentum).add_((mean * momentum).to(runningMean.scalar_type()));
  }
  if (runningVar.defined()) {
    auto unbiased = var * n / (n - 1);
    runningVar.mul_(1 - momentum).add_((unbiased * momentum).to(runningVar.scalar_type()));
  }
  return {mean, (var + eps).rsqrt()};
}

at::Tensor normalize(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, const at::Tensor &mean,
                     const at::Tensor &invstd, double eps) {
  if (x.is_cuda()) return at::batch_norm_elemt(x, ifDefined(w), ifDefined(b), mean, invstd, eps);
  auto scale = w.defined() ? invstd * w : invstd;
  auto y = (x - perChannel(mean, x)) * perChannel(scale, x);
  return b.defined() ? y + perChannel(b, x) : y;
}

// (sum dy, sum dy*(x-mean), grad weight, grad bias) over this rank's batch, per channel.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> backwardReduce(const at::Tensor &dy, const at::Tensor &x,
                                                                          const at::Tensor &mean, const at::Tensor &invstd,
                                                                          const at::Tensor &w, bool inputGrad,
                                                                          bool weightGrad, bool biasGrad) {
  if (x.is_cuda()) {
    return at::batch_norm_backward_reduce(dy, x, mean, invstd, ifDefined(w), inputGrad, weightGrad, biasGrad);
  }
  auto dims = reducedDims(x);
  auto sumDy = dy.sum(dims);
  auto sumDyXmu = (dy * (x - perChannel(mean, x))).sum(dims);
  return {sumDy, sumDyXmu, sumDyXmu * invstd, sumDy};
}

at::Tensor backwardInput(const at::Tensor &dy, const at::Tensor &x, const at::Tensor &mean, const at::Tensor &invstd,
                         const at::Tensor &w, const at::Tensor &sumDy, const at::Tensor &sumDyXmu,
                         const at::Tensor &counts) {
  if (x.is_cuda()) return at::batch_norm_backward_elemt(dy, x, mean, invstd, ifDefined(w), sumDy, sumDyXmu, counts);
  auto n = counts.sum().to(sumDy.scalar_type());
  auto meanDy = sumDy / n, meanDyXmu = sumDyXmu / n;
  auto scale = w.defined() ? invstd * w : invstd;
  auto xmu = x - perChannel(mean, x);
  return (dy - perChannel(meanDy, x) - xmu * perChannel(invstd * invstd * meanDyXmu, x)) * perChannel(scale, x);
}

c10::intrusive_ptr<c10d::ProcessGroup> groupOf(torch::autograd::AutogradContext *ctx) {
  return c10::static_intrusive_pointer_cast<c10d::ProcessGroup>(ctx->saved_data["group"].toCapsule());
}

milliseconds groupTimeout(torch::autograd::AutogradContext *ctx) {
  return milliseconds(ctx->saved_data["timeout_ms"].toInt());
}

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx, at::Tensor input, at::Tensor w,
                                                at::Tensor b, at::Tensor runningMean, at::Tensor runningVar,
                                                double momentum, double eps, c10::intrusive_ptr<c10d::ProcessGroup> pg,
                                                int64_t timeoutMs) {
    auto x = input.contiguous();
    TORCH_CHECK(x.dim() >= 2, "SyncBatchNorm expects (N, C, ...) input, got ", x.sizes());
    const int64_t channels = x.size(1);
    const int64_t perChannelCount = channels > 0 ? x.numel() / channels : 0;
    const int world = pg->getSize();
    TORCH_CHECK(perChannelCount > 1 || world > 1, "Expected more than 1 value per channel when training, got input size ",
                x.sizes());

    // This rank's [mean, invstd, count] -> every rank's (W, 2C+1).
    at::Tensor combined;
    if (x.numel() > 0) {
      auto [mean, invstd] = localStats(x, eps);
      auto count = at::full({1}, static_cast<double>(perChannelCount), mean.options());
      combined = at::cat({mean, invstd, count});
    } else {
      // The dtype the other ranks' statistics have (float, or double for double input).
      combined = at::zeros({2 * channels + 1}, x.options().dtype(x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat));
    }
    std::vector<std::vector<at::Tensor>> gathered(1);
    for (int i = 0; i < world; i++) gathered[0].push_back(at::empty_like(combined));
    std::vector<at::Tensor> inputs{combined};
    const milliseconds timeout(timeoutMs);
    c10d::AllgatherOptions gatherOptions;
    gatherOptions.timeout = timeout;
    finish(pg->allgather(gathered, inputs, gatherOptions), timeout, "SyncBatchNorm all_gather", x.is_cuda());
    auto all = at::stack(gathered[0], 0);
    auto meanAll = all.narrow(1, 0, channels), invstdAll = all.narrow(1, channels, channels);
    auto countAll = all.narrow(1, 2 * channels, 1).reshape({-1});
    // Ranks with an empty batch contribute nothing.
    auto present = countAll >= 1;
    meanAll = meanAll.index({present});
    invstdAll = invstdAll.index({present});
    countAll = countAll.index({present});

    auto [mean, invstd] = globalStats(x, meanAll, invstdAll, runningMean, runningVar, momentum, eps, countAll);
    ctx->save_for_backward({x, w, mean, invstd, countAll.to(at::kInt)});
    ctx->saved_data["group"] = c10::IValue::make_capsule(pg);
    ctx->saved_data["timeout_ms"] = timeoutMs;
    return {x.numel() > 0 ? normalize(x, w, b, mean, invstd, eps) : at::empty_like(x)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &mean = saved[2], &invstd = saved[3], &counts = saved[4];
    auto dy = grads[0].contiguous();
    auto pg = groupOf(ctx);
    const milliseconds timeout = groupTimeout(ctx);
    const bool inputGrad = ctx->needs_input_grad(0), weightGrad = ctx->needs_input_grad(1),
               biasGrad = ctx->needs_input_grad(2);
    const int64_t channels = x.size(1);

    at::Tensor gradInput, gradWeight, gradBias;
    at::Tensor sumDy, sumDyXmu;
    if (x.numel() > 0) {
      std::tie(sumDy, sumDyXmu, gradWeight, gradBias) =
          backwardReduce(dy, x, mean, invstd, w, inputGrad, weightGrad, biasGrad);
    } else {
      sumDy = at::zeros({channels}, mean.options());
      sumDyXmu = at::zeros({channels}, mean.options());
    }
    if (inputGrad) {
      // The input gradient needs the global sums; every rank takes part even with an empty batch.
      std::vector<at::Tensor> sums{at::cat({sumDy, sumDyXmu})};
      c10d::AllreduceOptions reduceOptions;
      reduceOptions.timeout = timeout;
      finish(pg->allreduce(sums, reduceOptions), timeout, "SyncBatchNorm all_reduce", x.is_cuda());
      auto globalDy = sums[0].narrow(0, 0, channels), globalDyXmu = sums[0].narrow(0, channels, channels);
      gradInput = x.numel() > 0 ? backwardInput(dy, x, mean, invstd, w, globalDy, globalDyXmu, counts)
                                : at::zeros_like(x);
    }
    if (!w.defined() || !weightGrad || x.numel() == 0) gradWeight = at::Tensor();
    if (!w.defined() || !biasGrad || x.numel() == 0) gradBias = at::Tensor();
    return {gradInput, gradWeight, gradBias, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

}  // namespace

extern "C" {

// ---- store ----

ts_error ts_tcp_store_create(const char *host, int port, int is_server, int world_size, int wait_workers,
                             int64_t timeout_ms, ts_store *out) {
  TS_TRY
  TORCH_CHECK(port >= 0 && port <= 65535, "port ", port, " is outside 0...65535");
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = is_server != 0;
  if (world_size > 0) o.numWorkers = static_cast<size_t>(world_size);
  o.waitWorkers = wait_workers != 0 && world_size > 0;
  o.timeout = milliseconds(timeout_ms);
  auto store = c10::make_intrusive<c10d::TCPStore>(host, o);
  int actual = store->getPort();
  *out = new ts_store_s{store, actual};
  TS_CATCH
}

int ts_store_port(ts_store s) { return s->port; }

ts_error ts_store_prefixed(ts_store s, const char *prefix, ts_store *out) {
  TS_TRY *out = new ts_store_s{c10::make_intrusive<c10d::PrefixStore>(prefix, s->store), s->port}; TS_CATCH
}

ts_error ts_store_set(ts_store s, const char *key, const void *value, size_t n) {
  TS_TRY
  auto p = static_cast<const uint8_t *>(value);
  s->store->set(key, std::vector<uint8_t>(p, p + n));
  TS_CATCH
}

ts_error ts_store_get(ts_store s, const char *key, char **value, size_t *n) {
  TS_TRY
  auto v = s->store->get(key);
  char *buffer = static_cast<char *>(std::malloc(v.size() + 1));
  TORCH_CHECK(buffer != nullptr, "out of memory reading store key ", key);
  std::memcpy(buffer, v.data(), v.size());
  buffer[v.size()] = 0;
  *value = buffer;
  *n = v.size();
  TS_CATCH
}

ts_error ts_store_add(ts_store s, const char *key, int64_t delta, int64_t *out) {
  TS_TRY *out = s->store->add(key, delta); TS_CATCH
}

ts_error ts_store_check(ts_store s, const char *key, int *exists) {
  TS_TRY *exists = s->store->check({key}) ? 1 : 0; TS_CATCH
}

ts_error ts_store_wait(ts_store s, const char *const *keys, int n, int64_t timeout_ms) {
  TS_TRY
  std::vector<std::string> k(keys, keys + n);
  s->store->wait(k, milliseconds(timeout_ms));
  TS_CATCH
}

void ts_store_free(ts_store s) { delete s; }

// ---- process groups ----

ts_error ts_process_group_gloo(ts_store store, const char *name, int rank, int size, int64_t timeout_ms,
                               const char *interface, const char *hostname, ts_process_group *out) {
  TS_TRY
  TORCH_CHECK(size >= 1 && rank >= 0 && rank < size, "rank ", rank, " is not in a group of ", size);
  milliseconds timeout(timeout_ms);
  auto gloo = makeGloo(store->store, name, rank, size, timeout, interface, hostname);
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store->store, rank, size);
  pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
  pg->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
  pg->setGroupName(name);
  *out = new ts_process_group_s{pg, timeout};
  TS_CATCH
}

ts_error ts_process_group_nccl(ts_store store, const char *name, int rank, int size, int device, int64_t timeout_ms,
                               const char *interface, const char *hostname, ts_process_group *out) {
  TS_TRY
  TORCH_CHECK(size >= 1 && rank >= 0 && rank < size, "rank ", rank, " is not in a group of ", size);
  TORCH_CHECK(at::detail::getCUDAHooks().hasCUDA(), "NCCL needs CUDA, which is not available in this process");
  TORCH_CHECK(device >= 0 && device < at::detail::getCUDAHooks().deviceCount(), "cuda:", device,
              " does not exist (", at::detail::getCUDAHooks().deviceCount(), " CUDA devices)");
  milliseconds timeout(timeout_ms);
  auto gloo = makeGloo(store->store, name, rank, size, timeout, interface, hostname);
  auto nccl = makeNccl(store->store, name, rank, size, timeout);
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store->store, rank, size);
  // Bound before the backends are set, so NCCL learns its device (and creates communicators for it).
  pg->setBoundDeviceId(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device)));
  pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
  pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
  pg->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
  pg->setGroupName(name);
  *out = new ts_process_group_s{pg, timeout};
  TS_CATCH
}

int ts_process_group_rank(ts_process_group g) { return g->pg->getRank(); }
int ts_process_group_size(ts_process_group g) { return g->pg->getSize(); }

ts_error ts_process_group_shutdown(ts_process_group g) { TS_TRY g->pg->shutdown(); TS_CATCH }
ts_error ts_process_group_abort(ts_process_group g) { TS_TRY g->pg->abort(); TS_CATCH }

void ts_process_group_free(ts_process_group g) {
  try {
    delete g;
  } catch (...) {
  }
}

// ---- collectives ----

ts_error ts_all_reduce(ts_process_group g, const ts_tensor *ts, int n, int op, int64_t timeout_ms) {
  TS_TRY
  static const c10d::ReduceOp::RedOpType ops[] = {c10d::ReduceOp::SUM, c10d::ReduceOp::PRODUCT, c10d::ReduceOp::MIN,
                                                  c10d::ReduceOp::MAX};
  TORCH_CHECK(op >= 0 && op <= 3, "unknown reduce op ", op);
  auto tensors = list(ts, n);
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp(ops[op]);
  o.timeout = callTimeout(g, timeout_ms);
  finish(g->pg->allreduce(tensors, o), o.timeout, "all_reduce", anyCuda(tensors));
  TS_CATCH
}

ts_error ts_broadcast(ts_process_group g, const ts_tensor *ts, int n, int root, int64_t timeout_ms) {
  TS_TRY
  TORCH_CHECK(root >= 0 && root < g->pg->getSize(), "broadcast root ", root, " is not a rank of the group");
  auto tensors = list(ts, n);
  c10d::BroadcastOptions o;
  o.rootRank = root;
  o.timeout = callTimeout(g, timeout_ms);
  finish(g->pg->broadcast(tensors, o), o.timeout, "broadcast", anyCuda(tensors));
  TS_CATCH
}

ts_error ts_broadcast_coalesced(ts_process_group g, const ts_tensor *ts, int n, int root, int64_t buffer_bytes) {
  TS_TRY
  TORCH_CHECK(root >= 0 && root < g->pg->getSize(), "broadcast root ", root, " is not a rank of the group");
  at::NoGradGuard noGrad;  // parameters are written in place
  auto tensors = list(ts, n);
  c10d::broadcast_coalesced(g->pg, tensors, static_cast<size_t>(buffer_bytes), root);
  TS_CATCH
}

ts_error ts_all_gather(ts_process_group g, ts_tensor input, int64_t timeout_ms, ts_tensor *outs) {
  TS_TRY
  const int size = g->pg->getSize();
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int i = 0; i < size; i++) outputs[0].push_back(at::empty_like(T(input), at::MemoryFormat::Contiguous));
  std::vector<at::Tensor> inputs{T(input).contiguous()};
  c10d::AllgatherOptions o;
  o.timeout = callTimeout(g, timeout_ms);
  finish(g->pg->allgather(outputs, inputs, o), o.timeout, "all_gather", T(input).is_cuda());
  for (int i = 0; i < size; i++) outs[i] = wrap(outputs[0][i]);
  TS_CATCH
}

ts_error ts_barrier(ts_process_group g, int64_t timeout_ms) {
  TS_TRY
  c10d::BarrierOptions o;
  o.timeout = callTimeout(g, timeout_ms);
  o.device = c10::Device(c10::DeviceType::CPU);  // through Gloo, whatever the training device
  finish(g->pg->barrier(o), o.timeout, "barrier", false);
  TS_CATCH
}

// ---- data parallel ----

ts_error ts_verify_params_across_processes(ts_process_group g, const ts_tensor *params, int n) {
  TS_TRY c10d::verify_params_across_processes(g->pg, list(params, n), std::nullopt); TS_CATCH
}


ts_error ts_reducer_create(ts_process_group g, const ts_tensor *params, int n, const char *const *names,
                           int64_t bucket_cap_bytes, int64_t first_bucket_bytes, int find_unused, ts_reducer *out) {
  TS_TRY
  TORCH_CHECK(n > 0, "data parallel training needs at least one trainable parameter");
  TORCH_CHECK(bucket_cap_bytes > 0 && first_bucket_bytes > 0, "bucket sizes must be positive");
  auto ps = list(params, n);
  for (int i = 0; i < n; i++) {
    TORCH_CHECK(ps[i].requires_grad(), "parameter ", names ? names[i] : std::to_string(i),
                " does not require grad; pass only trainable parameters");
  }

  std::vector<bool> sparse(static_cast<size_t>(n), false);
  // DDP: without find_unused one bucket for the first iteration, rebuilt afterwards in the order
  // gradients became ready; with it, size-capped buckets from the start.
  std::vector<size_t> limits;
  if (find_unused) {
    limits = {static_cast<size_t>(first_bucket_bytes), static_cast<size_t>(bucket_cap_bytes)};
  } else {
    limits = {std::numeric_limits<size_t>::max()};
  }
  auto assignment = c10d::compute_bucket_assignment_by_size(ps, limits, sparse);
  auto buckets = std::get<0>(assignment);
  std::reverse(buckets.begin(), buckets.end());  // gradients arrive roughly in reverse definition order

  std::unordered_map<size_t, std::string> paramNames;
  if (names != nullptr) {
    for (int i = 0; i < n; i++) paramNames[static_cast<size_t>(i)] = names[i];
  }
  auto reducer = std::make_unique<c10d::Reducer>(ps, buckets, g->pg, sparse, bucket_cap_bytes, find_unused != 0,
                                                 /*gradient_as_bucket_view=*/false, paramNames, first_bucket_bytes,
                                                 /*skip_all_reduce_unused_params=*/false,
                                                 /*use_python_reducer=*/false,
                                                 /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
  *out = new ts_reducer_s{std::move(reducer)};
  TS_CATCH
}

// DDP's forward prologue: iteration count and the one-time bucket rebuild (which broadcasts the new
// order from rank 0), before the forward pass so new buckets are allocated before activations.
ts_error ts_reducer_prepare_forward(ts_reducer r) {
  TS_TRY
  r->reducer->prepare_for_forward();
  r->reducer->rebuild_buckets();
  r->forwardPrepared = true;
  TS_CATCH
}

// DDP's forward epilogue: arm the hooks. Runs the prologue too when the caller skipped it (the
// Reducer otherwise keeps recording the gradient order every iteration).
ts_error ts_reducer_prepare_backward(ts_reducer r, const ts_tensor *outputs, int n) {
  TS_TRY
  if (!r->forwardPrepared) {
    r->reducer->prepare_for_forward();
    r->reducer->rebuild_buckets();
  }
  r->forwardPrepared = false;
  r->reducer->prepare_for_backward(list(outputs, n));
  TS_CATCH
}

int ts_reducer_bucket_count(ts_reducer r) {
  try {
    return static_cast<int>(r->reducer->get_grad_buckets(true).size());
  } catch (...) {
    return -1;
  }
}

void ts_reducer_free(ts_reducer r) {
  try {
    delete r;
  } catch (...) {  // ~Reducer may throw (noexcept(false)); nothing useful to do with it here
  }
}

// ---- SyncBatchNorm ----

ts_error ts_sync_batch_norm(ts_tensor x, ts_tensor w, ts_tensor b, ts_tensor running_mean, ts_tensor running_var,
                            double momentum, double eps, ts_process_group g, ts_tensor *out) {
  TS_TRY
  auto orUndefined = [](ts_tensor h) { return h ? h->t : at::Tensor(); };
  auto outs = SyncBatchNormFunction::apply(T(x), orUndefined(w), orUndefined(b), orUndefined(running_mean),
                                           orUndefined(running_var), momentum, eps, g->pg,
                                           static_cast<int64_t>(g->timeout.count()));
  *out = wrap(outs[0]);
  TS_CATCH
}

}  // extern "C"
