package dev.engram.engine.jcuda;

import java.util.ArrayList;
import java.util.List;

import static dev.engram.engine.jcuda.KernelParam.FLOAT;
import static dev.engram.engine.jcuda.KernelParam.INT;
import static dev.engram.engine.jcuda.KernelParam.LONG;
import static dev.engram.engine.jcuda.KernelParam.POINTER;

/**
 * The kernels the JCuda engine launches: which fatbin holds each, its extern "C" name (cuModuleGetFunction), and its
 * parameters in order, by name and C type, exactly as declared in cuda/retrieve_partial.cu, cuda/retrieve_merge.cu and
 * cuda/scores_partials.cu.
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
    /** Pass 2: merges the per-chunk partials exactly into finished results (finish = 1) or one partial (0). */
    RETRIEVE_MERGE("engram_retrieve_merge.fatbin", "engram_kernel_retrieve_merge", Signatures.MERGE),
    /**
     * The cuBLAS baseline's second pass ({@link JCublasBaseline}): from the score matrix a GEMM wrote to the same
     * per-(chunk, query) partials as pass 1 (cuda/scores_partials.cu), which RETRIEVE_MERGE then finishes.
     */
    SCORES_PARTIALS("engram_scores_partials.fatbin", "engram_kernel_scores_partials", Signatures.SCORES);

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
            int size = params.get(i).type().bytes;
            at = (at + size - 1) / size * size;
            out[i] = at;
            at += size;
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

        private static Param p(String name, KernelParam type) {
            return new Param(name, type);
        }
    }
}
