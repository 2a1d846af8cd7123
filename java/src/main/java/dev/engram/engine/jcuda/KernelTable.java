package dev.engram.engine.jcuda;

import java.util.ArrayList;
import java.util.List;

import static dev.engram.engine.jcuda.KernelParam.FLOAT;
import static dev.engram.engine.jcuda.KernelParam.INT;
import static dev.engram.engine.jcuda.KernelParam.INTEGRATE_ARGS;
import static dev.engram.engine.jcuda.KernelParam.LONG;
import static dev.engram.engine.jcuda.KernelParam.POINTER;

/**
 * The kernels the JCuda engine launches: which fatbin holds each, its extern "C" name (cuModuleGetFunction), and its
 * parameters in order, by name and C type, exactly as declared in cuda/retrieve_partial.cu, cuda/retrieve_partial_v2.cu,
 * cuda/retrieve_merge.cu, cuda/scores_partials.cu, cuda/integrate.cu, cuda/integrate_tc.cu and cuda/quantiles.cu.
 * {@link KernelArgs} checks every launch against this table; a test checks the table against the parameter offsets
 * and sizes nvcc recorded in the fatbin.
 */
enum KernelTable {
    /** Pass 1 over float32 patterns: per (memory chunk, query) the partial state and the chunk's cosine top-k. */
    RETRIEVE_PARTIAL_F32("engram_retrieve_partial.fatbin", "engram_kernel_retrieve_partial_f32", Signatures.PARTIAL),
    /** Pass 1 over fp16 patterns (widened to float32 in shared memory). */
    RETRIEVE_PARTIAL_F16("engram_retrieve_partial.fatbin", "engram_kernel_retrieve_partial_f16", Signatures.PARTIAL),
    /** Pass 1 over bf16 patterns. */
    RETRIEVE_PARTIAL_BF16("engram_retrieve_partial.fatbin", "engram_kernel_retrieve_partial_bf16", Signatures.PARTIAL),
    /** Pass 1, version 2 (tensor cores, cuda/retrieve_partial_v2.cu): per storage and d = dv in {32, 64, 128}. */
    RETRIEVE_PARTIAL_V2_F32_D32(Modules.V2, "engram_kernel_retrieve_partial_v2_f32_d32", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_F32_D64(Modules.V2, "engram_kernel_retrieve_partial_v2_f32_d64", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_F32_D128(Modules.V2, "engram_kernel_retrieve_partial_v2_f32_d128", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_F16_D32(Modules.V2, "engram_kernel_retrieve_partial_v2_f16_d32", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_F16_D64(Modules.V2, "engram_kernel_retrieve_partial_v2_f16_d64", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_F16_D128(Modules.V2, "engram_kernel_retrieve_partial_v2_f16_d128", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_BF16_D32(Modules.V2, "engram_kernel_retrieve_partial_v2_bf16_d32", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_BF16_D64(Modules.V2, "engram_kernel_retrieve_partial_v2_bf16_d64", Signatures.PARTIAL_V2),
    RETRIEVE_PARTIAL_V2_BF16_D128(Modules.V2, "engram_kernel_retrieve_partial_v2_bf16_d128", Signatures.PARTIAL_V2),
    /** Pass 2: merges the per-chunk partials exactly into finished results (finish = 1) or one partial (0). */
    RETRIEVE_MERGE("engram_retrieve_merge.fatbin", "engram_kernel_retrieve_merge", Signatures.MERGE),
    /**
     * The cuBLAS baseline's second pass ({@link JCublasBaseline}): from the score matrix a GEMM wrote to the same
     * per-(chunk, query) partials as pass 1 (cuda/scores_partials.cu), which RETRIEVE_MERGE then finishes.
     */
    SCORES_PARTIALS("engram_scores_partials.fatbin", "engram_kernel_scores_partials", Signatures.SCORES),
    /** Ensemble integration, FP32, one thread per trajectory: every model kind and scheme (cuda/integrate.cu). */
    INTEGRATE_FP32("engram_integrate.fatbin", "engram_kernel_integrate_fp32", Signatures.INTEGRATE),
    /** Ensemble integration on tensor cores (cuda/integrate_tc.cu): per hidden width h, tiles of 16 trajectories. */
    INTEGRATE_TC_H16(Modules.TC, "engram_kernel_integrate_tc_h16", Signatures.INTEGRATE_TC),
    INTEGRATE_TC_H32(Modules.TC, "engram_kernel_integrate_tc_h32", Signatures.INTEGRATE_TC),
    INTEGRATE_TC_H64(Modules.TC, "engram_kernel_integrate_tc_h64", Signatures.INTEGRATE_TC),
    INTEGRATE_TC_H128(Modules.TC, "engram_kernel_integrate_tc_h128", Signatures.INTEGRATE_TC),
    /** Tiles of 32 trajectories per warp (h <= 32). */
    INTEGRATE_TC_H16_TILE32(Modules.TC, "engram_kernel_integrate_tc_h16_tile32", Signatures.INTEGRATE_TC),
    INTEGRATE_TC_H32_TILE32(Modules.TC, "engram_kernel_integrate_tc_h32_tile32", Signatures.INTEGRATE_TC),
    /** Per-column quantiles of an ensemble's samples or final states on the device (cuda/quantiles.cu). */
    COLUMN_QUANTILES(Modules.QUANTILES, "engram_kernel_column_quantiles", Signatures.COLUMN_QUANTILES),
    /** The number of diverged trajectories (flags other than −1), added to a zeroed counter. */
    COUNT_DIVERGED(Modules.QUANTILES, "engram_kernel_count_diverged", Signatures.COUNT_DIVERGED);

    /** Threads per block of version 2's partial kernel (kWarps warps of 32). */
    static final int V2_THREADS = 128;
    /** Partials version 2 writes per chunk (one per warp). */
    static final int V2_PARTS_PER_CHUNK = 4;

    /** Threads per block of the merge kernel (its __launch_bounds__). */
    static final int MERGE_THREADS = 256;
    /** Threads per block of the scores → partials kernel (its fixed block size). */
    static final int SCORES_THREADS = 256;

    /** The fatbin file (resource native/linux-x86_64/&lt;module&gt;) holding the kernel. */
    final String module;
    /** The kernel's extern "C" name. */
    final String symbol;
    private final List<Param> params;

    /** One parameter: its name in the .cu source and its type. */
    record Param(String name, KernelParam type) {
    }

    KernelTable(String module, String symbol, List<Param> params) {
        this.module = module;
        this.symbol = symbol;
        this.params = params;
    }

    List<Param> params() {
        return params;
    }

    /** Byte offset of every parameter in the kernel's parameter buffer (each naturally aligned, in order). */
    int[] offsets() {
        int[] out = new int[params.size()];
        int at = 0;
        for (int i = 0; i < out.length; i++) {
            KernelParam t = params.get(i).type();
            at = (at + t.align - 1) / t.align * t.align;
            out[i] = at;
            at += t.bytes;
        }
        return out;
    }

    /** The pass-1 kernel for a storage kind. */
    static KernelTable partialFor(JCudaStorage storage) {
        return switch (storage) {
            case F32 -> RETRIEVE_PARTIAL_F32;
            case F16 -> RETRIEVE_PARTIAL_F16;
            case BF16 -> RETRIEVE_PARTIAL_BF16;
        };
    }

    /** Version 2's pass-1 kernel for a storage kind and d = dv in {32, 64, 128}. */
    static KernelTable partialV2For(JCudaStorage storage, int d) {
        int di = switch (d) {
            case 32 -> 0;
            case 64 -> 1;
            case 128 -> 2;
            default -> throw new IllegalArgumentException("retrieval kernel 2 has no variant for d=" + d
                    + " (d = dv in {32, 64, 128})");
        };
        KernelTable[][] byStorage = {
                {RETRIEVE_PARTIAL_V2_F32_D32, RETRIEVE_PARTIAL_V2_F32_D64, RETRIEVE_PARTIAL_V2_F32_D128},
                {RETRIEVE_PARTIAL_V2_F16_D32, RETRIEVE_PARTIAL_V2_F16_D64, RETRIEVE_PARTIAL_V2_F16_D128},
                {RETRIEVE_PARTIAL_V2_BF16_D32, RETRIEVE_PARTIAL_V2_BF16_D64, RETRIEVE_PARTIAL_V2_BF16_D128}};
        return byStorage[storage.ordinal()][di];
    }

    /** The tensor-core integration kernel for hidden width h in {16, 32, 64, 128} and tile 16 (or 32, h <= 32). */
    static KernelTable integrateTc(int h, int tile) {
        if (tile == 32) {
            return switch (h) {
                case 16 -> INTEGRATE_TC_H16_TILE32;
                case 32 -> INTEGRATE_TC_H32_TILE32;
                default -> throw new IllegalArgumentException("tile 32 needs a hidden width h <= 32, got h = " + h);
            };
        }
        return switch (h) {
            case 16 -> INTEGRATE_TC_H16;
            case 32 -> INTEGRATE_TC_H32;
            case 64 -> INTEGRATE_TC_H64;
            case 128 -> INTEGRATE_TC_H128;
            default -> throw new IllegalArgumentException("the tensor-core kernel has no variant for h = " + h);
        };
    }

    /** The distinct fatbin files the table names, in table order. */
    static List<String> modules() {
        List<String> out = new ArrayList<>();
        for (KernelTable k : values()) {
            if (!out.contains(k.module)) {
                out.add(k.module);
            }
        }
        return out;
    }

    /** Fatbin names used by several constants. */
    private static final class Modules {
        static final String V2 = "engram_retrieve_partial_v2.fatbin";
        static final String TC = "engram_integrate_tc.fatbin";
        static final String QUANTILES = "engram_quantiles.fatbin";
    }

    /** The signatures, kept apart so that the enum constants can refer to them. */
    private static final class Signatures {
        static final List<Param> PARTIAL = List.of(
                p("x", POINTER), p("v", POINTER), p("norms", POINTER), p("from", LONG), p("to", LONG), p("d", INT),
                p("dv", INT), p("queries", POINTER), p("batch", INT), p("beta", FLOAT), p("k", INT), p("chunk", INT),
                p("qtile", INT), p("m", POINTER), p("l", POINTER), p("t", POINTER), p("o", POINTER),
                p("top_score", POINTER), p("top_index", POINTER));
        static final List<Param> MERGE = List.of(
                p("in_m", POINTER), p("in_l", POINTER), p("in_t", POINTER), p("in_o", POINTER),
                p("in_top_score", POINTER), p("in_top_index", POINTER), p("chunks", INT), p("batch", INT),
                p("dv", INT), p("k", INT), p("count", LONG), p("finish", INT), p("weights", POINTER),
                p("heads", POINTER), p("out_a", POINTER), p("out_b", POINTER), p("out_c", POINTER),
                p("out_o", POINTER), p("out_top_score", POINTER), p("out_top_index", POINTER));

        static final List<Param> SCORES = List.of(
                p("scores", POINTER), p("lds", LONG), p("v", POINTER), p("dv", INT), p("norms", POINTER),
                p("from", LONG), p("to", LONG), p("qnorms", POINTER), p("batch", INT), p("beta", FLOAT), p("k", INT),
                p("chunk", INT), p("m", POINTER), p("l", POINTER), p("t", POINTER), p("o", POINTER),
                p("top_score", POINTER), p("top_index", POINTER));

        static final List<Param> PARTIAL_V2 = List.of(
                p("x", POINTER), p("v", POINTER), p("norms", POINTER), p("from", LONG), p("to", LONG),
                p("queries", POINTER), p("batch", INT), p("beta", FLOAT), p("k", INT), p("chunk", INT),
                p("m", POINTER), p("l", POINTER), p("t", POINTER), p("o", POINTER), p("top_score", POINTER),
                p("top_index", POINTER));
        static final List<Param> INTEGRATE = List.of(p("a", INTEGRATE_ARGS));
        static final List<Param> INTEGRATE_TC = List.of(p("a", INTEGRATE_ARGS), p("packed", POINTER));

        static final List<Param> COLUMN_QUANTILES = List.of(p("c", KernelParam.QUANTILE_COLUMNS),
                p("levels", POINTER), p("level_count", INT), p("out", POINTER));
        static final List<Param> COUNT_DIVERGED = List.of(p("flags", POINTER), p("count", LONG), p("out", POINTER));

        private static Param p(String name, KernelParam type) {
            return new Param(name, type);
        }
    }
}
