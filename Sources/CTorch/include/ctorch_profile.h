/*
 * CTorch op profiler: times every libtorch operator (and autograd node) that runs while it is on, through
 * libtorch's RecordFunction callbacks. Nested operators are attributed both ways: `total` includes the
 * operators an operator calls, `self` does not, and `top` counts only operators called from outside libtorch
 * (what the Swift layer asked for), so the top column sums to the time spent inside libtorch.
 */
#ifndef CTORCH_PROFILE_H
#define CTORCH_PROFILE_H

#include "ctorch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts collecting the calling thread's operators (clears earlier figures). Only one profiler runs at a time;
   stop it on the thread that started it. With record_shapes, operators are keyed by name and input sizes
   ("aten::conv2d [1,48,128,128]cl [384,48,1,1]", "cl" marking channels-last inputs). */
ts_error ts_profiler_start(int record_shapes);
/* Stops and returns one line per operator, "name\tcalls\ttotal_ns\tself_ns\ttop_ns\ttop_calls\n" (owned; free with
   ts_string_free). */
ts_error ts_profiler_stop(char **report);

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_PROFILE_H */
