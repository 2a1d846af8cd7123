package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one dense product the CPU engine needs, register-blocked for the Vector API:
 * <pre>
 *   out[r][w] (+)= Σ_k a(r, k) · b[k][w]      r ∈ [0, rows), k ∈ [0, depth), w ∈ [0, width)
 *   a(r, k) = a[aOff + r·aRowStride + k·aColStride],  b[k][w] = b[bOff + k·bStride + w],
 *   out[r][w] = out[outOff + r·outStride + w]
 * </pre>
 * with {@code width} a multiple of the lane count: vectors run along w (queries), scalars of {@code a} are
 * broadcast. The strides let one routine serve both S = X·Qᵀ (a = X chunk, rows = patterns) and
 * Oᵀ += Vᵀ·P (a = V chunk read column-wise, rows = value dimensions).
 */
final class MicroKernels {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;

    private MicroKernels() {
    }

    static void gemm(float[] a, int aOff, int aRowStride, int aColStride, int rows, int depth,
                     float[] b, int bOff, int bStride,
                     float[] out, int outOff, int outStride, int width, boolean accumulate) {
        int r = 0;
        if (width == L) {
            // one vector of queries: eight rows give eight independent FMA chains (four would wait on latency)
            for (; r + 8 <= rows; r += 8) {
                block8x1(a, aOff + r * aRowStride, aRowStride, aColStride, depth, b, bOff, bStride,
                        out, outOff + r * outStride, outStride, accumulate);
            }
        }
        for (; r + 4 <= rows; r += 4) {
            int w = 0;
            for (; w + 4 * L <= width; w += 4 * L) {
                block4x4(a, aOff + r * aRowStride, aRowStride, aColStride, depth, b, bOff + w, bStride,
                        out, outOff + r * outStride + w, outStride, accumulate);
            }
            for (; w + 2 * L <= width; w += 2 * L) {
                block4x2(a, aOff + r * aRowStride, aRowStride, aColStride, depth, b, bOff + w, bStride,
                        out, outOff + r * outStride + w, outStride, accumulate);
            }
            for (; w < width; w += L) {
                block4x1(a, aOff + r * aRowStride, aRowStride, aColStride, depth, b, bOff + w, bStride,
                        out, outOff + r * outStride + w, outStride, accumulate);
            }
        }
        for (; r < rows; r++) {
            int w = 0;
            // four independent accumulators: one FMA chain per vector would wait on FMA latency
            for (; w + 4 * L <= width; w += 4 * L) {
                block1x4(a, aOff + r * aRowStride, aColStride, depth, b, bOff + w, bStride,
                        out, outOff + r * outStride + w, accumulate);
            }
            for (; w < width; w += L) {
                block1x1(a, aOff + r * aRowStride, aColStride, depth, b, bOff + w, bStride,
                        out, outOff + r * outStride + w, accumulate);
            }
        }
    }

    // 16 independent accumulators: enough FMAs in flight to hide their latency on two FMA pipes,
    // and 4 vector loads + 4 broadcasts per 16 FMAs keeps the load ports below saturation.
    private static void block4x4(float[] a, int a0, int ars, int acs, int depth, float[] b, int b0, int bs,
                                 float[] out, int o0, int os, boolean acc) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (acc) {
            c00 = FloatVector.fromArray(S, out, o0);
            c01 = FloatVector.fromArray(S, out, o0 + L);
            c02 = FloatVector.fromArray(S, out, o0 + 2 * L);
            c03 = FloatVector.fromArray(S, out, o0 + 3 * L);
            c10 = FloatVector.fromArray(S, out, o0 + os);
            c11 = FloatVector.fromArray(S, out, o0 + os + L);
            c12 = FloatVector.fromArray(S, out, o0 + os + 2 * L);
            c13 = FloatVector.fromArray(S, out, o0 + os + 3 * L);
            c20 = FloatVector.fromArray(S, out, o0 + 2 * os);
            c21 = FloatVector.fromArray(S, out, o0 + 2 * os + L);
            c22 = FloatVector.fromArray(S, out, o0 + 2 * os + 2 * L);
            c23 = FloatVector.fromArray(S, out, o0 + 2 * os + 3 * L);
            c30 = FloatVector.fromArray(S, out, o0 + 3 * os);
            c31 = FloatVector.fromArray(S, out, o0 + 3 * os + L);
            c32 = FloatVector.fromArray(S, out, o0 + 3 * os + 2 * L);
            c33 = FloatVector.fromArray(S, out, o0 + 3 * os + 3 * L);
        } else {
            FloatVector z = FloatVector.zero(S);
            c00 = z; c01 = z; c02 = z; c03 = z;
            c10 = z; c11 = z; c12 = z; c13 = z;
            c20 = z; c21 = z; c22 = z; c23 = z;
            c30 = z; c31 = z; c32 = z; c33 = z;
        }
        int ai = a0;
        int bi = b0;
        for (int k = 0; k < depth; k++, ai += acs, bi += bs) {
            FloatVector v0 = FloatVector.fromArray(S, b, bi);
            FloatVector v1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector v2 = FloatVector.fromArray(S, b, bi + 2 * L);
            FloatVector v3 = FloatVector.fromArray(S, b, bi + 3 * L);
            FloatVector s0 = FloatVector.broadcast(S, a[ai]);
            FloatVector s1 = FloatVector.broadcast(S, a[ai + ars]);
            FloatVector s2 = FloatVector.broadcast(S, a[ai + 2 * ars]);
            FloatVector s3 = FloatVector.broadcast(S, a[ai + 3 * ars]);
            c00 = v0.fma(s0, c00);
            c01 = v1.fma(s0, c01);
            c02 = v2.fma(s0, c02);
            c03 = v3.fma(s0, c03);
            c10 = v0.fma(s1, c10);
            c11 = v1.fma(s1, c11);
            c12 = v2.fma(s1, c12);
            c13 = v3.fma(s1, c13);
            c20 = v0.fma(s2, c20);
            c21 = v1.fma(s2, c21);
            c22 = v2.fma(s2, c22);
            c23 = v3.fma(s2, c23);
            c30 = v0.fma(s3, c30);
            c31 = v1.fma(s3, c31);
            c32 = v2.fma(s3, c32);
            c33 = v3.fma(s3, c33);
        }
        c00.intoArray(out, o0);
        c01.intoArray(out, o0 + L);
        c02.intoArray(out, o0 + 2 * L);
        c03.intoArray(out, o0 + 3 * L);
        c10.intoArray(out, o0 + os);
        c11.intoArray(out, o0 + os + L);
        c12.intoArray(out, o0 + os + 2 * L);
        c13.intoArray(out, o0 + os + 3 * L);
        c20.intoArray(out, o0 + 2 * os);
        c21.intoArray(out, o0 + 2 * os + L);
        c22.intoArray(out, o0 + 2 * os + 2 * L);
        c23.intoArray(out, o0 + 2 * os + 3 * L);
        c30.intoArray(out, o0 + 3 * os);
        c31.intoArray(out, o0 + 3 * os + L);
        c32.intoArray(out, o0 + 3 * os + 2 * L);
        c33.intoArray(out, o0 + 3 * os + 3 * L);
    }

    private static void block8x1(float[] a, int a0, int ars, int acs, int depth, float[] b, int b0, int bs,
                                 float[] out, int o0, int os, boolean acc) {
        FloatVector c0, c1, c2, c3, c4, c5, c6, c7;
        if (acc) {
            c0 = FloatVector.fromArray(S, out, o0);
            c1 = FloatVector.fromArray(S, out, o0 + os);
            c2 = FloatVector.fromArray(S, out, o0 + 2 * os);
            c3 = FloatVector.fromArray(S, out, o0 + 3 * os);
            c4 = FloatVector.fromArray(S, out, o0 + 4 * os);
            c5 = FloatVector.fromArray(S, out, o0 + 5 * os);
            c6 = FloatVector.fromArray(S, out, o0 + 6 * os);
            c7 = FloatVector.fromArray(S, out, o0 + 7 * os);
        } else {
            c0 = FloatVector.zero(S);
            c1 = c0; c2 = c0; c3 = c0; c4 = c0; c5 = c0; c6 = c0; c7 = c0;
        }
        int ai = a0;
        int bi = b0;
        for (int k = 0; k < depth; k++, ai += acs, bi += bs) {
            FloatVector v = FloatVector.fromArray(S, b, bi);
            c0 = v.fma(FloatVector.broadcast(S, a[ai]), c0);
            c1 = v.fma(FloatVector.broadcast(S, a[ai + ars]), c1);
            c2 = v.fma(FloatVector.broadcast(S, a[ai + 2 * ars]), c2);
            c3 = v.fma(FloatVector.broadcast(S, a[ai + 3 * ars]), c3);
            c4 = v.fma(FloatVector.broadcast(S, a[ai + 4 * ars]), c4);
            c5 = v.fma(FloatVector.broadcast(S, a[ai + 5 * ars]), c5);
            c6 = v.fma(FloatVector.broadcast(S, a[ai + 6 * ars]), c6);
            c7 = v.fma(FloatVector.broadcast(S, a[ai + 7 * ars]), c7);
        }
        c0.intoArray(out, o0);
        c1.intoArray(out, o0 + os);
        c2.intoArray(out, o0 + 2 * os);
        c3.intoArray(out, o0 + 3 * os);
        c4.intoArray(out, o0 + 4 * os);
        c5.intoArray(out, o0 + 5 * os);
        c6.intoArray(out, o0 + 6 * os);
        c7.intoArray(out, o0 + 7 * os);
    }

    private static void block4x2(float[] a, int a0, int ars, int acs, int depth, float[] b, int b0, int bs,
                                 float[] out, int o0, int os, boolean acc) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (acc) {
            c00 = FloatVector.fromArray(S, out, o0);
            c01 = FloatVector.fromArray(S, out, o0 + L);
            c10 = FloatVector.fromArray(S, out, o0 + os);
            c11 = FloatVector.fromArray(S, out, o0 + os + L);
            c20 = FloatVector.fromArray(S, out, o0 + 2 * os);
            c21 = FloatVector.fromArray(S, out, o0 + 2 * os + L);
            c30 = FloatVector.fromArray(S, out, o0 + 3 * os);
            c31 = FloatVector.fromArray(S, out, o0 + 3 * os + L);
        } else {
            c00 = FloatVector.zero(S);
            c01 = c00; c10 = c00; c11 = c00; c20 = c00; c21 = c00; c30 = c00; c31 = c00;
        }
        int ai = a0;
        int bi = b0;
        for (int k = 0; k < depth; k++, ai += acs, bi += bs) {
            FloatVector v0 = FloatVector.fromArray(S, b, bi);
            FloatVector v1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector s0 = FloatVector.broadcast(S, a[ai]);
            FloatVector s1 = FloatVector.broadcast(S, a[ai + ars]);
            FloatVector s2 = FloatVector.broadcast(S, a[ai + 2 * ars]);
            FloatVector s3 = FloatVector.broadcast(S, a[ai + 3 * ars]);
            c00 = v0.fma(s0, c00);
            c01 = v1.fma(s0, c01);
            c10 = v0.fma(s1, c10);
            c11 = v1.fma(s1, c11);
            c20 = v0.fma(s2, c20);
            c21 = v1.fma(s2, c21);
            c30 = v0.fma(s3, c30);
            c31 = v1.fma(s3, c31);
        }
        c00.intoArray(out, o0);
        c01.intoArray(out, o0 + L);
        c10.intoArray(out, o0 + os);
        c11.intoArray(out, o0 + os + L);
        c20.intoArray(out, o0 + 2 * os);
        c21.intoArray(out, o0 + 2 * os + L);
        c30.intoArray(out, o0 + 3 * os);
        c31.intoArray(out, o0 + 3 * os + L);
    }

    private static void block4x1(float[] a, int a0, int ars, int acs, int depth, float[] b, int b0, int bs,
                                 float[] out, int o0, int os, boolean acc) {
        FloatVector c0, c1, c2, c3;
        if (acc) {
            c0 = FloatVector.fromArray(S, out, o0);
            c1 = FloatVector.fromArray(S, out, o0 + os);
            c2 = FloatVector.fromArray(S, out, o0 + 2 * os);
            c3 = FloatVector.fromArray(S, out, o0 + 3 * os);
        } else {
            c0 = FloatVector.zero(S);
            c1 = c0;
            c2 = c0;
            c3 = c0;
        }
        int ai = a0;
        int bi = b0;
        for (int k = 0; k < depth; k++, ai += acs, bi += bs) {
            FloatVector v = FloatVector.fromArray(S, b, bi);
            c0 = v.fma(FloatVector.broadcast(S, a[ai]), c0);
            c1 = v.fma(FloatVector.broadcast(S, a[ai + ars]), c1);
            c2 = v.fma(FloatVector.broadcast(S, a[ai + 2 * ars]), c2);
            c3 = v.fma(FloatVector.broadcast(S, a[ai + 3 * ars]), c3);
        }
        c0.intoArray(out, o0);
        c1.intoArray(out, o0 + os);
        c2.intoArray(out, o0 + 2 * os);
        c3.intoArray(out, o0 + 3 * os);
    }

    private static void block1x4(float[] a, int a0, int acs, int depth, float[] b, int b0, int bs,
                                 float[] out, int o0, boolean acc) {
        FloatVector c0, c1, c2, c3;
        if (acc) {
            c0 = FloatVector.fromArray(S, out, o0);
            c1 = FloatVector.fromArray(S, out, o0 + L);
            c2 = FloatVector.fromArray(S, out, o0 + 2 * L);
            c3 = FloatVector.fromArray(S, out, o0 + 3 * L);
        } else {
            c0 = FloatVector.zero(S);
            c1 = c0;
            c2 = c0;
            c3 = c0;
        }
        int ai = a0;
        int bi = b0;
        for (int k = 0; k < depth; k++, ai += acs, bi += bs) {
            FloatVector s = FloatVector.broadcast(S, a[ai]);
            c0 = FloatVector.fromArray(S, b, bi).fma(s, c0);
            c1 = FloatVector.fromArray(S, b, bi + L).fma(s, c1);
            c2 = FloatVector.fromArray(S, b, bi + 2 * L).fma(s, c2);
            c3 = FloatVector.fromArray(S, b, bi + 3 * L).fma(s, c3);
        }
        c0.intoArray(out, o0);
        c1.intoArray(out, o0 + L);
        c2.intoArray(out, o0 + 2 * L);
        c3.intoArray(out, o0 + 3 * L);
    }

    private static void block1x1(float[] a, int a0, int acs, int depth, float[] b, int b0, int bs,
                                 float[] out, int o0, boolean acc) {
        FloatVector c = acc ? FloatVector.fromArray(S, out, o0) : FloatVector.zero(S);
        int ai = a0;
        int bi = b0;
        for (int k = 0; k < depth; k++, ai += acs, bi += bs) {
            c = FloatVector.fromArray(S, b, bi).fma(FloatVector.broadcast(S, a[ai]), c);
        }
        c.intoArray(out, o0);
    }
}
