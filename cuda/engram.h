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

#define ENGRAM_ABI_VERSION 2

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

/**
 * Emulation build only (ENGRAM_ERROR_UNSUPPORTED on CUDA): caps emulated device memory at `bytes` (< 0: no cap) so
 * out-of-memory paths can be tested, and reports the bytes currently allocated.
 */
ENGRAM_API int32_t engram_emu_memory_limit(int64_t bytes, int64_t* allocated, char* err, int64_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* ENGRAM_H */
