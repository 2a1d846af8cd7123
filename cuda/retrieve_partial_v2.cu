// retrieve_partial_v2.cu: pass 1 of retrieval, version 2 — tensor cores for both products, a cp.async load pipeline
// per warp, and a threshold-filtered top-k. Writes the same partial state as version 1 (retrieve_partial.cu), one
// partial per warp, which retrieve_merge.cu merges exactly. Version 1 stays as the simple kernel.
//
// Shapes it serves: d = dv ∈ {32, 64, 128} (V = X, or a separate V of the same width), any B, any k <= ENGRAM_MAX_K,
// storage f32, f16 or bf16. Others run version 1 (cuda/engram.cu chooses).
//
// Grid: x = query tiles of kRows = 16 queries (the M dimension of mma.m16n8k16), y = memory chunks (a multiple of
// kWarps·kSP = 128 patterns). Block: kWarps = 4 independent warps; one block barrier (the block's query terms, before
// the loop). Warp w of a block walks the chunk's trips of TP = 32 patterns (16 for f32 at d >= 64) w, w + 4, w + 8, ...
// and produces its own partial (partial index
// chunk·kWarps + w). Blocks of one chunk and different query tiles are adjacent in launch order, so at large B the
// chunk is read from HBM once and from L2 by the other query tiles.
//
// Per trip (TP patterns), per warp:
//   1. load: the tile's X rows (and V rows, and the 16 norms) arrive by cp.async issued kStages − 1 tiles ahead into
//      a per-warp ring of shared-memory stages (rows padded by 16 bytes: ldmatrix rows fall in distinct banks);
//   2. scores S = Q·Xᵀ (16 queries × 16 patterns) with mma.m16n8k16 bf16 → f32: Q is split once into three bf16
//      terms (q = q0 + q1 + q2 exactly), X into as many as its storage needs (bf16: 1, f16: 2, f32: 3, all exact), and
//      the products of terms whose orders add up to at most 2 are accumulated — the dropped terms are below
//      2⁻²⁴·|q||x| per product, so the logits are float32-grade for every storage; B fragments come from ldmatrix
//      (16-bit storage) or 64-bit shared loads (f32);
//   3. online softmax in registers: each lane holds 4 scores of each of its two query rows (g, g + 8); row maxima by
//      two quad shuffles; l and t stay per-lane partial sums (all relative to the row's running max) and are summed
//      over the quad once at the end;
//   4. output O += P·V with the probabilities taken straight from the score accumulators (the C fragment of
//      S is the A fragment of P, as in FlashAttention-2), P split into two bf16 terms (relative error <= 2⁻¹⁷ per
//      weight, below the float32 sums' own), V into its storage's
//      terms; V fragments by ldmatrix.trans (16-bit) or scalar shared loads (f32); O (16 × dv) lives in registers
//      and is rescaled only when a row's max moved;
//   5. top-k by cosine: each lane compares its 8 dots with its rows' current k-th best times the norms (−inf while a
//      list is not full; no division); only when some candidate may beat it (a warp vote) are the cosines computed
//      and do the candidates go through shared memory and into
//      the sorted lists: the ≤ 16 candidates of a row are sorted by a 32-lane bitonic network and merged into the
//      list in one pass (binary-searched ranks, entries shifted 32 at a time from the back). Lists of k <= 32 live
//      in shared memory, longer ones directly in the partial output (global memory, L2-resident).
// Bytes per batch: X (and V) once per query tile through L2 (once from HBM when the tiles of a chunk run together),
// norms 4 per pattern, partials (chunks·4)·B·(3 + dv + 2k)·4.
#include "engram_cuda.cuh"

#include "async_copy.cuh"
#include "mma_bf16.cuh"

namespace engram {
namespace v2 {

constexpr int kWarps = 4;        // independent warps per block
constexpr int kSP = 32;          // patterns per trip of a warp's loop (4 n-tiles of the scores, 2 k-steps of the output)
                                 // — 16 for f32 rows of d >= 64 (256+ bytes), whose stages would otherwise limit the
                                 //   blocks per SM by shared memory (measured on an H200: 4.1 ms against 2.6 ms)

/** Patterns per trip for rows of d elements of es bytes. */
__host__ __device__ constexpr int trip_patterns(int d, int es) { return es == 4 && d >= 64 ? 16 : kSP; }
constexpr int kRows = 16;        // queries per warp (the m of both products)
constexpr int kLocalTopK = 32;   // top-k lists up to this length in shared memory, longer in the partial output
constexpr int kQParts = 3;       // bf16 terms of the queries (exact for float32)
constexpr int kPParts = 2;       // bf16 terms of the probabilities (relative error <= 2^-17 per weight)

template <typename T>
struct Store;
template <>
struct Store<float> {
    static constexpr int kParts = 3, kBytes = 4, kStages = 2;
};
template <>
struct Store<__half> {
    static constexpr int kParts = 2, kBytes = 2, kStages = 2;
};
template <>
struct Store<__nv_bfloat16> {
    static constexpr int kParts = 1, kBytes = 2, kStages = 2;
};

/** Shared-memory layout of one warp (bytes); a block holds kWarps of them. */
struct WarpPlan {
    int row_bytes;    // one staged row: d·s + 16
    int x_bytes;      // TP rows
    int v_at;         // V rows within a stage (= 0 and unused when V = X)
    int norms_at;     // 16 floats within a stage
    int stage_bytes;  // X [+ V] + norms, 16-aligned
    int stages;
    int cand_at;      // float [kRows][TP] candidates of the slow top-k path
    int count_at;     // int [kRows] entries per list
    int thr_at;       // float [kRows] k-th best score of a full list, −inf otherwise
    int list_at;      // lists (k <= kLocalTopK): long long [kRows][k] then float [kRows][k]
    int bytes;
};

/** The block's query terms: bf16 [kQParts][kRows][d], rows padded by 16 bytes (ldmatrix without bank conflicts). */
__host__ __device__ inline int q_row_bytes(int d) { return d * 2 + 16; }
__host__ __device__ inline int q_bytes(int d) { return align16(kQParts * kRows * q_row_bytes(d)); }

__host__ __device__ inline WarpPlan warp_plan(int d, int elem_bytes, int stages, bool separate_v, int k) {
    WarpPlan p{};
    const int tp = trip_patterns(d, elem_bytes);
    p.row_bytes = d * elem_bytes + 16;
    p.x_bytes = tp * p.row_bytes;
    p.v_at = separate_v ? p.x_bytes : 0;
    p.norms_at = p.x_bytes * (separate_v ? 2 : 1);
    p.stage_bytes = align16(p.norms_at + tp * 4);
    p.stages = stages;
    int at = p.stage_bytes * stages;
    p.cand_at = at;
    at = align16(at + kRows * tp * 4);
    p.count_at = at;
    at = align16(at + kRows * 4);
    p.thr_at = at;
    at = align16(at + kRows * 4);
    p.list_at = at;
    if (k > 0 && k <= kLocalTopK) at = align16(at + kRows * k * 12);
    p.bytes = at;
    return p;
}

__device__ __forceinline__ uint32_t as_u32(float lo, float hi) { return bf16x2(lo, hi); }

/** x = Σ_j part_j(x) with bf16 parts, the first NP of them (exact for NP = 3 and any float). */
template <int NP>
__device__ __forceinline__ void split(float x, float parts[NP]) {
#pragma unroll
    for (int j = 0; j < NP; j++) {
        const uint32_t b = bf16x2(x, 0.f);
        parts[j] = bf16_lo(b);
        x -= parts[j];
    }
}

/** Two floats → NP registers of bf16x2 terms (register j holds term j of both). */
template <int NP>
__device__ __forceinline__ void split_pair(float lo, float hi, uint32_t out[NP]) {
    float a[NP], b[NP];
    split<NP>(lo, a);
    split<NP>(hi, b);
#pragma unroll
    for (int j = 0; j < NP; j++) out[j] = bf16x2(a[j], b[j]);
}

__device__ __forceinline__ void f16x2_to_float(uint32_t r, float& lo, float& hi) {
    lo = __half2float(__ushort_as_half((unsigned short) (r & 0xffffu)));
    hi = __half2float(__ushort_as_half((unsigned short) (r >> 16)));
}

/** acc += Σ_{i + j <= 2} A_j · B_i over the available terms (A: NA terms, B: NB terms). */
template <int NA, int NB>
__device__ __forceinline__ void mma_terms(float acc[4], const uint32_t a[NA][4], const uint32_t b[NB][2]) {
    // smallest terms first, so the large ones are added to an accumulator that already holds the corrections
#pragma unroll
    for (int order = 2; order >= 0; order--) {
#pragma unroll
        for (int i = 0; i < NB; i++) {
            const int j = order - i;
            if (j >= 0 && j < NA) mma_16816(acc, a[j], b[i], acc);
        }
    }
}

/** acc[o] += Σ_{i + j = o} A_j · B_i: one accumulator per order, three independent chains instead of one long one. */
template <int NA, int NB>
__device__ __forceinline__ void mma_orders(float acc[3][4], const uint32_t a[NA][4], const uint32_t b[NB][2]) {
#pragma unroll
    for (int order = 0; order <= 2; order++) {
#pragma unroll
        for (int i = 0; i < NB; i++) {
            const int j = order - i;
            if (j >= 0 && j < NA) mma_16816(acc[order], a[j], b[i], acc[order]);
        }
    }
}

/**
 * The four registers of an ldmatrix.x4 of 16-bit storage as the B fragments (two registers each) of two mma steps,
 * in NP bf16 terms: bf16 storage is its own single term; f16 is widened and split into two exact terms.
 */
template <int NP>
__device__ __forceinline__ void frags_from_ldsm(const uint32_t reg[4], uint32_t first[NP][2], uint32_t second[NP][2]) {
    if constexpr (NP == 1) {
        first[0][0] = reg[0];
        first[0][1] = reg[1];
        second[0][0] = reg[2];
        second[0][1] = reg[3];
    } else {
        uint32_t terms[4][NP];
#pragma unroll
        for (int r = 0; r < 4; r++) {
            float lo, hi;
            f16x2_to_float(reg[r], lo, hi);
            split_pair<NP>(lo, hi, terms[r]);
        }
#pragma unroll
        for (int j = 0; j < NP; j++) {
            first[j][0] = terms[0][j];
            first[j][1] = terms[1][j];
            second[j][0] = terms[2][j];
            second[j][1] = terms[3][j];
        }
    }
}

/**
 * B fragments of Xᵀ (k = 16 columns 16s.., n = 8 patterns 8nt..) for two consecutive k-steps s, s + 1, in terms.
 * Lane (g, t) receives X[8nt + g][16s + 2t, +1] (b0) and X[8nt + g][16s + 8 + 2t, +1] (b1) of each step.
 */
template <typename T>
__device__ __forceinline__ void x_frags(const unsigned char* xs, int row_bytes, int nt, int s, int lane,
                                        uint32_t b0[Store<T>::kParts][2], uint32_t b1[Store<T>::kParts][2]) {
    constexpr int NP = Store<T>::kParts;
    if constexpr (sizeof(T) == 2) {
        const int mi = lane >> 3, r = lane & 7;
        const int col = 16 * (s + (mi >> 1)) + 8 * (mi & 1);
        uint32_t reg[4];
        ldsm_x4(reg, xs + (8 * nt + r) * row_bytes + col * 2);
        frags_from_ldsm<NP>(reg, b0, b1);
    } else {
        const int g = lane >> 2, t = lane & 3;
        const float* row = reinterpret_cast<const float*>(xs + (8 * nt + g) * row_bytes);
#pragma unroll
        for (int step = 0; step < 2; step++) {
            const float2 p = *reinterpret_cast<const float2*>(row + 16 * (s + step) + 2 * t);
            const float2 q = *reinterpret_cast<const float2*>(row + 16 * (s + step) + 8 + 2 * t);
            uint32_t tp[NP], tq[NP];
            split_pair<NP>(p.x, p.y, tp);
            split_pair<NP>(q.x, q.y, tq);
#pragma unroll
            for (int j = 0; j < NP; j++) {
                if (step == 0) {
                    b0[j][0] = tp[j];
                    b0[j][1] = tq[j];
                } else {
                    b1[j][0] = tp[j];
                    b1[j][1] = tq[j];
                }
            }
        }
    }
}

/**
 * B fragments of V (k = the tile's 16 patterns, n = 8 columns) for column tiles j and j + 1: lane (g, t) receives
 * V[2t, 2t + 1][8j + g] (b0) and V[8 + 2t, 9 + 2t][8j + g] (b1).
 */
template <typename T>
__device__ __forceinline__ void v_frags(const unsigned char* vs, int row_bytes, int j, int lane,
                                        uint32_t c0[Store<T>::kParts][2], uint32_t c1[Store<T>::kParts][2]) {
    constexpr int NP = Store<T>::kParts;
    if constexpr (sizeof(T) == 2) {
        const int mi = lane >> 3, r = lane & 7;
        const int pat = r + 8 * (mi & 1), col = 8 * j + 8 * (mi >> 1);
        uint32_t reg[4];
        ldsm_x4_t(reg, vs + pat * row_bytes + col * 2);
        frags_from_ldsm<NP>(reg, c0, c1);
    } else {
        const int g = lane >> 2, t = lane & 3;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int col = 8 * (j + h) + g;
            auto at = [&](int p) { return reinterpret_cast<const float*>(vs + p * row_bytes)[col]; };
            uint32_t lo[NP], hi[NP];
            split_pair<NP>(at(2 * t), at(2 * t + 1), lo);
            split_pair<NP>(at(8 + 2 * t), at(9 + 2 * t), hi);
#pragma unroll
            for (int q = 0; q < NP; q++) {
                if (h == 0) {
                    c0[q][0] = lo[q];
                    c0[q][1] = hi[q];
                } else {
                    c1[q][0] = lo[q];
                    c1[q][1] = hi[q];
                }
            }
        }
    }
}

__device__ __forceinline__ float quad_max(float v) {
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, 1));
    return fmaxf(v, __shfl_xor_sync(kFullMask, v, 2));
}

__device__ __forceinline__ float quad_sum(float v) {
    v += __shfl_xor_sync(kFullMask, v, 1);
    return v + __shfl_xor_sync(kFullMask, v, 2);
}

/**
 * Merges one row's candidates (lane l < 16 holds (cs, ci) or cs = −inf) into its sorted list (ts, ti, *count
 * entries, at most k), keeping the k best (score descending, ties to the smaller index). Whole warp, uniform.
 */
__device__ __forceinline__ void merge_candidates(float cs, long long ci, float* ts, long long* ti, int* count,
                                                 float* thr, int k, int lane) {
    // 1. sort the candidates across the warp (bitonic, best first; −inf sinks); a single candidate (the usual case
    // once the list is full) just moves to lane 0
    if (cs == -INFINITY) ci = 0x7fffffffffffffffLL;
    const unsigned present = __ballot_sync(kFullMask, cs != -INFINITY);
    if (__popc(present) == 1) {
        const int src = __ffs(present) - 1;
        cs = __shfl_sync(kFullMask, cs, src);
        ci = __shfl_sync(kFullMask, ci, src);
        if (lane != 0) {
            cs = -INFINITY;
            ci = 0x7fffffffffffffffLL;
        }
    } else {
#pragma unroll
        for (int size = 2; size <= 32; size <<= 1) {
#pragma unroll
            for (int stride = size >> 1; stride > 0; stride >>= 1) {
                const float os = __shfl_xor_sync(kFullMask, cs, stride);
                const long long oi = __shfl_xor_sync(kFullMask, ci, stride);
                const bool lower = (lane & stride) == 0;
                const bool desc = (lane & size) == 0;  // this lane's sub-sequence sorts best-first
                const bool other_better = better(os, oi, cs, ci);
                // keep the better one at the lower lane of a best-first pair
                const bool take = desc == lower ? other_better : !other_better && (os != cs || oi != ci);
                if (take) {
                    cs = os;
                    ci = oi;
                }
            }
        }
    }
    const int n = *count;
    const int c = __popc(present);
    // 2. each candidate's rank among the list entries (entries better than it)
    int rank = 0x7fffffff;
    if (lane < c) {
        int lo = 0, hi = n;
        while (lo < hi) {
            const int mid = (lo + hi) >> 1;
            if (better(ts[mid], ti[mid], cs, ci)) lo = mid + 1;
            else hi = mid;
        }
        rank = lo;
    }
    const int first = __shfl_sync(kFullMask, rank, 0);
    if (first < k) {
        // 3. entries from `first` on move down by the number of candidates ahead of them, 32 at a time from the end
        for (int base = (n - 1) & ~31; n > 0 && base >= (first & ~31); base -= 32) {
            const int i = base + lane;
            const bool active = i >= first && i < n;
            int shift = 0;
            for (int j = 0; j < c; j++) shift += __shfl_sync(kFullMask, rank, j) <= i ? 1 : 0;
            float s = 0.f;
            long long x = 0;
            if (active) {
                s = ts[i];
                x = ti[i];
            }
            __syncwarp(kFullMask);
            if (active && i + shift < k) {
                ts[i + shift] = s;
                ti[i + shift] = x;
            }
            __syncwarp(kFullMask);
        }
        // 4. candidates to their merged positions
        if (lane < c && rank + lane < k) {
            ts[rank + lane] = cs;
            ti[rank + lane] = ci;
        }
        __syncwarp(kFullMask);
        const int n2 = n + c < k ? n + c : k;
        if (lane == 0) {
            *count = n2;
            *thr = n2 == k ? ts[k - 1] : -INFINITY;
        }
    }
    __syncwarp(kFullMask);
}

/** One warp's stream (see the header comment). */
template <typename T, int D>
__device__ __forceinline__ void partial_warp(const T* __restrict__ x, const T* __restrict__ v,
                                             const float* __restrict__ norms, long long c0, long long c1,
                                             const float* __restrict__ queries, int batch, float beta, int k,
                                             long long part, unsigned char* smem, const WarpPlan& plan,
                                             const unsigned char* qs, PartialOut out) {
    constexpr int NP = Store<T>::kParts, ES = Store<T>::kBytes, S = Store<T>::kStages;
    constexpr int KS = D / 16;          // k-steps of the score product
    constexpr int NT = D / 8;           // column tiles of the output
    constexpr int QRB = D * 2 + 16;     // q_row_bytes(D)
    constexpr int TP = trip_patterns(D, ES);  // patterns per trip
    constexpr int PT = TP / 8;          // pattern n-tiles of the score product per trip
    constexpr int PK = TP / 16;         // k-steps of the output product per trip
    constexpr int CPR = D * ES / 16;    // 16-byte chunks per row (a power of two dividing 32 or a multiple of 32)
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int q0 = blockIdx.x * kRows;
    const int nq = batch - q0 < kRows ? batch - q0 : kRows;
    const bool separate_v = v != nullptr;

    float* cand = reinterpret_cast<float*>(smem + plan.cand_at);
    int* cnt = reinterpret_cast<int*>(smem + plan.count_at);
    float* thr_s = reinterpret_cast<float*>(smem + plan.thr_at);
    const bool local_lists = k > 0 && k <= kLocalTopK;
    long long* lidx = reinterpret_cast<long long*>(smem + plan.list_at);
    float* lsc = reinterpret_cast<float*>(smem + plan.list_at + kRows * (local_lists ? k : 0) * 8);
    auto list_s = [&](int r) { return local_lists ? lsc + r * k : out.top_score + (part * batch + q0 + r) * k; };
    auto list_i = [&](int r) { return local_lists ? lidx + r * k : out.top_index + (part * batch + q0 + r) * k; };
    if (lane < kRows) {
        cnt[lane] = 0;
        thr_s[lane] = -INFINITY;
    }

    const bool row_ok[2] = {g < nq, g + 8 < nq};
    float qn[2];
#pragma unroll
    for (int rr = 0; rr < 2; rr++) {
        float sq = 0.f;
        if (row_ok[rr]) {
            const float* q = queries + (long long) (q0 + g + 8 * rr) * D;
            for (int c = t; c < D; c += 4) sq = fmaf(q[c], q[c], sq);
        }
        qn[rr] = sqrtf(quad_sum(sq));
    }

    // running state: rows g (index 0) and g + 8 (index 1)
    float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.f, 0.f}, t_run[2] = {0.f, 0.f};
    float thr[2] = {-INFINITY, -INFINITY};
    float oacc[NT][4];
#pragma unroll
    for (int j = 0; j < NT; j++) oacc[j][0] = oacc[j][1] = oacc[j][2] = oacc[j][3] = 0.f;

    // this warp's tiles: w, w + kWarps, ... of the chunk
    const long long tiles_total = (c1 - c0 + TP - 1) / TP;
    const long long ntiles = tiles_total > warp ? (tiles_total - warp + kWarps - 1) / kWarps : 0;
    auto issue = [&](long long i) {
        unsigned char* st = smem + (int) (i % S) * plan.stage_bytes;
        const long long p0 = c0 + (warp + i * kWarps) * (long long) TP;
        if (i >= ntiles) {  // past this warp's last tile: an empty group keeps the wait count uniform
            cp_async_commit();
            return;
        }
#pragma unroll
        for (int e = lane; e < TP * CPR; e += 32) {
            const int row = e / CPR, col = e % CPR;
            const bool ok = p0 + row < c1;
            const long long prow = ok ? p0 + row : 0;
            cp_async16(st + row * plan.row_bytes + col * 16,
                       reinterpret_cast<const unsigned char*>(x + prow * D) + col * 16, ok);
            if (separate_v)
                cp_async16(st + plan.v_at + row * plan.row_bytes + col * 16,
                           reinterpret_cast<const unsigned char*>(v + prow * D) + col * 16, ok);
        }
        if (lane < TP) {
            const bool ok = p0 + lane < c1;
            cp_async4(st + plan.norms_at + lane * 4, norms + (ok ? p0 + lane : 0), ok);
        }
        cp_async_commit();
    };
#pragma unroll
    for (int i = 0; i < S - 1; i++) issue(i);
    __syncwarp(kFullMask);  // list counters and thresholds written

    for (long long i = 0; i < ntiles; i++) {
        issue(i + S - 1);
        cp_async_wait<S - 1>();
        __syncwarp(kFullMask);  // every lane's copies of tile i have landed
        const unsigned char* st = smem + (int) (i % S) * plan.stage_bytes;
        const unsigned char* xs = st;
        const unsigned char* vs = st + plan.v_at;
        const float* ns = reinterpret_cast<const float*>(st + plan.norms_at);
        const long long p0 = c0 + (warp + i * kWarps) * (long long) TP;
        const int np = c1 - p0 < TP ? (int) (c1 - p0) : TP;

        // 2. scores: sacc[nt] = S[rows g, g+8][patterns 8nt + 2t, +1]; per n-tile two accumulators (the order-0
        // product and the corrections), PT n-tiles in flight: independent mma chains
        float sacc[PT][4];
        {
            float main_[PT][4], corr[PT][4];
#pragma unroll
            for (int nt = 0; nt < PT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) main_[nt][e] = corr[nt][e] = 0.f;
#pragma unroll
            for (int s = 0; s < KS; s += 2) {
                uint32_t qa[2][kQParts][4];
#pragma unroll
                for (int h = 0; h < 2; h++)
#pragma unroll
                    for (int j = 0; j < kQParts; j++) {
                        // A fragment (16 rows × 16 columns 16(s+h)..): matrices rows 0–7 / 8–15 × columns +0 / +8
                        const int mi = lane >> 3, r = (lane & 7) + 8 * (mi & 1), col = 16 * (s + h) + 8 * (mi >> 1);
                        ldsm_x4(qa[h][j], qs + (j * kRows + r) * QRB + col * 2);
                    }
#pragma unroll
                for (int nt = 0; nt < PT; nt++) {
                    uint32_t b0[NP][2], b1[NP][2];
                    x_frags<T>(xs, plan.row_bytes, nt, s, lane, b0, b1);
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const uint32_t(*b)[2] = h == 0 ? b0 : b1;
                        mma_16816(main_[nt], qa[h][0], b[0], main_[nt]);
#pragma unroll
                        for (int order = 1; order <= 2; order++)
#pragma unroll
                            for (int ii = 0; ii < NP; ii++) {
                                const int j = order - ii;
                                if (j >= 0 && j < kQParts) mma_16816(corr[nt], qa[h][j], b[ii], corr[nt]);
                            }
                    }
                }
            }
#pragma unroll
            for (int nt = 0; nt < PT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) sacc[nt][e] = main_[nt][e] + corr[nt][e];
        }

        constexpr int PE = 2 * PT;  // scores per lane and row

        // 5. top-k: cos = dot/den beats a row's k-th best only if dot >= thr·den (up to rounding: a relative slack of
        // 1e-6 ≈ 8 ulp, and >= because the slack underflows to 0 for subnormal products, where rounding is still
        // monotonic, so no true candidate is lost). A warp vote; the exact test and the lists only when it passes.
        if (k > 0) {
            bool any_pass = false;
#pragma unroll
            for (int rr = 0; rr < 2; rr++)
#pragma unroll
                for (int e = 0; e < PE; e++) {
                    const int pn = 8 * (e >> 1) + 2 * t + (e & 1);
                    const float den = qn[rr] * ns[pn], bar = thr[rr] * den, dot = sacc[e >> 1][2 * rr + (e & 1)];
                    any_pass |= row_ok[rr] && pn < np && (den == 0.f ? 0.f > thr[rr] : dot >= bar - fabsf(bar) * 1e-6f);
                }
            if (__any_sync(kFullMask, any_pass)) {
#pragma unroll
                for (int rr = 0; rr < 2; rr++) {
#pragma unroll
                    for (int e = 0; e < PE; e++) {
                        const int pn = 8 * (e >> 1) + 2 * t + (e & 1);
                        const float den = qn[rr] * ns[pn], bar = thr[rr] * den, dot = sacc[e >> 1][2 * rr + (e & 1)];
                        float c = -INFINITY;  // the exact cosine only where the cheap test passed
                        if (row_ok[rr] && pn < np && (den == 0.f ? 0.f > thr[rr] : dot >= bar - fabsf(bar) * 1e-6f))
                            c = den == 0.f ? 0.f : dot / den;
                        cand[(g + 8 * rr) * TP + pn] = c > thr[rr] ? c : -INFINITY;
                    }
                }
                __syncwarp(kFullMask);
                for (int r = 0; r < nq; r++) {
                    const float cs = lane < TP ? cand[r * TP + lane] : -INFINITY;
                    if (__ballot_sync(kFullMask, cs != -INFINITY) == 0) continue;
                    merge_candidates(cs, p0 + lane, list_s(r), list_i(r), cnt + r, thr_s + r, k, lane);
                }
                thr[0] = thr_s[g];
                thr[1] = thr_s[g + 8];
                __syncwarp(kFullMask);  // cand[] is rewritten by the next slow path
            }
        }

        // 3. online softmax
        float scale[2];
#pragma unroll
        for (int rr = 0; rr < 2; rr++) {
            float sv[PE];
            float mx = -INFINITY;
#pragma unroll
            for (int e = 0; e < PE; e++) {
                const int nt = e >> 1, h = e & 1;
                const int pn = 8 * nt + 2 * t + h;
                const bool ok = row_ok[rr] && pn < np;
                const float dot = sacc[nt][2 * rr + h];
                sv[e] = ok ? beta * dot : -INFINITY;
                mx = fmaxf(mx, sv[e]);
            }
            const float m_old = m_run[rr];
            const float m_new = fmaxf(m_old, quad_max(mx));
            scale[rr] = m_old == m_new ? 1.f : (m_old == -INFINITY ? 0.f : expf(m_old - m_new));
            float le = 0.f, lt = 0.f;
#pragma unroll
            for (int e = 0; e < PE; e++) {
                const float p = sv[e] == -INFINITY ? 0.f : expf(sv[e] - m_new);
                le += p;
                lt = fmaf(p, sv[e] == -INFINITY ? 0.f : sv[e] - m_new, lt);
                sacc[e >> 1][2 * rr + (e & 1)] = p;
            }
            // t is relative to the running max: Σ e^(s−m_old)(s−m_old) → scale·(t + (m_old − m_new)·l)
            t_run[rr] = (m_old == -INFINITY ? 0.f : scale[rr] * (t_run[rr] + (m_old - m_new) * l_run[rr])) + lt;
            l_run[rr] = l_run[rr] * scale[rr] + le;
            m_run[rr] = m_new;
        }

        // 4. O ← O·scale + P·V (P: the score accumulators, as A fragments of PK k-steps of 16 patterns)
        if (__any_sync(kFullMask, scale[0] != 1.f || scale[1] != 1.f)) {
#pragma unroll
            for (int j = 0; j < NT; j++) {
                oacc[j][0] *= scale[0];
                oacc[j][1] *= scale[0];
                oacc[j][2] *= scale[1];
                oacc[j][3] *= scale[1];
            }
        }
        uint32_t pa[PK][kPParts][4];
#pragma unroll
        for (int kk = 0; kk < PK; kk++) {
            uint32_t t0[kPParts], t1[kPParts], t2[kPParts], t3[kPParts];
            split_pair<kPParts>(sacc[2 * kk][0], sacc[2 * kk][1], t0);          // row g, patterns 2t, 2t+1
            split_pair<kPParts>(sacc[2 * kk][2], sacc[2 * kk][3], t1);          // row g+8
            split_pair<kPParts>(sacc[2 * kk + 1][0], sacc[2 * kk + 1][1], t2);  // row g, patterns 8+2t, 9+2t
            split_pair<kPParts>(sacc[2 * kk + 1][2], sacc[2 * kk + 1][3], t3);  // row g+8
#pragma unroll
            for (int j = 0; j < kPParts; j++) {
                pa[kk][j][0] = t0[j];
                pa[kk][j][1] = t1[j];
                pa[kk][j][2] = t2[j];
                pa[kk][j][3] = t3[j];
            }
        }
#pragma unroll
        for (int j = 0; j < NT; j += 2) {
#pragma unroll
            for (int kk = 0; kk < PK; kk++) {
                uint32_t c0f[NP][2], c1f[NP][2];
                v_frags<T>(vs + 16 * kk * plan.row_bytes, plan.row_bytes, j, lane, c0f, c1f);
                mma_terms<kPParts, NP>(oacc[j], pa[kk], c0f);
                mma_terms<kPParts, NP>(oacc[j + 1], pa[kk], c1f);
            }
        }

        __syncwarp(kFullMask);  // this stage is refilled by the next iteration's issue
    }
    cp_async_wait<0>();  // the empty trailing groups

    // write the partial (quad sums of l and t; O by columns)
#pragma unroll
    for (int rr = 0; rr < 2; rr++) {
        const float l = quad_sum(l_run[rr]), tt = quad_sum(t_run[rr]);
        const int row = g + 8 * rr;
        if (row < nq) {
            const long long at = part * batch + q0 + row;
            if (t == 0) {
                out.m[at] = m_run[rr];
                out.l[at] = l;
                out.t[at] = tt;
            }
            float* o = out.o + at * D;
#pragma unroll
            for (int j = 0; j < NT; j++) {
                o[8 * j + 2 * t] = oacc[j][2 * rr];
                o[8 * j + 2 * t + 1] = oacc[j][2 * rr + 1];
            }
        }
    }
    if (k > 0) {
        __syncwarp(kFullMask);
        for (int r = 0; r < nq; r++) {
            const int n = cnt[r];
            const float* ss = list_s(r);
            const long long* si = list_i(r);
            float* ds = out.top_score + (part * batch + q0 + r) * k;
            long long* di = out.top_index + (part * batch + q0 + r) * k;
            for (int i = lane; i < k; i += 32) {
                const bool has = i < n;
                const float s = has ? ss[i] : -INFINITY;
                const long long x2 = has ? si[i] : -1;
                ds[i] = s;  // in place when the list lives in the output: the same value
                di[i] = x2;
            }
        }
    }
}

template <typename T, int D>
__device__ __forceinline__ void partial_block(const T* x, const T* v, const float* norms, long long from, long long to,
                                              const float* queries, int batch, float beta, int k, int chunk,
                                              PartialOut out) {
    const WarpPlan plan = warp_plan(D, Store<T>::kBytes, Store<T>::kStages, v != nullptr, k);
    ENGRAM_DYNAMIC_SHARED(unsigned char, smem);
    const int warp = threadIdx.x >> 5;
    const long long c0 = from + (long long) blockIdx.y * chunk;
    const long long c1 = c0 + chunk < to ? c0 + chunk : to;
    const long long part = (long long) blockIdx.y * kWarps + warp;
    // the block's query tile (16 rows × D) as kQParts bf16 terms, read by every warp as A fragments (ldmatrix);
    // rows beyond the batch are zero. The only block barrier of the kernel.
    unsigned char* qs = smem + kWarps * plan.bytes;
    const int q0 = blockIdx.x * kRows;
    const int nq = batch - q0 < kRows ? batch - q0 : kRows;
    for (int e = threadIdx.x; e < kRows * D / 2; e += blockDim.x) {
        const int row = e / (D / 2), col = 2 * (e % (D / 2));
        float a = 0.f, b = 0.f;
        if (row < nq) {
            const float* q = queries + (long long) (q0 + row) * D + col;
            a = q[0];
            b = q[1];
        }
        uint32_t terms[kQParts];
        split_pair<kQParts>(a, b, terms);
#pragma unroll
        for (int j = 0; j < kQParts; j++)
            *reinterpret_cast<uint32_t*>(qs + (j * kRows + row) * q_row_bytes(D) + col * 2) = terms[j];
    }
    __syncthreads();
    partial_warp<T, D>(x, v, norms, c0, c1, queries, batch, beta, k, part, smem + warp * plan.bytes, plan, qs, out);
}

}  // namespace v2
}  // namespace engram

// The kernels, per storage type and width d = dv, with C names (as version 1's): flat parameters
//   x, v (null: V = X), norms, from, to, queries, batch, beta, k, chunk, m, l, t, o, top_score, top_index
// Grid (ceil(B/16), chunks), block 128 threads, dynamic shared memory kWarps·warp_plan(...).bytes.
#define ENGRAM_PARTIAL_V2(NAME, T, D)                                                                                  \
    extern "C" __global__ void __launch_bounds__(engram::v2::kWarps * 32)                                              \
        NAME(const void* x, const void* v, const float* norms, long long from, long long to, const float* queries,     \
             int batch, float beta, int k, int chunk, float* m, float* l, float* t, float* o, float* top_score,        \
             long long* top_index) {                                                                                   \
        engram::v2::partial_block<T, D>(static_cast<const T*>(x), static_cast<const T*>(v), norms, from, to, queries,  \
                                        batch, beta, k, chunk,                                                         \
                                        engram::PartialOut{m, l, t, o, top_score, top_index});                        \
    }
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f32_d32, float, 32)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f32_d64, float, 64)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f32_d128, float, 128)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f16_d32, __half, 32)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f16_d64, __half, 64)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f16_d128, __half, 128)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_bf16_d32, __nv_bfloat16, 32)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_bf16_d64, __nv_bfloat16, 64)
ENGRAM_PARTIAL_V2(engram_kernel_retrieve_partial_v2_bf16_d128, __nv_bfloat16, 128)
#undef ENGRAM_PARTIAL_V2

namespace engram {

bool retrieve_v2_supports(int d, int dv) { return d == dv && (d == 32 || d == 64 || d == 128); }

int retrieve_v2_shared_bytes(int storage, int d, bool separate_v, int k) {
    const int es = storage == ENGRAM_STORAGE_F32 ? 4 : 2;
    const int stages = storage == ENGRAM_STORAGE_F32    ? v2::Store<float>::kStages
                       : storage == ENGRAM_STORAGE_F16 ? v2::Store<__half>::kStages
                                                       : v2::Store<__nv_bfloat16>::kStages;
    return v2::kWarps * v2::warp_plan(d, es, stages, separate_v, k).bytes + v2::q_bytes(d);
}

int retrieve_v2_chunk_multiple() { return v2::kWarps * v2::kSP; }  // also a multiple of kWarps·16

int retrieve_v2_parts_per_chunk() { return v2::kWarps; }

int retrieve_v2_query_tile() { return v2::kRows; }

int retrieve_v2_default_chunk(long long count, int batch, int sms) {
    // about 6 blocks per SM in all: two or three waves of 2–3 resident blocks. Fewer partials make the merge cheaper
    // (0.35 ms for 3160 at B = 1 on an H200, 0.23 ms for 2112) but pass 1 slower: with 4 per SM bf16 B = 1 took
    // 1.30 ms against 1.20, B = 64 7.7 ms against 6.6 (H200, d = 64, M = 10^7). Query tiles of one chunk are
    // adjacent in launch order, so more of them means fewer, longer chunks
    const long long qtiles = (batch + v2::kRows - 1) / v2::kRows;
    const long long step = v2::kWarps * v2::kSP;
    long long chunks = 6LL * (sms > 0 ? sms : 1) / qtiles;
    if (chunks < 1) chunks = 1;
    long long chunk = (count + chunks - 1) / chunks;
    chunk = (chunk + step - 1) / step * step;
    if (chunk < 4 * step) chunk = 4 * step;
    const long long fit = ((count + 65534) / 65535 + step - 1) / step * step;  // grid.y <= 65535
    if (chunk < fit) chunk = fit;
    return chunk > 0x7fffffffLL ? (int) (0x7fffffffLL / step * step) : (int) chunk;
}

cudaError_t launch_retrieve_partial_v2(int storage, const void* x, const void* v, const float* norms, long long from,
                                       long long to, int d, const float* queries, int batch, float beta, int k,
                                       int chunk, PartialOut out) {
    using Kernel = void (*)(const void*, const void*, const float*, long long, long long, const float*, int, float, int,
                            int, float*, float*, float*, float*, float*, long long*);
    const int di = d == 32 ? 0 : d == 64 ? 1 : 2;
    static const Kernel table[3][3] = {
        {engram_kernel_retrieve_partial_v2_f32_d32, engram_kernel_retrieve_partial_v2_f32_d64,
         engram_kernel_retrieve_partial_v2_f32_d128},
        {engram_kernel_retrieve_partial_v2_f16_d32, engram_kernel_retrieve_partial_v2_f16_d64,
         engram_kernel_retrieve_partial_v2_f16_d128},
        {engram_kernel_retrieve_partial_v2_bf16_d32, engram_kernel_retrieve_partial_v2_bf16_d64,
         engram_kernel_retrieve_partial_v2_bf16_d128}};
    const Kernel kernel = table[storage][di];
    const int bytes = retrieve_v2_shared_bytes(storage, d, v != nullptr, k);
    if (bytes > 48 * 1024) {
        cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
        if (e != cudaSuccess) return e;
    }
    const long long chunks = (to - from + chunk - 1) / chunk;
    dim3 grid((unsigned) ((batch + v2::kRows - 1) / v2::kRows), (unsigned) chunks);
    ENGRAM_LAUNCH(kernel, grid, dim3(v2::kWarps * 32), (size_t) bytes)
    (x, v, norms, from, to, queries, batch, beta, k, chunk, out.m, out.l, out.t, out.o, out.top_score, out.top_index);
    return cudaGetLastError();
}

}  // namespace engram
