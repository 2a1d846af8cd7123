/*
 * engram.h: the C ABI of libengram (libengram_cuda.so on a GPU, libengram_emu.so for the host emulation of the same
 * kernels). This header is the only thing callers (the Java FFM binding) see.
 *
 * Conventions
 *  - Every function that can fail returns an engram_status and writes a NUL-terminated message into err[0..err_cap)
 *    (truncated if needed; err may be NULL when err_cap is 0). On success err is left as it was.
 *  - Matrices are float32, row-major, dense unless a stride is given; pointers are host pointers.
 *  - A memory handle owns device copies of X (M×d), V (M×dv, absent when V = X) and the norms ‖x_i‖; they are
 *    uploaded once (engram_memory_append), changed rows rewritten in place (engram_memory_write), and reused by every
 *    retrieval. Calls on one handle are serialised (the handle owns one workspace); use one handle per thread for
 *    concurrency.
 *  - Partial state follows dev.engram.engine.RetrievalPartial: per query
 *      m = max_i s_i,  l = Σ e^(s_i − m),  t = Σ e^(s_i − m)·(s_i − m)  (relative to m),  o = Σ e^(s_i − m)·v_i
 *    with s_i = beta·q·x_i, so partials from here merge exactly with partials from the Java engines.
 */
#ifndef ENGRAM_H
#define ENGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ENGRAM_API __declspec(dllexport)
#else
#define ENGRAM_API __attribute__((visibility("default")))
#endif

#define ENGRAM_ABI_VERSION 4

/** Largest top-k a retrieval supports (per-block lists live in shared memory). Callers read it: engram_get_limits. */
#define ENGRAM_MAX_K 256

/** Most threads per block a retrieval launch may use (the kernel's __launch_bounds__). */
#define ENGRAM_MAX_BLOCK_THREADS 256

typedef enum engram_status {
    ENGRAM_OK = 0,
    ENGRAM_ERROR_INVALID_ARGUMENT = 1, /* a size, pointer or parameter is wrong; the message names it and its value */
    ENGRAM_ERROR_OUT_OF_MEMORY = 2,    /* device (or host staging) memory could not be allocated */
    ENGRAM_ERROR_NO_DEVICE = 3,        /* no CUDA device or no usable driver */
    ENGRAM_ERROR_DEVICE = 4,           /* any other CUDA runtime error, including kernel faults */
    ENGRAM_ERROR_UNSUPPORTED = 5       /* a valid request this build cannot serve (e.g. shared memory too small) */
} engram_status;

/** How stored patterns and values are kept on the device; accumulation is always float32 or wider. */
typedef enum engram_storage {
    ENGRAM_STORAGE_F32 = 0,
    ENGRAM_STORAGE_F16 = 1,  /* IEEE binary16, round to nearest even on upload; |values| must stay <= 65504 */
    ENGRAM_STORAGE_BF16 = 2, /* bfloat16, round to nearest even on upload */
    ENGRAM_STORAGE_COUNT = 3 /* number of storage kinds: valid codes are [0, ENGRAM_STORAGE_COUNT) */
} engram_storage;

/** What this build supports; callers read these instead of copying the numbers. */
typedef struct engram_limits {
    int32_t max_k;             /* ENGRAM_MAX_K */
    int32_t max_block_threads; /* ENGRAM_MAX_BLOCK_THREADS */
    int32_t retrieve_v2_auto;  /* 1: launch.kernel = 0 runs retrieval kernel 2 where it serves the shape (validated on
                                  a GPU); 0: automatic keeps kernel 1 and kernel 2 runs only when asked for */
} engram_limits;

typedef struct engram_memory engram_memory;

/** ENGRAM_ABI_VERSION of the library (callers check it against the header they were written for). */
ENGRAM_API int32_t engram_abi_version(void);

/** Fills *out with this build's limits (no-op for NULL). */
ENGRAM_API void engram_get_limits(engram_limits* out);

/** "cuda" or "emu". */
ENGRAM_API const char* engram_variant(void);

/**
 * Number of usable devices and the name of device 0. ENGRAM_ERROR_NO_DEVICE (with the runtime's reason) when there
 * is none or the driver is missing/too old.
 */
ENGRAM_API int32_t engram_device_info(int32_t* device_count, char* name, int64_t name_cap, char* err, int64_t err_cap);

/**
 * Creates an empty memory of d-dimensional patterns with dv-dimensional values (values_are_patterns != 0: V = X,
 * dv must equal d, and X is stored and streamed once).
 */
ENGRAM_API int32_t engram_memory_create(int32_t dim, int32_t value_dim, int32_t values_are_patterns, int32_t storage,
                                        engram_memory** out, char* err, int64_t err_cap);

/**
 * Appends n rows: x n×d, v n×dv (NULL when V = X). Converts to the storage type, computes the norms of the stored
 * (rounded) patterns, uploads. All checks happen before the memory changes; a failed append leaves it as it was.
 */
ENGRAM_API int32_t engram_memory_append(engram_memory* mem, const float* x, const float* v, int64_t n, char* err,
                                        int64_t err_cap);

/**
 * Overwrites n stored rows in place: row rows[i] (in [0, M)) gets x[i] (x n×d) and v[i] (v n×dv, NULL when V = X),
 * converted to the storage type, with its norm recomputed from the stored (rounded) pattern. A row listed twice
 * gets the later one. All checks and conversions happen before the memory changes; a rejected write leaves it as it
 * was. Ascending rows are cheapest: each run of consecutive rows is uploaded in one copy per buffer.
 */
ENGRAM_API int32_t engram_memory_write(engram_memory* mem, const int64_t* rows, int64_t n, const float* x,
                                       const float* v, char* err, int64_t err_cap);

/** M, or -1 for a NULL handle. */
ENGRAM_API int64_t engram_memory_size(const engram_memory* mem);

/** Bytes of device memory the handle holds (patterns, values, norms and workspace), or -1 for NULL. */
ENGRAM_API int64_t engram_memory_device_bytes(const engram_memory* mem);

/** Frees the handle and its device memory. NULL is a no-op. */
ENGRAM_API void engram_memory_destroy(engram_memory* mem);

/** Number of live handles in this process (leak checks). */
ENGRAM_API int64_t engram_live_memories(void);

/**
 * Launch shape; 0 lets the library choose. block_threads: a multiple of 32 in [32, 256]; chunk: patterns per block,
 * a multiple of 32; query_tile: queries per block in [1, block_threads/4]. Results do not depend on the shape beyond
 * float32 round-off.
 */
typedef struct engram_launch {
    int32_t block_threads;
    int32_t chunk;
    int32_t query_tile;
    int32_t kernel; /* pass-1 kernel: 0 automatic, 1 SIMT (version 1), 2 tensor cores (version 2: d = dv in
                       {32, 64, 128}; block_threads 0 or 128, query_tile 0 or 16, chunk a multiple of 128) */
} engram_launch;

/**
 * Retrieval over patterns [from, to) of mem for a batch of B queries (row r at queries + r·query_stride floats):
 *   output     B×dv  softmax(beta·q·Xᵀ)·V
 *   entropy    B     H = log l − t/l, clamped to [0, log(to − from)]
 *   confidence B     1 − H/log(to − from)  (1 when to − from = 1)
 *   top_index  B×k   indices (into the whole memory) of the k best cosines, best first, ties to the smaller index
 *   top_score  B×k   their cosine similarities (0 for a zero query or pattern)
 * launch may be NULL. top_index/top_score may be NULL when k = 0.
 */
ENGRAM_API int32_t engram_retrieve(engram_memory* mem, const float* queries, int64_t batch, int64_t query_stride,
                                   float beta, int32_t k, int64_t from, int64_t to, const engram_launch* launch,
                                   float* output, float* entropy, float* confidence, int64_t* top_index,
                                   float* top_score, char* err, int64_t err_cap);

/**
 * Like engram_retrieve but returns the mergeable partial state (m, l, t relative to m, o; all B or B×dv) and the
 * top-k lists. k may exceed to − from here (a slice of a larger memory): entries past the number of patterns in
 * range are index −1, score −inf.
 */
ENGRAM_API int32_t engram_retrieve_partial(engram_memory* mem, const float* queries, int64_t batch,
                                           int64_t query_stride, float beta, int32_t k, int64_t from, int64_t to,
                                           const engram_launch* launch, float* max, float* sum, float* shifted,
                                           float* out, int64_t* top_index, float* top_score, char* err,
                                           int64_t err_cap);

/* ---- ensemble integration (dev.engram.engine.EnsembleSpec / EnsembleModel / EnsembleResult) ---- */

/** Most affine layers (hidden layers + the output layer) of one network in an ensemble model. */
#define ENGRAM_MAX_NET_LAYERS 8

/** Model kinds, as dev.engram.engine.EnsembleModel; which networks each uses: engram_ensemble.nets. */
typedef enum engram_model_kind {
    ENGRAM_MODEL_HAMILTONIAN = 0, /* nets: H [2n, hidden..., 1] */
    ENGRAM_MODEL_SEPARABLE = 1,   /* nets: T [n, hidden..., 1] (of p), V [n, hidden..., 1] (of q) */
    ENGRAM_MODEL_DISSIPATIVE = 2, /* nets: H [2n, ..., 1], R [2n, ..., n] (damping D = softplus(R)) */
    ENGRAM_MODEL_PORT = 3,        /* nets: H, R as above, G [n, ..., n*m] (input map G(q), n x m row-major) */
    ENGRAM_MODEL_DERIVATIVE = 4,  /* nets: F [2n + m, ..., 2n] */
    ENGRAM_MODEL_COUNT = 5
} engram_model_kind;

/** Integration schemes, as dev.engram.engine.EnsembleSpec.Scheme (same equations, same order of updates). */
typedef enum engram_scheme {
    ENGRAM_SCHEME_LEAPFROG = 0,       /* the seed's p, q, p form with three gradients; hamiltonian and separable */
    ENGRAM_SCHEME_STORMER_VERLET = 1, /* separable only, one grad V and one grad T per step */
    ENGRAM_SCHEME_TAO = 2,            /* Tao's extended phase space; hamiltonian and separable */
    ENGRAM_SCHEME_RK4 = 3,            /* every kind */
    ENGRAM_SCHEME_COUNT = 4
} engram_scheme;

/** Which integration kernel runs. */
typedef enum engram_integrate_kernel {
    ENGRAM_KERNEL_AUTO = 0,        /* ENGRAM_KERNEL_FP32 (the tensor kernel is chosen only by name: lower precision) */
    ENGRAM_KERNEL_FP32 = 1,        /* one thread per trajectory, float32 FMA: every kind and scheme */
    ENGRAM_KERNEL_TENSOR_BF16 = 2, /* warp tiles on mma.sync bf16 (FP32 accumulate): hamiltonian, leapfrog, two
                                      hidden layers of equal width h (a multiple of 16, <= 256), n <= 8 */
    ENGRAM_KERNEL_COUNT = 3
} engram_integrate_kernel;

/**
 * One tanh MLP (dev.engram.engine.MlpWeights): widths[0..layers], params holds, layer after layer, W_l
 * (widths[l+1] x widths[l], row-major) then b_l (widths[l+1]). Hidden layers are tanh, the last is linear.
 */
typedef struct engram_mlp {
    const int32_t* widths;
    const float* params;
    int32_t layers;
    int32_t reserved; /* 0 */
} engram_mlp;

/**
 * An ensemble to integrate (dev.engram.engine.EnsembleSpec). Trajectory i (0 <= i < trajectories, a global index:
 * the noise of a trajectory depends only on seed, i and the step) starts at initial_states row i, or at
 * (q0, p0) + (sigma_q, sigma_p) * Philox normals of (seed, i, step -1); after every step p += noise * sqrt(dt) *
 * Philox normals of (seed, i, step). States are sampled at steps 0, e, 2e, ... and at `steps` (e = sample_every,
 * or steps when 0): sample_count of them, which the caller states so that buffer sizes are checked.
 */
typedef struct engram_ensemble {
    engram_mlp nets[3];          /* by kind, see engram_model_kind; unused entries zero */
    const float* inputs;         /* u(t): steps x m row-major (row i drives step i + 1), or NULL for u = 0 */
    const float* initial_states; /* trajectories x 2n (q then p), or NULL */
    const float* q0;             /* n (ignored when initial_states is given) */
    const float* p0;             /* n */
    int64_t trajectories;        /* N */
    uint64_t seed;
    double tao_omega;            /* coupling of ENGRAM_SCHEME_TAO, > 0 */
    float dt, sigma_q, sigma_p, noise;
    int32_t kind, scheme, dof, input_count, steps, sample_every, sample_count;
    int32_t reserved; /* 0 */
} engram_ensemble;

/** Launch shape of an integration; 0 lets the library choose. Results do not depend on it. */
typedef struct engram_integrate_launch {
    int32_t kernel;        /* engram_integrate_kernel */
    int32_t block_threads; /* a multiple of 32 in [32, 256] (tensor kernel: at most 128) */
    int32_t tile;          /* tensor kernel: trajectories per warp tile, 16 or 32 (32: h <= 32 only) */
    int32_t max_blocks;    /* cap on the grid (blocks then loop over trajectories); >= 1 */
} engram_integrate_launch;

/**
 * Integrates trajectories [first, first + count) of e and writes, for them:
 *   samples      sample_count x count x (2n + 1): per sample, per trajectory q, p and the energy (H, T + V, NaN for
 *                the derivative kind); NaN from the first sample after a trajectory diverged
 *   final_states count x 2n: the state after the last step, or the last finite state of a diverged trajectory
 *   diverged_at  count: the step whose result was not finite (the trajectory stops there), or -1
 * launch may be NULL.
 */
ENGRAM_API int32_t engram_integrate(const engram_ensemble* e, int64_t first, int64_t count,
                                    const engram_integrate_launch* launch, float* samples, float* final_states,
                                    int32_t* diverged_at, char* err, int64_t err_cap);

/**
 * Like engram_integrate, but returns only what a forecast summary needs, computed on the device so that the samples
 * and final states never cross the bus:
 *   sample_quantiles  sample_count x (2n + 1) x level_count: per sample, per coordinate (q, p, energy), the quantile
 *                     at each level over the range's trajectories (dev.engram.engine.EnsembleRecorder.quantile:
 *                     NaN samples of diverged trajectories left out, linear interpolation between order statistics;
 *                     NaN when every trajectory had diverged)
 *   final_quantiles   2n x level_count: the same over the final states
 *   diverged_count    trajectories of the range that diverged
 * levels: level_count (1..4096) values in [0, 1].
 */
ENGRAM_API int32_t engram_integrate_quantiles(const engram_ensemble* e, int64_t first, int64_t count,
                                              const engram_integrate_launch* launch, const double* levels,
                                              int32_t level_count, float* sample_quantiles, float* final_quantiles,
                                              int64_t* diverged_count, char* err, int64_t err_cap);

/**
 * For driver-API callers that launch the integration kernels themselves (the JCuda engine packs their argument struct
 * and the tensor kernel's weight image in Java): the compiler's layout, so that their description can be tested.
 * engram_integrate_args_layout writes up to cap numbers and returns how many there are (50):
 *   sizeof and alignof of engram::IntegrateArgs, then offsetof of each of its fields in declaration order (params,
 *   nets, kind, scheme, n, m, steps, sample_every, sample_count, dt, sigma_q, sigma_p, noise, tao_c, tao_s, amp, seed,
 *   first, count, inputs, init, q0, p0, samples, finals, diverged, ws, scratch); sizeof engram::NetDesc and offsetof
 *   layers, widths, w_off, b_off, act_off; sizeof engram::Scratch and offsetof x, prev, grad, field, tmp, ksum, copy,
 *   force, aux, inforce, delta, g, floats.
 * engram_tensor_weights_layout writes the tensor kernel's weight image for hidden width h (byte offsets of W1, W2,
 * b1, b2, w3, b3 and its size) into out[0..7).
 * engram_pack_tensor_weights packs H = [2n, h, h, 1] (params W0, b0, W1, b1, W2, b2 as engram_mlp.params) into dst
 * (engram_tensor_weights_layout's size, host memory) as the tensor kernel reads it.
 */
ENGRAM_API int32_t engram_integrate_args_layout(int64_t* out, int32_t cap);
/** The same for engram::QuantileColumns (quantiles.cuh): sizeof, offsetof data, count, stride, slab, coords, columns. */
ENGRAM_API int32_t engram_quantile_columns_layout(int64_t* out, int32_t cap);
ENGRAM_API void engram_tensor_weights_layout(int32_t h, int32_t* out);
ENGRAM_API void engram_pack_tensor_weights(int32_t n, int32_t h, const float* params, void* dst);

/**
 * Emulation build only (ENGRAM_ERROR_UNSUPPORTED on CUDA): caps emulated device memory at `bytes` (< 0: no cap) so
 * out-of-memory paths can be tested, and reports the bytes currently allocated.
 */
ENGRAM_API int32_t engram_emu_memory_limit(int64_t bytes, int64_t* allocated, char* err, int64_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_H */
