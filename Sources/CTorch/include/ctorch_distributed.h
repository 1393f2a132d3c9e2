/*
 * CTorch distributed: PyTorch's c10d runtime (TCPStore, ProcessGroupGloo, ProcessGroupNCCL, the DDP
 * Reducer) and SyncBatchNorm, behind the same conventions as ctorch.h: opaque owned handles with free
 * functions, every fallible call returns a ts_error (NULL on success), results through `out` pointers.
 *
 * Every blocking call is bounded: store operations by the store's timeout, Gloo collectives by the
 * group's timeout (or the `timeout_ms` given to the call when > 0). A peer that died makes the call
 * fail with the backend's message instead of hanging. Collectives on CUDA tensors (NCCL) return once
 * the current stream is ordered after them, as torch's async_op=False; NCCL's watchdog enforces the
 * group's timeout for them.
 */
#ifndef CTORCH_DISTRIBUTED_H
#define CTORCH_DISTRIBUTED_H

#include "ctorch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_store_s *ts_store;
typedef struct ts_process_group_s *ts_process_group;
typedef struct ts_reducer_s *ts_reducer;

/* ---- rendezvous store (c10d::TCPStore) ---- */
/* The server listens on `port` (0 = any free port, read it back with ts_store_port). With
   world_size > 0 and wait_workers, every process counts itself in and the server returns only once
   world_size have (so clients pass them too). Clients retry connecting until timeout_ms. */
ts_error ts_tcp_store_create(const char *host, int port, int is_server, int world_size, int wait_workers,
                             int64_t timeout_ms, ts_store *out);
int ts_store_port(ts_store s);
/* The returned store maps key k to "<prefix>/k" (c10d::PrefixStore). */
ts_error ts_store_prefixed(ts_store s, const char *prefix, ts_store *out);
ts_error ts_store_set(ts_store s, const char *key, const void *value, size_t n);
/* Waits (up to the store timeout) for the key; *value is malloc'ed, free with ts_string_free. */
ts_error ts_store_get(ts_store s, const char *key, char **value, size_t *n);
ts_error ts_store_add(ts_store s, const char *key, int64_t delta, int64_t *out);
ts_error ts_store_check(ts_store s, const char *key, int *exists);
/* Waits until every key exists; fails after timeout_ms. */
ts_error ts_store_wait(ts_store s, const char *const *keys, int n, int64_t timeout_ms);
void ts_store_free(ts_store s);

/* ---- process groups (c10d::ProcessGroup over one or two backends) ---- */
/* Gloo for CPU tensors. `name` prefixes the group's store keys (distinct groups need distinct names).
   `interface` (e.g. "eth0") or `hostname` choose the address peers connect to; both NULL = resolve
   this host's name (falling back to loopback), as torch's default Gloo device does. */
ts_error ts_process_group_gloo(ts_store store, const char *name, int rank, int size, int64_t timeout_ms,
                               const char *interface, const char *hostname, ts_process_group *out);
/* NCCL for CUDA tensors on cuda:device, plus Gloo for CPU tensors (barriers and CPU collectives), as
   torch's "cpu:gloo,cuda:nccl". Needs ts_cuda_load() to have succeeded: NCCL lives in libtorch_cuda,
   which is reached at run time (dlsym), never linked. */
ts_error ts_process_group_nccl(ts_store store, const char *name, int rank, int size, int device, int64_t timeout_ms,
                               const char *interface, const char *hostname, ts_process_group *out);
int ts_process_group_rank(ts_process_group g);
int ts_process_group_size(ts_process_group g);
/* Waits for pending work and releases the backends' resources; later collectives fail. */
ts_error ts_process_group_shutdown(ts_process_group g);
/* Aborts pending work without waiting (for a group whose peer failed). */
ts_error ts_process_group_abort(ts_process_group g);
void ts_process_group_free(ts_process_group g);

/* ---- collectives (blocking; in place on the given tensors) ---- */
/* Reduce ops: 0 sum, 1 product, 2 min, 3 max (c10d::ReduceOp). Tensors must be contiguous and, with
   n > 1, of one dtype and device. */
ts_error ts_all_reduce(ts_process_group g, const ts_tensor *ts, int n, int op, int64_t timeout_ms);
ts_error ts_broadcast(ts_process_group g, const ts_tensor *ts, int n, int root, int64_t timeout_ms);
/* Flattens the tensors into buffers of at most buffer_bytes and broadcasts those (DDP's
   _sync_module_states): few messages for many small parameters. */
ts_error ts_broadcast_coalesced(ts_process_group g, const ts_tensor *ts, int n, int root, int64_t buffer_bytes);
/* outs receives `size` new tensors: rank i's input in outs[i]. */
ts_error ts_all_gather(ts_process_group g, ts_tensor input, int64_t timeout_ms, ts_tensor *outs);
ts_error ts_barrier(ts_process_group g, int64_t timeout_ms);

/* ---- data parallel: c10d::Reducer (DDP's gradient buckets, all-reduce overlapped with backward) ---- */
/* Fails unless every rank holds parameters of the same count, shapes, dtypes and layouts (DDP's
   _verify_param_shape_across_processes); call before anything else that assumes it. */
ts_error ts_verify_params_across_processes(ts_process_group g, const ts_tensor *params, int n);
/* Hooks the parameters' gradient accumulators. Buckets hold at most bucket_cap_bytes (the first one
   first_bucket_bytes) and are rebuilt once in gradient-ready order after the first iteration, as DDP
   does. `names` (nullable)
   name parameters in errors. find_unused: traverse the graph from the outputs each step so that
   parameters without a gradient do not stall the reduction (DDP's find_unused_parameters). */
ts_error ts_reducer_create(ts_process_group g, const ts_tensor *params, int n, const char *const *names,
                           int64_t bucket_cap_bytes, int64_t first_bucket_bytes, int find_unused, ts_reducer *out);
/* Optional, once per iteration before the forward pass: rebuilds buckets when due (once, after the
   first iteration) before activations take memory, as DDP's forward does. */
ts_error ts_reducer_prepare_forward(ts_reducer r);
/* Once per iteration after the forward pass and before backward: arms the hooks, so that backward
   averages gradients across ranks (and does prepare_forward's work if it was skipped). Outputs are
   used only with find_unused. Skip it for a backward that should not synchronise (gradient
   accumulation). */
ts_error ts_reducer_prepare_backward(ts_reducer r, const ts_tensor *outputs, int n);
/* Number of gradient buckets (for tests and logs). */
int ts_reducer_bucket_count(ts_reducer r);
void ts_reducer_free(ts_reducer r);

/* ---- SyncBatchNorm (torch.nn.SyncBatchNorm's autograd function) ---- */
/* Training-mode batch norm with statistics over the group's global batch: per-rank mean/invstd/count
   are all-gathered and combined; backward all-reduces the two gradient sums. Updates running_mean and
   running_var (nullable) like BatchNorm. w, b nullable. */
ts_error ts_sync_batch_norm(ts_tensor x, ts_tensor w, ts_tensor b, ts_tensor running_mean, ts_tensor running_var,
                            double momentum, double eps, ts_process_group g, ts_tensor *out);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_DISTRIBUTED_H */
