// integrate.cu: batched integration of ensembles, the simple FP32 kernel — the native side's reference.
//
// Version 1 (this file): one thread per trajectory, float32 FMA, every model kind and scheme of the cpu engine
// (dev.engram.engine.cpu.EnsembleBlock) with the same equations and the same order of updates:
//   hamiltonian  LEAPFROG (the seed's ½p, q, ½p form, three ∇H per step), TAO, RK4
//   separable    STORMER_VERLET (∇V reused across steps), LEAPFROG, TAO, RK4
//   dissipative, port (u(t) as a steps×m table), derivative   RK4
// Philox4x32-10 noise keyed by (seed, trajectory, step) (integrate.cuh), so a trajectory's noise does not depend on
// the launch shape; energy evaluated only at sample steps; a step whose result is not finite freezes the trajectory
// at its last finite state and blanks its later samples (NaN), as the Java engines do.
//
// Ownership: thread t of the grid owns trajectories t, t + T, t + 2T, ... of the range (T = grid threads; a grid
// smaller than the range loops). Weights stay in global memory: every thread of a warp reads the same address at
// the same time (a broadcast, served by L1 after the first trajectory). Per-trajectory vectors (hidden activations
// of every network, the backward buffers, x, the previous x, gradients, RK4 stages, Tao's copy) live in a global
// workspace laid out [element][thread], so the warp's accesses to element k are one coalesced 128-byte line.
// Nothing is staged in shared memory: this kernel is written to be obviously right for any widths, not fast; at
// h = 64 it would need ~255 registers to keep activations in registers (see PERFORMANCE.md), which is what the
// tensor-core kernel (integrate_tc.cu) is for.
//
// The network routines are __noinline__: inlined into every scheme they made a 1.3 MB cubin and five minutes of
// ptxas; called, the kernel is small and the calls cost nothing next to the loops over the weights.
//
// Cost per trajectory-step for H = [2n, h, h, 1] with leapfrog: three ∇H, each a forward (2n·h + h² MACs, 2h tanh)
// and a backward (h² + 2n·h MACs): 3·(2h² + 4nh) FMAs and 6h tanhf. At h = 64, n = 1: ~25k FMAs, 384 tanh.
#include "integrate.cuh"

#include <cmath>

namespace engram {
namespace {

/** A vector of one thread in the workspace: element k at p[k·s]. */
struct Vec {
    float* p;
    long long s;
    __device__ __forceinline__ float& operator[](int k) const { return p[(long long) k * s]; }
    __device__ __forceinline__ Vec at(int k) const { return Vec{p + (long long) k * s, s}; }
};

__device__ __forceinline__ bool finite_f(float v) { return isfinite(v); }

/** Hidden activations of net at input `in`: act_l = tanh(W_l·act_{l−1} + b_l) for l < layers − 1. */
__device__ __noinline__ void hidden(const IntegrateArgs& a, const NetDesc& net, Vec in, Vec ws) {
    for (int l = 0; l + 1 < net.layers; l++) {
        const int rows = net.widths[l + 1], cols = net.widths[l];
        const float* __restrict__ w = a.params + net.w_off[l];
        const float* __restrict__ b = a.params + net.b_off[l];
        const Vec src = l == 0 ? in : ws.at(net.act_off[l - 1]);
        const Vec dst = ws.at(net.act_off[l]);
        for (int i = 0; i < rows; i++) {
            float z = b[i];
            for (int j = 0; j < cols; j++) z = fmaf(w[i * cols + j], src[j], z);
            dst[i] = tanhf(z);
        }
    }
}

/** The linear output layer of net after hidden(): out = W_L·act_{L−1} + b_L (or of the input when affine). */
__device__ __noinline__ void linear_out(const IntegrateArgs& a, const NetDesc& net, Vec in, Vec ws, Vec out) {
    const int l = net.layers - 1;
    const int rows = net.widths[l + 1], cols = net.widths[l];
    const float* __restrict__ w = a.params + net.w_off[l];
    const float* __restrict__ b = a.params + net.b_off[l];
    const Vec src = l == 0 ? in : ws.at(net.act_off[l - 1]);
    for (int i = 0; i < rows; i++) {
        float z = b[i];
        for (int j = 0; j < cols; j++) z = fmaf(w[i * cols + j], src[j], z);
        out[i] = z;
    }
}

/** A scalar network's value at `in`. */
__device__ float scalar(const IntegrateArgs& a, const NetDesc& net, Vec in, Vec ws) {
    hidden(a, net, in, ws);
    float y;
    Vec out{&y, 0};
    // a Vec over one register: the stride-0 view lets linear_out write the single output in place
    linear_out(a, net, in, ws, out);
    return y;
}

/** A vector network's output at `in` into out. */
__device__ void vector_out(const IntegrateArgs& a, const NetDesc& net, Vec in, Vec ws, Vec out) {
    hidden(a, net, in, ws);
    linear_out(a, net, in, ws, out);
}

/**
 * ∇ of a scalar network at `in` into dst (widths[0]): backward through tanh,
 * δ_L = w_out ⊙ (1 − a_L²), g_{l−1} = W_lᵀ·δ_l, δ_{l−1} = g_{l−1} ⊙ (1 − a_{l−1}²), ∇ = W_1ᵀ·δ_1.
 */
__device__ __noinline__ void gradient(const IntegrateArgs& a, const NetDesc& net, Vec in, Vec ws, Vec dst) {
    hidden(a, net, in, ws);
    const int last = net.layers - 1;
    Vec d = ws.at(a.scratch.delta), g = ws.at(a.scratch.g);
    {
        const float* __restrict__ wo = a.params + net.w_off[last];
        const Vec act = ws.at(net.act_off[last - 1]);
        for (int i = 0; i < net.widths[last]; i++) {
            const float av = act[i];
            d[i] = wo[i] - wo[i] * av * av;
        }
    }
    for (int l = last - 1; l >= 0; l--) {
        const int rows = net.widths[l + 1], cols = net.widths[l];
        const float* __restrict__ w = a.params + net.w_off[l];
        const Vec out = l == 0 ? dst : g;
        for (int j = 0; j < cols; j++) {
            float s = 0.f;
            for (int i = 0; i < rows; i++) s = fmaf(w[i * cols + j], d[i], s);
            out[j] = s;
        }
        if (l > 0) {
            const Vec act = ws.at(net.act_off[l - 1]);
            for (int j = 0; j < cols; j++) {
                const float av = act[j], gv = g[j];
                d[j] = gv - gv * av * av;
            }
        }
    }
}

/** ∇H of the state into grad (2n); separable: (∇V(q), ∇T(p)). */
__device__ void hamiltonian_gradient(const IntegrateArgs& a, Vec state, Vec ws, Vec grad) {
    if (a.kind == ENGRAM_MODEL_SEPARABLE) {
        gradient(a, a.nets[1], state, ws, grad);
        gradient(a, a.nets[0], state.at(a.n), ws, grad.at(a.n));
    } else {
        gradient(a, a.nets[0], state, ws, grad);
    }
}

/** The recorded energy: H, T(p) + V(q), or NaN for the derivative kind. */
__device__ __noinline__ float energy(const IntegrateArgs& a, Vec x, Vec ws) {
    switch (a.kind) {
        case ENGRAM_MODEL_DERIVATIVE: return NAN;
        case ENGRAM_MODEL_SEPARABLE: return scalar(a, a.nets[0], x.at(a.n), ws) + scalar(a, a.nets[1], x, ws);
        default: return scalar(a, a.nets[0], x, ws);
    }
}

__device__ __forceinline__ float softplus_f(float r) {
    // in double, as the Java engines, then rounded
    const double v = r;
    return (float) (v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)));
}

/** (dq/dt, dp/dt) of the model at `state` into a.scratch.field, with input row `row`. */
__device__ __noinline__ void field(const IntegrateArgs& a, Vec state, int row, Vec ws) {
    const int n = a.n, m = a.m;
    const Vec f = ws.at(a.scratch.field);
    if (a.kind == ENGRAM_MODEL_DERIVATIVE) {
        if (m == 0) {
            vector_out(a, a.nets[0], state, ws, f);
            return;
        }
        const Vec in = ws.at(a.scratch.aux);
        for (int j = 0; j < 2 * n; j++) in[j] = state[j];
        for (int j = 0; j < m; j++) in[2 * n + j] = a.inputs == nullptr ? 0.f : a.inputs[(long long) row * m + j];
        vector_out(a, a.nets[0], in, ws, f);
        return;
    }
    const Vec grad = ws.at(a.scratch.grad);
    hamiltonian_gradient(a, state, ws, grad);
    for (int j = 0; j < n; j++) {
        f[j] = grad[n + j];
        f[n + j] = -grad[j];
    }
    if (a.kind == ENGRAM_MODEL_DISSIPATIVE || a.kind == ENGRAM_MODEL_PORT) {
        const Vec r = ws.at(a.scratch.aux);
        vector_out(a, a.nets[1], state, ws, r);
        for (int j = 0; j < n; j++) f[n + j] -= softplus_f(r[j]) * grad[n + j];
    }
    if (a.kind == ENGRAM_MODEL_PORT && a.inputs != nullptr) {
        const Vec gq = ws.at(a.scratch.inforce);
        vector_out(a, a.nets[2], state, ws, gq);  // G(q): the input map reads q only (input width n)
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) f[n + i] = fmaf(gq[i * m + j], a.inputs[(long long) row * m + j], f[n + i]);
        }
    }
}

/** dst[j] = fma(a, src[j], dst[j]) for j < len. */
__device__ __forceinline__ void axpy(float c, Vec src, Vec dst, int len) {
    for (int j = 0; j < len; j++) dst[j] = fmaf(src[j], c, dst[j]);
}

__device__ void leapfrog(const IntegrateArgs& a, Vec x, Vec ws) {
    const int n = a.n;
    const float h = a.dt;
    const Vec grad = ws.at(a.scratch.grad);
    hamiltonian_gradient(a, x, ws, grad);
    axpy(-0.5f * h, grad, x.at(n), n);
    hamiltonian_gradient(a, x, ws, grad);
    axpy(h, grad.at(n), x, n);
    hamiltonian_gradient(a, x, ws, grad);
    axpy(-0.5f * h, grad, x.at(n), n);
}

/** force = ∇V(q) on entry and exit: p −= h/2·force; q += h·∇T(p); force ← ∇V(q); p −= h/2·force. */
__device__ void stormer_verlet(const IntegrateArgs& a, Vec x, Vec ws) {
    const int n = a.n;
    const float h = a.dt;
    const Vec force = ws.at(a.scratch.force), v = ws.at(a.scratch.grad);
    axpy(-0.5f * h, force, x.at(n), n);
    gradient(a, a.nets[0], x.at(n), ws, v);
    axpy(h, v, x, n);
    gradient(a, a.nets[1], x, ws, force);
    axpy(-0.5f * h, force, x.at(n), n);
}

/** φ_A(δ): ∇H at (q, y); p −= δ·∂H/∂q, x += δ·∂H/∂p.  φ_B(δ): ∇H at (x, p); q += δ·∂H/∂p, y −= δ·∂H/∂q. */
__device__ void tao_half(const IntegrateArgs& a, Vec x, Vec copy, Vec ws, float d, bool phase_a) {
    const int n = a.n;
    const Vec tmp = ws.at(a.scratch.tmp), grad = ws.at(a.scratch.grad);
    for (int j = 0; j < n; j++) {
        tmp[j] = phase_a ? x[j] : copy[j];
        tmp[n + j] = phase_a ? copy[n + j] : x[n + j];
    }
    hamiltonian_gradient(a, tmp, ws, grad);
    if (phase_a) {
        axpy(-d, grad, x.at(n), n);
        axpy(d, grad.at(n), copy, n);
    } else {
        axpy(d, grad.at(n), x, n);
        axpy(-d, grad, copy.at(n), n);
    }
}

__device__ void tao(const IntegrateArgs& a, Vec x, Vec ws) {
    const int n = a.n;
    const float hh = 0.5f * a.dt;
    const Vec copy = ws.at(a.scratch.copy);
    tao_half(a, x, copy, ws, hh, true);
    tao_half(a, x, copy, ws, hh, false);
    // φ_C(h): rotate (q − x, p − y) by the angle 2ωh, keep (q + x, p + y)
    for (int j = 0; j < n; j++) {
        const float q = x[j], p = x[n + j], cq = copy[j], cp = copy[n + j];
        const float sq = q + cq, sp = p + cp, u = q - cq, v = p - cp;
        const float u2 = a.tao_c * u + a.tao_s * v;
        const float v2 = a.tao_c * v - a.tao_s * u;
        x[j] = (sq + u2) * 0.5f;
        copy[j] = (sq - u2) * 0.5f;
        x[n + j] = (sp + v2) * 0.5f;
        copy[n + j] = (sp - v2) * 0.5f;
    }
    tao_half(a, x, copy, ws, hh, false);
    tao_half(a, x, copy, ws, hh, true);
}

/** Classical RK4 on the model's field, input row `row` held for all four stages. */
__device__ void rk4(const IntegrateArgs& a, Vec x, int row, Vec ws) {
    const int dim = 2 * a.n;
    const float h = a.dt;
    const Vec f = ws.at(a.scratch.field), ks = ws.at(a.scratch.ksum), tmp = ws.at(a.scratch.tmp);
    field(a, x, row, ws);
    for (int j = 0; j < dim; j++) ks[j] = f[j];
    for (int j = 0; j < dim; j++) tmp[j] = fmaf(f[j], 0.5f * h, x[j]);
    field(a, tmp, row, ws);
    for (int j = 0; j < dim; j++) ks[j] = f[j] * 2.f + ks[j];
    for (int j = 0; j < dim; j++) tmp[j] = fmaf(f[j], 0.5f * h, x[j]);
    field(a, tmp, row, ws);
    for (int j = 0; j < dim; j++) ks[j] = f[j] * 2.f + ks[j];
    for (int j = 0; j < dim; j++) tmp[j] = fmaf(f[j], h, x[j]);
    field(a, tmp, row, ws);
    for (int j = 0; j < dim; j++) ks[j] = f[j] + ks[j];
    axpy(h / 6.f, ks, x, dim);
}

__device__ void record(const IntegrateArgs& a, int s, long long i, Vec x, Vec ws) {
    const int dim = 2 * a.n;
    float* out = a.samples + ((long long) s * a.count + i) * (dim + 1);
    for (int j = 0; j < dim; j++) out[j] = x[j];
    out[dim] = energy(a, x, ws);
}

/** Integrates trajectory i of the range (global index first + i). */
__device__ void trajectory(const IntegrateArgs& a, long long i, Vec ws) {
    const int n = a.n, dim = 2 * n;
    const long long gi = a.first + i;
    const Vec x = ws.at(a.scratch.x), prev = ws.at(a.scratch.prev);
    double z[4];
    for (int j = 0; j < dim; j++) {
        if (a.init != nullptr) {
            x[j] = a.init[i * dim + j];
            continue;
        }
        if (j % 4 == 0) philox_gaussians(a.seed, gi, -1, j / 4, z);
        const double base = j < n ? a.q0[j] : a.p0[j - n];
        const double sigma = j < n ? a.sigma_q : a.sigma_p;
        x[j] = (float) (base + sigma * z[j % 4]);
    }
    record(a, 0, i, x, ws);
    if (a.scheme == ENGRAM_SCHEME_STORMER_VERLET) gradient(a, a.nets[1], x, ws, ws.at(a.scratch.force));
    if (a.scheme == ENGRAM_SCHEME_TAO) {
        const Vec copy = ws.at(a.scratch.copy);
        for (int j = 0; j < dim; j++) copy[j] = x[j];
    }
    int next = 1;
    int next_step = sample_step(1, a.sample_count, a.sample_every, a.steps);
    int diverged = -1;
    for (int step = 1; step <= a.steps; step++) {
        for (int j = 0; j < dim; j++) prev[j] = x[j];
        switch (a.scheme) {
            case ENGRAM_SCHEME_LEAPFROG: leapfrog(a, x, ws); break;
            case ENGRAM_SCHEME_STORMER_VERLET: stormer_verlet(a, x, ws); break;
            case ENGRAM_SCHEME_TAO: tao(a, x, ws); break;
            default: rk4(a, x, step - 1, ws); break;
        }
        if (a.noise > 0.f) {
            const Vec copy = ws.at(a.scratch.copy);
            for (int j = 0; j < n; j++) {
                if (j % 4 == 0) philox_gaussians(a.seed, gi, step, j / 4, z);
                x[n + j] = (float) (x[n + j] + a.amp * z[j % 4]);
                if (a.scheme == ENGRAM_SCHEME_TAO) copy[n + j] = (float) (copy[n + j] + a.amp * z[j % 4]);
            }
        }
        bool ok = true;
        for (int j = 0; j < dim; j++) ok = ok && finite_f(x[j]);
        if (!ok) {
            for (int j = 0; j < dim; j++) x[j] = prev[j];
            diverged = step;
            for (int s = next; s < a.sample_count; s++) {
                float* out = a.samples + ((long long) s * a.count + i) * (dim + 1);
                for (int j = 0; j <= dim; j++) out[j] = NAN;
            }
            break;
        }
        if (step == next_step) {
            record(a, next, i, x, ws);
            next++;
            if (next < a.sample_count) next_step = sample_step(next, a.sample_count, a.sample_every, a.steps);
        }
    }
    for (int j = 0; j < dim; j++) a.finals[i * dim + j] = x[j];
    a.diverged[i] = diverged;
}

/** The kernel's body: thread t integrates trajectories t, t + T, ... of the range (T = grid threads). */
__device__ __forceinline__ void integrate_fp32_block(const IntegrateArgs& a) {
    const long long threads = (long long) gridDim.x * blockDim.x;
    const long long t = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    const Vec ws{a.ws + t, threads};
    for (long long i = t; i < a.count; i += threads) trajectory(a, i, ws);
}

}  // namespace
}  // namespace engram

// The kernel with a C name (found by name in its fatbin by driver-API callers: the JCuda engine), one parameter: the
// IntegrateArgs struct by value (its layout is described once on the Java side, IntegrateArgsLayout, and checked
// against engram_integrate_args_layout). Grid: any number of blocks of at most 256 threads, no shared memory.
extern "C" __global__ void __launch_bounds__(256) engram_kernel_integrate_fp32(const __grid_constant__ engram::IntegrateArgs a) {
    engram::integrate_fp32_block(a);
}

namespace engram {

cudaError_t launch_integrate_fp32(const IntegrateArgs& a, int blocks, int threads, cudaStream_t stream) {
    ENGRAM_LAUNCH_ON(engram_kernel_integrate_fp32, dim3((unsigned) blocks), dim3((unsigned) threads), 0, stream)(a);
    return cudaGetLastError();
}

}  // namespace engram
