// integrate.cu: harness for the batched HNN integration kernels, llm.c style.
//
// Kernels (--storage picks them; the name is shared with the other harnesses, here it means the precision):
//   f32   engram::launch_integrate_fp32 (cuda/integrate.cu): one thread per trajectory, float32 FMA, every model
//         kind and scheme (hamiltonian LEAPFROG/TAO/RK4, separable STORMER_VERLET/LEAPFROG/TAO/RK4, dissipative,
//         port and derivative RK4), any widths; per-thread vectors in a global workspace [element][thread]
//   bf16  engram::launch_integrate_tensor (cuda/integrate_tc.cu): warp tiles of 16 or 32 trajectories on mma.sync
//         m16n8k16 (bf16 operands, FP32 accumulate), hamiltonian H = [2n, h, h, 1], LEAPFROG, h in {16, 32, 64,
//         128}, n <= 8; tile 32 only for h <= 32
//
// What it does, in order:
//   1. validation (always): random tanh-MLP models (seeded; the seed is printed) integrated by a C reference in double
//      with the kernels' equations and order of updates (the same Philox noise and initial states), at several
//      launch shapes (grids smaller than the range, so threads/warps loop; odd trajectory counts; ranges that start
//      past trajectory 0). Compared: every sample (q, p, energy), the final states, the divergence flags (-1 here:
//      tanh networks have bounded gradients, so nothing diverges at these step sizes). Tolerances, per value,
//      |got − ref| <= tol·(1 + |ref|):
//        f32   tol = 2e-5: float32 arithmetic over <= 30 steps of a Lipschitz-bounded flow (observed <= 5e-7 on the
//              emulator; the float rounding of each step, ~6e-8 relative, grows by at most e^{L·t} over t <= 1.5;
//              the headroom covers the GPU's tanhf (2 ulp) and FMA contraction)
//        bf16  tol = 3e-3 against a reference with the same bf16-rounded W1, W2 (the kernel's weights): what is
//              left is the bf16 rounding of the activations A1, Δ2, Δ1 that feed the next product (2⁻⁹ relative
//              each), tanh.approx.f32 (2⁻¹¹) and the bf16 hi + lo split of the state (2⁻¹⁷), over <= 30 steps
//              (observed <= 6e-4 on the emulator, whose tanh.approx model errs by up to 2⁻¹⁰)
//      A kernel run with dt 1% off fails every f32 case (errors 7e-4 to 5e-3); the bf16 tolerance is too wide to see
//      that (2e-3): the tensor kernel's check catches layout, indexing and scheme errors, not 1% drifts.
//   2. timing (nvcc build only, unless --validate-only): N = --sizes trajectories of H = [2n, h, h, 1] (--dof,
//      --hidden), LEAPFROG, --steps steps, samples at step 0 and the last (what a Monte-Carlo forecast keeps), no
//      noise; launch shapes as cuda/engram.cu chooses them; CUDA events around the kernel alone (no copies), median
//      of up to --reps after one run; a case whose predicted time exceeds --max-seconds is skipped (reported).
//      JSON: ms, trajectory-steps/s, useful FLOP per trajectory-step 3·(4h² + 8nh) and the fraction of the FP32
//      (f32) or dense bf16 tensor (bf16; also the issued mma FLOPs) peak, and of the tanh (MUFU) limit.
// Every result is one JSON line on stdout, and appended to --json FILE when given.
//
// usage: integrate [--validate-only] [--quick] [--storage f32|bf16|all] [--sizes 100000,1000000,10000000]
//                  [--dof 1] [--hidden 64] [--steps 100] [--reps 5] [--max-seconds 10] [--seed 1] [--json FILE]
// Build (GPU):      nvcc -O3 -std=c++17 -arch=sm_90 --expt-relaxed-constexpr -Icuda cuda/dev/integrate.cu
//                        cuda/integrate.cu cuda/integrate_tc.cu -o integrate
// Build (emulated): CMake target harness_integrate_emu (see CMakeLists.txt); validation only, on the host.
#include "harness.h"

#include "../integrate.cuh"
#include "../quantiles.cuh"

namespace {

using engram::IntegrateArgs;
using engram::half_bits::bf16_of;
using engram::half_bits::bf16_value;

enum Kernel { FP32 = 0, TENSOR = 1 };
const char* kernel_name(int k) { return k == TENSOR ? "bf16-tc" : "f32"; }
const char* const kKinds[] = {"hamiltonian", "separable", "dissipative", "port", "derivative"};
const char* const kSchemes[] = {"LEAPFROG", "STORMER_VERLET", "TAO", "RK4"};

/** One tanh MLP as engram_mlp holds it: per layer W_l (widths[l+1] × widths[l], row-major) then b_l. */
struct HostNet {
    std::vector<int> widths;
    std::vector<float> params;
    int layers() const { return (int) widths.size() - 1; }
};

/** Uniform(−1, 1)/√fan_in weights, biases uniform(−0.1, 0.1): a tame random tanh MLP. */
HostNet random_net(std::vector<int> widths, harness::Rng& rng, float scale) {
    HostNet net{std::move(widths), {}};
    for (int l = 0; l < net.layers(); l++) {
        const int rows = net.widths[(size_t) l + 1], cols = net.widths[(size_t) l];
        const float w = scale / std::sqrt((float) cols);
        for (int k = 0; k < rows * cols; k++) net.params.push_back(w * rng.uniform());
        for (int k = 0; k < rows; k++) net.params.push_back(0.1f * rng.uniform());
    }
    return net;
}

/** A problem: the model (kind, scheme, nets), the ensemble spec and the trajectory range. */
struct Problem {
    int kind = ENGRAM_MODEL_HAMILTONIAN, scheme = ENGRAM_SCHEME_LEAPFROG, n = 1, m = 0;
    std::vector<HostNet> nets;
    int steps = 20, sample_every = 0;
    float dt = 0.05f, sigma_q = 0.5f, sigma_p = 0.5f, noise = 0.f;
    double tao_omega = 2.0;
    uint64_t seed = 1;
    long long first = 0, count = 1;
    std::vector<float> inputs;  // steps × m or empty
    std::vector<float> init;    // count × 2n (this range) or empty
    std::vector<float> q0, p0;
    int sample_count() const { return (int) engram::sample_count(steps, sample_every); }
};

// ---------------------------------------------------------------------------------------------------------------
// The C reference, in double, with the kernels' equations and order of updates (integrate.cu).

struct RefNet {
    int layers = 0;
    std::vector<int> widths;
    std::vector<std::vector<double>> w, b;
};

/** Widens a net to double; with bf16_w01 the first two weight matrices are rounded to bf16 first (the tc kernel). */
RefNet ref_net(const HostNet& h, bool bf16_w01) {
    RefNet r;
    r.layers = h.layers();
    r.widths = h.widths;
    size_t at = 0;
    for (int l = 0; l < r.layers; l++) {
        const int rows = h.widths[(size_t) l + 1], cols = h.widths[(size_t) l];
        std::vector<double> w((size_t) rows * cols), b((size_t) rows);
        for (auto& v : w) {
            const float f = h.params[at++];
            v = bf16_w01 && l < 2 ? (double) bf16_value(bf16_of(f)) : (double) f;
        }
        for (auto& v : b) v = h.params[at++];
        r.w.push_back(std::move(w));
        r.b.push_back(std::move(b));
    }
    return r;
}

/** Hidden activations act[l] = tanh(W_l·act[l−1] + b_l), l < layers − 1 (act[−1] = in). */
void ref_hidden(const RefNet& net, const double* in, std::vector<std::vector<double>>& act) {
    act.assign((size_t) std::max(0, net.layers - 1), {});
    for (int l = 0; l + 1 < net.layers; l++) {
        const int rows = net.widths[(size_t) l + 1], cols = net.widths[(size_t) l];
        const double* src = l == 0 ? in : act[(size_t) l - 1].data();
        act[(size_t) l].resize((size_t) rows);
        for (int i = 0; i < rows; i++) {
            double z = net.b[(size_t) l][(size_t) i];
            for (int j = 0; j < cols; j++) z += net.w[(size_t) l][(size_t) i * cols + j] * src[j];
            act[(size_t) l][(size_t) i] = std::tanh(z);
        }
    }
}

void ref_out(const RefNet& net, const double* in, double* out) {
    std::vector<std::vector<double>> act;
    ref_hidden(net, in, act);
    const int l = net.layers - 1, rows = net.widths[(size_t) l + 1], cols = net.widths[(size_t) l];
    const double* src = l == 0 ? in : act[(size_t) l - 1].data();
    for (int i = 0; i < rows; i++) {
        double z = net.b[(size_t) l][(size_t) i];
        for (int j = 0; j < cols; j++) z += net.w[(size_t) l][(size_t) i * cols + j] * src[j];
        out[i] = z;
    }
}

double ref_scalar(const RefNet& net, const double* in) {
    double y = 0;
    ref_out(net, in, &y);
    return y;
}

/** ∇ of a scalar net at in: δ = w_out ⊙ (1 − a²), then g = Wᵀδ, δ = g ⊙ (1 − a²) down to the input. */
void ref_grad(const RefNet& net, const double* in, double* out) {
    std::vector<std::vector<double>> act;
    ref_hidden(net, in, act);
    const int last = net.layers - 1;
    std::vector<double> d(act[(size_t) last - 1].size());
    for (size_t i = 0; i < d.size(); i++) {
        const double a = act[(size_t) last - 1][i];
        d[i] = net.w[(size_t) last][i] * (1 - a * a);
    }
    for (int l = last - 1; l >= 0; l--) {
        const int rows = net.widths[(size_t) l + 1], cols = net.widths[(size_t) l];
        std::vector<double> g((size_t) cols, 0.0);
        for (int j = 0; j < cols; j++)
            for (int i = 0; i < rows; i++) g[(size_t) j] += net.w[(size_t) l][(size_t) i * cols + j] * d[(size_t) i];
        if (l == 0) {
            for (int j = 0; j < cols; j++) out[j] = g[(size_t) j];
        } else {
            d.resize((size_t) cols);
            for (int j = 0; j < cols; j++) {
                const double a = act[(size_t) l - 1][(size_t) j];
                d[(size_t) j] = g[(size_t) j] * (1 - a * a);
            }
        }
    }
}

struct Reference {
    const Problem& p;
    std::vector<RefNet> nets;
    Reference(const Problem& p_, bool bf16_w01) : p(p_) {
        for (const HostNet& h : p.nets) nets.push_back(ref_net(h, bf16_w01));
    }
    /** ∇H (separable: ∇V(q), ∇T(p)). */
    void ham_grad(const double* x, double* g) const {
        if (p.kind == ENGRAM_MODEL_SEPARABLE) {
            ref_grad(nets[1], x, g);
            ref_grad(nets[0], x + p.n, g + p.n);
        } else {
            ref_grad(nets[0], x, g);
        }
    }
    double energy(const double* x) const {
        if (p.kind == ENGRAM_MODEL_DERIVATIVE) return NAN;
        if (p.kind == ENGRAM_MODEL_SEPARABLE) return ref_scalar(nets[0], x + p.n) + ref_scalar(nets[1], x);
        return ref_scalar(nets[0], x);
    }
    double input(int row, int j) const { return p.inputs.empty() ? 0.0 : p.inputs[(size_t) row * p.m + j]; }
    void field(const double* x, int row, double* f) const {
        const int n = p.n, m = p.m;
        if (p.kind == ENGRAM_MODEL_DERIVATIVE) {
            std::vector<double> in((size_t) (2 * n + m));
            for (int j = 0; j < 2 * n; j++) in[(size_t) j] = x[j];
            for (int j = 0; j < m; j++) in[(size_t) (2 * n + j)] = input(row, j);
            ref_out(nets[0], in.data(), f);
            return;
        }
        std::vector<double> g((size_t) (2 * n));
        ham_grad(x, g.data());
        for (int j = 0; j < n; j++) {
            f[j] = g[(size_t) (n + j)];
            f[n + j] = -g[(size_t) j];
        }
        if (p.kind == ENGRAM_MODEL_DISSIPATIVE || p.kind == ENGRAM_MODEL_PORT) {
            std::vector<double> r((size_t) n);
            ref_out(nets[1], x, r.data());
            for (int j = 0; j < n; j++) {
                const double v = r[(size_t) j];
                const double sp = v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
                f[n + j] -= sp * g[(size_t) (n + j)];
            }
        }
        if (p.kind == ENGRAM_MODEL_PORT && !p.inputs.empty()) {
            std::vector<double> gq((size_t) (n * m));
            ref_out(nets[2], x, gq.data());
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) f[n + i] += gq[(size_t) (i * m + j)] * input(row, j);
        }
    }
    void step(std::vector<double>& x, std::vector<double>& copy, std::vector<double>& force, int row) const {
        const int n = p.n, dim = 2 * n;
        const double h = p.dt;
        std::vector<double> g((size_t) dim);
        switch (p.scheme) {
            case ENGRAM_SCHEME_LEAPFROG:
                ham_grad(x.data(), g.data());
                for (int j = 0; j < n; j++) x[(size_t) (n + j)] -= 0.5 * h * g[(size_t) j];
                ham_grad(x.data(), g.data());
                for (int j = 0; j < n; j++) x[(size_t) j] += h * g[(size_t) (n + j)];
                ham_grad(x.data(), g.data());
                for (int j = 0; j < n; j++) x[(size_t) (n + j)] -= 0.5 * h * g[(size_t) j];
                break;
            case ENGRAM_SCHEME_STORMER_VERLET:
                for (int j = 0; j < n; j++) x[(size_t) (n + j)] -= 0.5 * h * force[(size_t) j];
                ref_grad(nets[0], x.data() + n, g.data());
                for (int j = 0; j < n; j++) x[(size_t) j] += h * g[(size_t) j];
                ref_grad(nets[1], x.data(), force.data());
                for (int j = 0; j < n; j++) x[(size_t) (n + j)] -= 0.5 * h * force[(size_t) j];
                break;
            case ENGRAM_SCHEME_TAO: {
                const double hh = 0.5 * h;
                const double c = std::cos(2 * p.tao_omega * (double) p.dt), s = std::sin(2 * p.tao_omega * (double) p.dt);
                auto half = [&](double d, bool phase_a) {
                    std::vector<double> tmp((size_t) dim);
                    for (int j = 0; j < n; j++) {
                        tmp[(size_t) j] = phase_a ? x[(size_t) j] : copy[(size_t) j];
                        tmp[(size_t) (n + j)] = phase_a ? copy[(size_t) (n + j)] : x[(size_t) (n + j)];
                    }
                    ham_grad(tmp.data(), g.data());
                    for (int j = 0; j < n; j++) {
                        if (phase_a) {
                            x[(size_t) (n + j)] -= d * g[(size_t) j];
                            copy[(size_t) j] += d * g[(size_t) (n + j)];
                        } else {
                            x[(size_t) j] += d * g[(size_t) (n + j)];
                            copy[(size_t) (n + j)] -= d * g[(size_t) j];
                        }
                    }
                };
                half(hh, true);
                half(hh, false);
                for (int j = 0; j < n; j++) {
                    const double q = x[(size_t) j], pp = x[(size_t) (n + j)], cq = copy[(size_t) j],
                                 cp = copy[(size_t) (n + j)];
                    const double sq = q + cq, sp = pp + cp, u = q - cq, v = pp - cp;
                    const double u2 = c * u + s * v, v2 = c * v - s * u;
                    x[(size_t) j] = (sq + u2) * 0.5;
                    copy[(size_t) j] = (sq - u2) * 0.5;
                    x[(size_t) (n + j)] = (sp + v2) * 0.5;
                    copy[(size_t) (n + j)] = (sp - v2) * 0.5;
                }
                half(hh, false);
                half(hh, true);
                break;
            }
            default: {
                std::vector<double> k1((size_t) dim), k2((size_t) dim), k3((size_t) dim), k4((size_t) dim),
                    t((size_t) dim);
                field(x.data(), row, k1.data());
                for (int j = 0; j < dim; j++) t[(size_t) j] = x[(size_t) j] + 0.5 * h * k1[(size_t) j];
                field(t.data(), row, k2.data());
                for (int j = 0; j < dim; j++) t[(size_t) j] = x[(size_t) j] + 0.5 * h * k2[(size_t) j];
                field(t.data(), row, k3.data());
                for (int j = 0; j < dim; j++) t[(size_t) j] = x[(size_t) j] + h * k3[(size_t) j];
                field(t.data(), row, k4.data());
                for (int j = 0; j < dim; j++)
                    x[(size_t) j] += h / 6 * (k1[(size_t) j] + 2 * k2[(size_t) j] + 2 * k3[(size_t) j] + k4[(size_t) j]);
                break;
            }
        }
    }
    /** Trajectory i of the range: samples (S × (2n + 1)) and the final state. */
    void trajectory(long long i, std::vector<double>& samples, std::vector<double>& final_state, int& diverged) const {
        const int n = p.n, dim = 2 * n, S = p.sample_count();
        const long long gi = p.first + i;
        std::vector<double> x((size_t) dim), copy, force((size_t) n), prev;
        double z[4];
        for (int j = 0; j < dim; j++) {
            if (!p.init.empty()) {
                x[(size_t) j] = p.init[(size_t) (i * dim + j)];
                continue;
            }
            if (j % 4 == 0) engram::philox_gaussians(p.seed, gi, -1, j / 4, z);
            const double base = j < n ? p.q0[(size_t) j] : p.p0[(size_t) (j - n)];
            const double sigma = j < n ? p.sigma_q : p.sigma_p;
            x[(size_t) j] = (float) (base + sigma * z[j % 4]);  // the kernels start from the float-rounded state
        }
        samples.assign((size_t) S * (dim + 1), NAN);
        auto record = [&](int s) {
            for (int j = 0; j < dim; j++) samples[(size_t) s * (dim + 1) + j] = x[(size_t) j];
            samples[(size_t) s * (dim + 1) + dim] = energy(x.data());
        };
        record(0);
        if (p.scheme == ENGRAM_SCHEME_STORMER_VERLET) ref_grad(nets[1], x.data(), force.data());
        copy = x;
        const double amp = (double) p.noise * std::sqrt((double) p.dt);
        int next = 1, next_step = engram::sample_step(1, S, p.sample_every, p.steps);
        diverged = -1;
        for (int stp = 1; stp <= p.steps; stp++) {
            prev = x;
            step(x, copy, force, stp - 1);
            if (p.noise > 0) {
                for (int j = 0; j < n; j++) {
                    if (j % 4 == 0) engram::philox_gaussians(p.seed, gi, stp, j / 4, z);
                    x[(size_t) (n + j)] += amp * z[j % 4];
                    if (p.scheme == ENGRAM_SCHEME_TAO) copy[(size_t) (n + j)] += amp * z[j % 4];
                }
            }
            bool ok = true;
            for (double v : x) ok = ok && std::isfinite(v);
            if (!ok) {
                x = prev;
                diverged = stp;
                break;
            }
            if (stp == next_step) {
                record(next);
                next++;
                if (next < S) next_step = engram::sample_step(next, S, p.sample_every, p.steps);
            }
        }
        final_state = x;
    }
};

// ---------------------------------------------------------------------------------------------------------------
// The kernels' arguments, packed as cuda/engram.cu's engram_integrate packs them.

struct Packed {
    IntegrateArgs a{};
    std::vector<float> params;
};

Packed pack(const Problem& p) {
    Packed r;
    IntegrateArgs& a = r.a;
    const int n = p.n, m = p.m, dim = 2 * n;
    int act = 0, max_width = dim + m;
    for (size_t s = 0; s < p.nets.size(); s++) {
        const HostNet& src = p.nets[s];
        engram::NetDesc& d = a.nets[s];
        d.layers = src.layers();
        size_t at = 0;
        for (int l = 0; l <= d.layers; l++) {
            d.widths[l] = src.widths[(size_t) l];
            max_width = std::max(max_width, d.widths[l]);
        }
        for (int l = 0; l < d.layers; l++) {
            const int rows = src.widths[(size_t) l + 1], cols = src.widths[(size_t) l];
            d.w_off[l] = (int) r.params.size();
            const auto w0 = src.params.begin() + (long) at;
            r.params.insert(r.params.end(), w0, w0 + (long) rows * cols);
            at += (size_t) rows * cols;
            d.b_off[l] = (int) r.params.size();
            const auto b0 = src.params.begin() + (long) at;
            r.params.insert(r.params.end(), b0, b0 + rows);
            at += (size_t) rows;
            if (l + 1 < d.layers) {
                d.act_off[l] = act;
                act += rows;
            }
        }
    }
    engram::Scratch& sc = a.scratch;
    int at = act;
    auto take = [&](int floats) {
        const int k = at;
        at += floats;
        return k;
    };
    sc.delta = take(max_width);
    sc.g = take(max_width);
    sc.x = take(dim);
    sc.prev = take(dim);
    sc.grad = take(dim);
    sc.field = take(dim);
    sc.tmp = take(dim);
    sc.ksum = take(dim);
    sc.copy = take(dim);
    sc.force = take(n);
    sc.aux = take(std::max(dim + m, n));
    sc.inforce = take(std::max(1, n * m));
    sc.floats = at;
    a.kind = p.kind;
    a.scheme = p.scheme;
    a.n = n;
    a.m = m;
    a.steps = p.steps;
    a.sample_every = p.sample_every;
    a.sample_count = p.sample_count();
    a.dt = p.dt;
    a.sigma_q = p.sigma_q;
    a.sigma_p = p.sigma_p;
    a.noise = p.noise;
    a.tao_c = (float) std::cos(2 * p.tao_omega * (double) p.dt);
    a.tao_s = (float) std::sin(2 * p.tao_omega * (double) p.dt);
    a.amp = (double) p.noise * std::sqrt((double) p.dt);
    a.seed = p.seed;
    a.first = p.first;
    a.count = p.count;
    return r;
}

/** Launch shape: FP32 (blocks, threads); tensor (blocks, warps, tile). blocks 0 = as engram.cu chooses. */
struct Shape {
    int blocks, threads, tile;
};

template <typename T>
T* upload(const std::vector<T>& h) {
    if (h.empty()) return nullptr;
    T* d = nullptr;
    CUDA_CHECK(cudaMalloc((void**) &d, h.size() * sizeof(T)));
    CUDA_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <typename T>
std::vector<T> download(const T* d, size_t n) {
    std::vector<T> h(n);
    if (n > 0) CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

int sm_count() {
    static int sms = 0;
    if (sms == 0) {
        int dev = 0;
        cudaDeviceProp prop;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
        sms = std::max(1, prop.multiProcessorCount);
    }
    return sms;
}

/** Device buffers of one problem and kernel, and the launch; what engram_integrate does minus the copies back. */
struct Run {
    Packed pk;
    int kernel;
    Shape shape;
    float *dparams = nullptr, *dinputs = nullptr, *dinit = nullptr, *dq0 = nullptr, *dp0 = nullptr;
    float *dsamples = nullptr, *dfinals = nullptr, *dws = nullptr;
    int* ddiv = nullptr;
    void* dpacked = nullptr;

    Run(const Problem& p, int kernel_, Shape s) : pk(pack(p)), kernel(kernel_), shape(s) {
        IntegrateArgs& a = pk.a;
        const long long count = p.count, dim = 2 * p.n;
        if (kernel == TENSOR) {
            char why[200];
            if (!engram::tensor_kernel_supports(a, why, (int) sizeof why)) harness::Args::die("%s", why);
            const long long tiles = (count + s.tile - 1) / s.tile;
            if (shape.blocks == 0)
                shape.blocks = (int) std::min<long long>((tiles + s.threads - 1) / s.threads, (long long) sm_count() * 16);
            std::vector<unsigned char> packed((size_t) engram::tensor_kernel_weight_bytes(a));
            engram::pack_tensor_weights(a, pk.params.data(), packed.data());
            dpacked = upload(packed);
        } else {
            if (shape.blocks == 0) {
                long long blocks = (count + s.threads - 1) / s.threads;
                blocks = std::min<long long>(blocks, (long long) sm_count() * (2048 / s.threads));
                const long long per_block = (long long) a.scratch.floats * 4 * s.threads;  // workspace bytes
                blocks = std::min<long long>(blocks, std::max<long long>(1, (1LL << 30) / per_block));
                shape.blocks = (int) std::max<long long>(1, blocks);
            }
            CUDA_CHECK(cudaMalloc((void**) &dws, (size_t) shape.blocks * s.threads * a.scratch.floats * 4));
        }
        dparams = upload(pk.params);
        dinputs = upload(p.inputs);
        dinit = upload(p.init);
        if (p.init.empty()) {
            dq0 = upload(p.q0);
            dp0 = upload(p.p0);
        }
        CUDA_CHECK(cudaMalloc((void**) &dsamples, (size_t) a.sample_count * count * (dim + 1) * 4));
        CUDA_CHECK(cudaMalloc((void**) &dfinals, (size_t) count * dim * 4));
        CUDA_CHECK(cudaMalloc((void**) &ddiv, (size_t) count * 4));
        a.params = dparams;
        a.inputs = dinputs;
        a.init = dinit;
        a.q0 = dq0;
        a.p0 = dp0;
        a.samples = dsamples;
        a.finals = dfinals;
        a.diverged = ddiv;
        a.ws = dws;
    }
    ~Run() {
        for (void* q : {(void*) dparams, (void*) dinputs, (void*) dinit, (void*) dq0, (void*) dp0, (void*) dsamples,
                        (void*) dfinals, (void*) dws, (void*) ddiv, dpacked})
            if (q != nullptr) cudaFree(q);
    }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    void launch() {
        if (kernel == TENSOR)
            CUDA_CHECK(engram::launch_integrate_tensor(pk.a, dpacked, shape.blocks, shape.threads, shape.tile));
        else
            CUDA_CHECK(engram::launch_integrate_fp32(pk.a, shape.blocks, shape.threads));
    }
};

/** Runs one launch and compares with the reference; returns the first mismatch ("") and the largest error seen. */
std::string check(const Problem& p, int kernel, const Shape& s, const std::vector<std::vector<double>>& ref_samples,
                  const std::vector<std::vector<double>>& ref_finals, const std::vector<int>& ref_div, double tol,
                  double& max_err, Shape& used) {
    Run run(p, kernel, s);
    used = run.shape;
    run.launch();
    CUDA_CHECK(cudaDeviceSynchronize());
    const int dim = 2 * p.n, S = p.sample_count();
    const std::vector<float> samples = download(run.dsamples, (size_t) S * p.count * (dim + 1));
    const std::vector<float> finals = download(run.dfinals, (size_t) p.count * dim);
    const std::vector<int> div = download(run.ddiv, (size_t) p.count);
    max_err = 0;
    char msg[320];
    std::string first;
    auto cmp = [&](double got, double want, const char* what, long long i, int s_, int j) {
        if (std::isnan(want) && std::isnan(got)) return;
        const double e = std::fabs(got - want) / (1 + std::fabs(want));
        if (std::isfinite(e)) max_err = std::max(max_err, e);
        if (!(e <= tol) && first.empty()) {
            std::snprintf(msg, sizeof msg, "%s of trajectory %lld (global %lld), sample %d, coordinate %d = %.8g, "
                          "reference %.8g (|err|/(1+|ref|) = %.3g > %.3g)", what, i, p.first + i, s_, j, got, want, e, tol);
            first = msg;
        }
    };
    for (long long i = 0; i < p.count; i++) {
        for (int s_ = 0; s_ < S; s_++)
            for (int j = 0; j <= dim; j++)
                cmp(samples[((size_t) s_ * p.count + i) * (dim + 1) + j],
                    ref_samples[(size_t) i][(size_t) s_ * (dim + 1) + j], j == dim ? "energy" : "sampled state", i,
                    s_, j);
        for (int j = 0; j < dim; j++)
            cmp(finals[(size_t) i * dim + j], ref_finals[(size_t) i][(size_t) j], "final state", i, -1, j);
        if (div[(size_t) i] != ref_div[(size_t) i] && first.empty()) {
            std::snprintf(msg, sizeof msg, "diverged_at of trajectory %lld = %d, reference %d", i, div[(size_t) i],
                          ref_div[(size_t) i]);
            first = msg;
        }
    }
    return first;
}

/** A validation problem: which kernel, a name, the problem and the launch shapes to try. */
struct VCase {
    int kernel;
    std::string name;
    Problem p;
    std::vector<Shape> shapes;
};

/** Model of kind/scheme with n dof, m inputs, hidden widths; random weights, q0/p0 and (optionally) an input table. */
Problem make_problem(int kind, int scheme, int n, int m, std::vector<int> hidden, long long first, long long count,
                     int steps, int every, float noise, bool init_rows, uint64_t seed) {
    harness::Rng rng(seed);
    Problem p;
    p.kind = kind;
    p.scheme = scheme;
    p.n = n;
    p.m = m;
    p.steps = steps;
    p.sample_every = every;
    p.noise = noise;
    p.seed = seed;
    p.first = first;
    p.count = count;
    auto widths = [&](int in, int out) {
        std::vector<int> w{in};
        w.insert(w.end(), hidden.begin(), hidden.end());
        w.push_back(out);
        return w;
    };
    switch (kind) {
        case ENGRAM_MODEL_SEPARABLE:
            p.nets.push_back(random_net(widths(n, 1), rng, 1.f));
            p.nets.push_back(random_net(widths(n, 1), rng, 1.f));
            break;
        case ENGRAM_MODEL_DISSIPATIVE:
        case ENGRAM_MODEL_PORT:
            p.nets.push_back(random_net(widths(2 * n, 1), rng, 1.f));
            p.nets.push_back(random_net({2 * n, 8, n}, rng, 0.5f));
            if (kind == ENGRAM_MODEL_PORT) p.nets.push_back(random_net({n, 8, n * m}, rng, 0.5f));
            break;
        case ENGRAM_MODEL_DERIVATIVE: p.nets.push_back(random_net(widths(2 * n + m, 2 * n), rng, 1.f)); break;
        default: p.nets.push_back(random_net(widths(2 * n, 1), rng, 1.f)); break;
    }
    for (int j = 0; j < n; j++) {
        p.q0.push_back(0.5f * rng.uniform());
        p.p0.push_back(0.5f * rng.uniform());
    }
    if (m > 0)
        for (int k = 0; k < steps * m; k++) p.inputs.push_back(rng.uniform());
    if (init_rows)
        for (long long k = 0; k < count * 2 * n; k++) p.init.push_back(rng.uniform());
    return p;
}

std::vector<VCase> validation_cases(bool quick, const std::vector<int>& kernels, uint64_t seed) {
    std::vector<VCase> out;
    const bool f32 = std::find(kernels.begin(), kernels.end(), (int) FP32) != kernels.end();
    const bool tc = std::find(kernels.begin(), kernels.end(), (int) TENSOR) != kernels.end();
    uint64_t s = seed * 1000;
    auto add = [&](int kernel, const char* name, Problem p, std::vector<Shape> shapes) {
        out.push_back(VCase{kernel, name, std::move(p), std::move(shapes)});
    };
    const int H = ENGRAM_MODEL_HAMILTONIAN, SEP = ENGRAM_MODEL_SEPARABLE, DIS = ENGRAM_MODEL_DISSIPATIVE,
              PORT = ENGRAM_MODEL_PORT, DER = ENGRAM_MODEL_DERIVATIVE, LF = ENGRAM_SCHEME_LEAPFROG,
              SV = ENGRAM_SCHEME_STORMER_VERLET, TAO = ENGRAM_SCHEME_TAO, RK4 = ENGRAM_SCHEME_RK4;
    // FP32 shapes: (blocks, threads); a grid smaller than the range makes threads loop over trajectories
    const std::vector<Shape> fs = {{1, 32, 0}, {3, 64, 0}, {0, 128, 0}, {2, 256, 0}};
    // tensor shapes: (blocks, warps, tile)
    const std::vector<Shape> ts16 = {{1, 1, 16}, {2, 3, 16}, {0, 4, 16}};
    const std::vector<Shape> ts32 = {{1, 1, 32}, {1, 2, 16}, {0, 4, 32}};
    if (quick) {  // compute-sanitizer and the build's all-kernel pass: small problems, two shapes each
        if (f32) {
            add(FP32, "hamiltonian-leapfrog-noise", make_problem(H, LF, 1, 0, {16, 16}, 3, 45, 6, 4, 0.2f, false, s + 1),
                {{1, 32, 0}, {0, 64, 0}});
            add(FP32, "separable-stormer-verlet", make_problem(SEP, SV, 2, 0, {8}, 0, 33, 5, 0, 0.f, false, s + 2),
                {{2, 32, 0}, {0, 128, 0}});
        }
        if (tc) {
            add(TENSOR, "tc-h64-n1-noise", make_problem(H, LF, 1, 0, {64, 64}, 5, 37, 6, 4, 0.2f, false, s + 3),
                {{1, 1, 16}, {0, 2, 16}});
            add(TENSOR, "tc-h32-n5-tile32", make_problem(H, LF, 5, 0, {32, 32}, 0, 40, 4, 0, 0.f, false, s + 4),
                {{1, 2, 32}, {0, 4, 16}});
        }
        return out;
    }
    if (f32) {
        add(FP32, "hamiltonian-leapfrog-noise", make_problem(H, LF, 1, 0, {16, 16}, 7, 257, 30, 7, 0.2f, false, s + 1), fs);
        add(FP32, "hamiltonian-leapfrog-h64-n2", make_problem(H, LF, 2, 0, {64, 64}, 0, 65, 12, 5, 0.f, false, s + 2), fs);
        add(FP32, "hamiltonian-tao", make_problem(H, TAO, 2, 0, {24, 24}, 0, 33, 20, 0, 0.1f, false, s + 3), fs);
        add(FP32, "hamiltonian-rk4-one-hidden", make_problem(H, RK4, 3, 0, {24}, 100, 50, 20, 6, 0.f, true, s + 4), fs);
        add(FP32, "separable-stormer-verlet-noise", make_problem(SEP, SV, 2, 0, {16, 16}, 0, 65, 25, 8, 0.3f, false, s + 5), fs);
        add(FP32, "separable-leapfrog", make_problem(SEP, LF, 1, 0, {16}, 0, 31, 20, 0, 0.f, false, s + 6), fs);
        add(FP32, "separable-tao", make_problem(SEP, TAO, 3, 0, {12, 12}, 2, 19, 20, 3, 0.f, false, s + 7), fs);
        add(FP32, "separable-rk4", make_problem(SEP, RK4, 2, 0, {16}, 0, 40, 20, 0, 0.f, false, s + 8), fs);
        add(FP32, "dissipative-rk4", make_problem(DIS, RK4, 2, 0, {16, 16}, 0, 45, 20, 4, 0.1f, false, s + 9), fs);
        add(FP32, "port-rk4-inputs", make_problem(PORT, RK4, 2, 3, {16}, 11, 37, 20, 5, 0.f, false, s + 10), fs);
        add(FP32, "derivative-rk4-inputs", make_problem(DER, RK4, 1, 2, {16, 16}, 0, 50, 20, 0, 0.f, false, s + 11), fs);
        add(FP32, "derivative-rk4-no-inputs", make_problem(DER, RK4, 2, 0, {20}, 0, 33, 15, 4, 0.1f, true, s + 12), fs);
    }
    if (tc) {
        add(TENSOR, "tc-h64-n1-noise", make_problem(H, LF, 1, 0, {64, 64}, 5, 101, 30, 7, 0.2f, false, s + 21), ts16);
        add(TENSOR, "tc-h16-n2-tile32", make_problem(H, LF, 2, 0, {16, 16}, 0, 77, 30, 0, 0.f, false, s + 22), ts32);
        add(TENSOR, "tc-h32-n5-two-state-tiles", make_problem(H, LF, 5, 0, {32, 32}, 3, 49, 20, 6, 0.1f, true, s + 23), ts32);
        add(TENSOR, "tc-h128-n8", make_problem(H, LF, 8, 0, {128, 128}, 0, 17, 10, 0, 0.f, false, s + 24), ts16);
        add(TENSOR, "tc-h64-n4-init-rows", make_problem(H, LF, 4, 0, {64, 64}, 1000, 33, 15, 5, 0.f, true, s + 25), ts16);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Device quantiles (quantiles.cu) against the host computation, dev.engram.engine.EnsembleRecorder.quantile.

/** EnsembleRecorder.result's quantile of one column: NaN left out, Arrays.sort order (−0.0 < 0.0), type 7. */
float host_quantile(std::vector<float> column, double level) {
    column.erase(std::remove_if(column.begin(), column.end(), [](float v) { return std::isnan(v); }), column.end());
    std::sort(column.begin(), column.end(), [](float x, float y) {
        return x < y || (x == y && std::signbit(x) && !std::signbit(y));
    });
    const long long m = (long long) column.size();
    if (m == 0) return NAN;
    const double pos = level * (double) (m - 1);
    const long long lo = (long long) std::floor(pos), hi = std::min(lo + 1, m - 1);
    const double frac = pos - (double) lo;
    const float diff = column[(size_t) hi] - column[(size_t) lo];  // float − float, as in Java
    return (float) ((double) column[(size_t) lo] + frac * (double) diff);
}

/**
 * Random columns in the samples layout (S × count × coords): values with many ties (rounded to 1/8), NaN runs (a
 * diverged trajectory from some sample on), −0.0 and 0.0, an all-NaN column; every quantile must equal the host's
 * bit for bit (the same order statistics and the same double arithmetic). Returns the first mismatch or "".
 */
std::string check_quantiles(long long count, int S, int coords, const std::vector<double>& levels, uint64_t seed) {
    harness::Rng rng(seed);
    std::vector<float> data((size_t) S * count * coords);
    std::vector<int> dead_from((size_t) count);
    for (auto& d : dead_from) d = (rng.next() % 7 == 0) ? (int) (rng.next() % (uint64_t) S) : S;
    for (int s = 0; s < S; s++)
        for (long long i = 0; i < count; i++)
            for (int c = 0; c < coords; c++) {
                const float u = rng.uniform();
                // ties; plain values; values over 2⁻¹⁰..2¹⁰ (neighbours whose float difference rounds)
                const uint64_t pick = rng.next() % 3;
                float v = pick == 0 ? std::round(u * 24.f) / 8.f
                        : pick == 1 ? 3.f * u
                                    : std::ldexp(1.f + 0.999f * std::fabs(rng.uniform()), (int) (rng.next() % 21) - 10) *
                                          (u < 0 ? -1.f : 1.f);
                if (rng.next() % 11 == 0) v = (rng.next() & 1) ? -0.0f : 0.0f;
                if (c == coords - 1 && s == 0 && coords > 1) v = NAN;  // an all-NaN column
                if (s >= dead_from[(size_t) i]) v = NAN;
                data[((size_t) s * count + i) * coords + c] = v;
            }
    float* dd = upload(data);
    double* dl = upload(levels);
    const int L = (int) levels.size(), columns = S * coords;
    float* dout = nullptr;
    CUDA_CHECK(cudaMalloc((void**) &dout, (size_t) columns * L * 4));
    const engram::QuantileColumns cols{dd, count, coords, count * coords, coords, columns};
    CUDA_CHECK(engram::launch_column_quantiles(cols, dl, L, dout, 0));
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> got = download(dout, (size_t) columns * L);
    cudaFree(dd);
    cudaFree(dl);
    cudaFree(dout);
    char msg[200];
    for (int j = 0; j < columns; j++) {
        std::vector<float> column((size_t) count);
        for (long long i = 0; i < count; i++)
            column[(size_t) i] = data[((size_t) (j / coords) * count + i) * coords + j % coords];
        for (int l = 0; l < L; l++) {
            const float want = host_quantile(column, levels[(size_t) l]), g = got[(size_t) j * L + l];
            uint32_t wb, gb;
            std::memcpy(&wb, &want, 4);
            std::memcpy(&gb, &g, 4);
            if (wb != gb && !(std::isnan(want) && std::isnan(g))) {
                std::snprintf(msg, sizeof msg, "column %d level %g: device %.9g (0x%08x), host %.9g (0x%08x)", j,
                              levels[(size_t) l], (double) g, gb, (double) want, wb);
                return msg;
            }
        }
    }
    return "";
}

// Machine figures for the "fraction of peak" columns: an H200 SXM (the same SMs and clocks as an H100 SXM), scaled
// by the device's SM count: FP32 66.9 TFLOP/s (132 SMs · 128 FMA · 2 · 1.98 GHz), dense bf16 tensor 989 TFLOP/s,
// tanh.approx (MUFU) 132 · 16 · 1.98 GHz = 4.18e12/s.
constexpr double kPeakFp32 = 66.9e12, kPeakBf16 = 989.4e12, kPeakMufu = 4.18e12, kPeakSms = 132;

}  // namespace

int main(int argc, char** argv) {
    harness::Args args(argc, argv);
    const bool validate_only = args.flag("--validate-only");
    const bool quick = args.flag("--quick");
    const std::string storage_arg = args.value("--storage", "all");
    const std::string sizes_arg = args.value("--sizes", "100000,1000000,10000000");
    const int dof = (int) args.integer("--dof", 1);
    const int hidden = (int) args.integer("--hidden", 64);
    const int steps = (int) args.integer("--steps", 100);
    const int reps = (int) args.integer("--reps", 5);
    const double max_seconds = args.real("--max-seconds", 10);
    const uint64_t seed = (uint64_t) args.integer("--seed", 1);
    const std::string json = args.value("--json", "");
    args.done();
    std::vector<int> kernels;
    if (storage_arg == "all") kernels = {FP32, TENSOR};
    else if (storage_arg == "f32") kernels = {FP32};
    else if (storage_arg == "bf16") kernels = {TENSOR};
    else harness::Args::die("--storage must be f32 (the FP32 kernel), bf16 (the tensor-core kernel) or all, got '%s'",
                            storage_arg.c_str());
    if (dof < 1 || dof > 8) harness::Args::die("--dof must be in [1, 8] (the tensor kernel's limit), got %d", dof);
    if (hidden != 16 && hidden != 32 && hidden != 64 && hidden != 128)
        harness::Args::die("--hidden must be 16, 32, 64 or 128 (the tensor kernel's widths), got %d", hidden);
    if (steps < 1) harness::Args::die("--steps must be >= 1, got %d", steps);
    if (reps < 1) harness::Args::die("--reps must be >= 1, got %d", reps);
    if (!(max_seconds > 0)) harness::Args::die("--max-seconds must be > 0, got %g", max_seconds);
    std::vector<long long> sizes;
    {
        size_t at = 0;
        while (at <= sizes_arg.size()) {
            const size_t comma = sizes_arg.find(',', at);
            const std::string v = sizes_arg.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
            char* end = nullptr;
            const long long n = std::strtoll(v.c_str(), &end, 10);
            if (v.empty() || *end != 0 || n < 1)
                harness::Args::die("--sizes entry '%s' is not a positive integer (trajectories)", v.c_str());
            sizes.push_back(n);
            if (comma == std::string::npos) break;
            at = comma + 1;
        }
    }
#if defined(ENGRAM_EMULATION_BUILD)
    const char* build = "emu";
#else
    const char* build = "cuda";
#endif

    // 1. validation
    int failures = 0, qfailures = 0, checked = 0;  // integration kernels; the quantile kernel
    for (const VCase& c : validation_cases(quick, kernels, seed)) {
        const Problem& p = c.p;
        const bool tc = c.kernel == TENSOR;
        const double tol = tc ? 3e-3 : 2e-5;
        const Reference ref(p, tc);
        std::vector<std::vector<double>> rs((size_t) p.count), rf((size_t) p.count);
        std::vector<int> rd((size_t) p.count);
        for (long long i = 0; i < p.count; i++) ref.trajectory(i, rs[(size_t) i], rf[(size_t) i], rd[(size_t) i]);
        for (const Shape& s : c.shapes) {
            double max_err = 0;
            Shape used{};
            const std::string bad = check(p, c.kernel, s, rs, rf, rd, tol, max_err, used);
            checked++;
            std::string hid;
            for (size_t k = 1; k + 1 < p.nets[0].widths.size(); k++) {
                if (!hid.empty()) hid += 'x';  // appended: "x" + std::string trips a false GCC 12 -Wrestrict warning
                hid += std::to_string(p.nets[0].widths[k]);
            }
            harness::Json j;
            j.str("harness", "integrate").str("build", build).str("phase", "validate").str("kernel", kernel_name(c.kernel))
                .str("case", c.name).str("kind", kKinds[p.kind]).str("scheme", kSchemes[p.scheme]).integer("n", p.n)
                .integer("m", p.m).str("hidden", hid).integer("first", p.first).integer("count", p.count)
                .integer("steps", p.steps).integer("sample_every", p.sample_every).num("noise", p.noise)
                .integer("blocks", used.blocks).integer(tc ? "warps" : "threads", used.threads);
            if (tc) j.integer("tile", used.tile);
            j.integer("seed", (long long) p.seed).num("max_rel_err", max_err).num("tol", tol).boolean("ok", bad.empty());
            if (!bad.empty()) {
                failures++;
                j.str("error", bad);
            }
            harness::emit(j, json);
        }
    }
    // device quantiles (what engram_integrate_quantiles returns) against the host's, bit for bit
    {
        const std::vector<double> levels = {0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0, 1.0 / 3};
        struct QCase {
            long long count;
            int S, coords;
        };
        std::vector<QCase> qc = {{1, 2, 3}, {2, 1, 2}, {37, 3, 3}, {1000, 2, 5}, {4099, 2, 3}};
        if (quick) qc = {{37, 3, 3}, {300, 2, 2}};
        for (size_t k = 0; k < qc.size(); k++) {
            const std::string bad = check_quantiles(qc[k].count, qc[k].S, qc[k].coords, levels, seed * 77 + k);
            checked++;
            harness::Json j;
            j.str("harness", "integrate").str("build", build).str("phase", "validate").str("kernel", "quantiles")
                .integer("count", qc[k].count).integer("samples", qc[k].S).integer("coords", qc[k].coords)
                .integer("levels", (long long) levels.size()).boolean("ok", bad.empty());
            if (!bad.empty()) {
                qfailures++;
                j.str("error", bad);
            }
            harness::emit(j, json);
        }
    }
    {
        harness::Json j;
        j.str("harness", "integrate").str("build", build).str("phase", "validate-summary").integer("checked", checked)
            .integer("failures", failures + qfailures).boolean("ok", failures + qfailures == 0);
        harness::emit(j, json);
    }
    // a wrong integration kernel is not timed; a wrong quantile kernel fails the run but does not stop the timing
    // of the integration kernels (which do not use it)
    if (failures > 0) return 1;
    if (validate_only) return qfailures > 0 ? 1 : 0;

#if defined(ENGRAM_EMULATION_BUILD)
    harness::Json j;
    j.str("harness", "integrate").str("build", build).str("phase", "time").str("skipped",
        "timing needs the nvcc build (the emulator is for correctness, never speed)");
    harness::emit(j, json);
    (void) sizes;
    (void) reps;
    (void) max_seconds;
    (void) dof;
    (void) hidden;
    (void) steps;
#else
    // 2. timing: the goal's model H = [2n, h, h, 1], leapfrog, samples at 0 and `steps`
    int dev = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    const double scale = prop.multiProcessorCount / kPeakSms;
    const double h = hidden, n = dof;
    const double useful = 3 * (4 * h * h + 8 * n * h);  // FLOP per trajectory-step: three ∇H, forward + backward
    const double mma = 3 * (h / 4 + h * h / 64 + h / 16 * (dof > 4 ? 2 : 1)) * 4096 / 16;  // issued, per trajectory-step
    const double tanh_per = 6 * h;
    for (int kernel : kernels) {
        double prev_s = 0;
        long long prev_n = 0;
        for (long long N : sizes) {
            harness::Json j;
            j.str("harness", "integrate").str("build", build).str("phase", "time").str("kernel", kernel_name(kernel))
                .str("device", prop.name).integer("N", N).integer("n", dof).integer("hidden", hidden)
                .integer("steps", steps).str("scheme", "LEAPFROG");
            const double bytes = (double) N * (2 * (2 * dof + 1) + 2 * dof + 1) * 4;
            if (bytes > 0.6 * (double) prop.totalGlobalMem) {
                j.str("skipped", "the samples and final states do not fit in device memory");
                harness::emit(j, json);
                continue;
            }
            if (prev_n > 0 && prev_s * N / prev_n > max_seconds) {
                char why[160];
                std::snprintf(why, sizeof why, "predicted %.1f s per run from N = %lld, over --max-seconds %g",
                              prev_s * N / prev_n, prev_n, max_seconds);
                j.str("skipped", why);
                harness::emit(j, json);
                continue;
            }
            Problem p = make_problem(ENGRAM_MODEL_HAMILTONIAN, ENGRAM_SCHEME_LEAPFROG, dof, 0, {hidden, hidden}, 0, N,
                                     steps, 0, 0.f, false, seed);
            Run run(p, kernel, kernel == TENSOR ? Shape{0, 4, 16} : Shape{0, 128, 0});
            // one run first: it loads the module and tells how many more fit in --max-seconds
            const double first_ms = harness::time_ms(0, 1, [&] { run.launch(); });
            int more = (int) std::min<double>(reps, std::floor((max_seconds - first_ms * 1e-3) / (first_ms * 1e-3)));
            const double ms = more >= 1 ? harness::time_ms(0, more, [&] { run.launch(); }) : first_ms;
            prev_s = ms * 1e-3;
            prev_n = N;
            const double ts = (double) N * steps / (ms * 1e-3);
            j.integer("blocks", run.shape.blocks).integer(kernel == TENSOR ? "warps" : "threads", run.shape.threads);
            if (kernel == TENSOR) j.integer("tile", run.shape.tile);
            j.num("ms", ms).integer("reps", std::max(1, more)).num("traj_steps_per_s", ts)
                .num("useful_flop_per_traj_step", useful).num("useful_tflops", ts * useful / 1e12);
            if (kernel == TENSOR) {
                j.num("mma_flop_per_traj_step", mma).num("frac_bf16_peak_useful", ts * useful / (kPeakBf16 * scale))
                    .num("frac_bf16_peak_issued", ts * mma / (kPeakBf16 * scale));
            } else {
                j.num("frac_fp32_peak", ts * useful / (kPeakFp32 * scale));
            }
            j.num("frac_mufu_tanh", ts * tanh_per / (kPeakMufu * scale))
                .str("peak_basis", "H200 SXM: FP32 66.9 TFLOP/s, dense bf16 989 TFLOP/s, tanh 4.18e12/s, scaled by SMs/132");
            // a sanity check of the timed run: no trajectory diverged, final states finite
            const std::vector<int> div = download(run.ddiv, (size_t) std::min<long long>(N, 4096));
            long long bad = 0;
            for (int d : div) bad += d != -1;
            j.integer("diverged_of_first_4096", bad);
            harness::emit(j, json);
        }
    }
#endif
    return qfailures > 0 ? 1 : 0;
}
