package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, tanh and sums whose bits do not depend on the JIT tier, the vector width or the run.
 *
 * <p>Why: on x86 the optimising JIT replaces the Vector API's {@code lanewise(EXP)} / {@code lanewise(TANH)} with a
 * vector maths library while the interpreter and C1 call scalar {@code Math}, and {@code reduceLanes(ADD)} has no
 * fixed order (the interpreter sums lane by lane, compiled code in a tree). A method that runs first interpreted and
 * later compiled then gives different bits for the same input. Here everything is built from IEEE operations whose
 * result is defined to the bit in every tier (add, multiply, divide, fused multiply-add, min/max, integer shifts),
 * in an order fixed by this class; the scalar forms perform the very same operations, so a lane and a scalar agree
 * bit for bit.
 *
 * <p>Accuracy against {@code Math.exp}/{@code Math.tanh} in double (relative error in units of 2⁻²³, the float32
 * ulp at 1; {@code ReproducibleMathTest} checks 4 million points per function and the edges):
 * <ul>
 *   <li>{@link #exp}: ≤ 1 (measured 0.70, i.e. 8.4e-8) for x ∈ [−87.3365, 88.3763] (normal results); below
 *       −87.3365 (ln of the smallest normal float) the result is 0, an absolute error below 2⁻¹²⁶; above 88.3763 it
 *       is +∞ (the true value is then above 2.4·10³⁸). −∞ gives 0, +∞ gives +∞, NaN gives NaN.</li>
 *   <li>{@link #tanh}: ≤ 1.5 (measured 1.17, i.e. 1.4e-7) everywhere; odd to the bit (computed on |x|, x's sign
 *       bit put back), so ±0 are kept; exactly ±1 from |x| ≥ 10 and for ±∞.</li>
 * </ul>
 * Sums: {@link #sum(float[], int, int)} and {@link #sum16Rows} add in 16 "virtual lanes" (element j into lane j mod 16,
 * sequentially), then the 16 lanes by a fixed halving tree ((i, i+8), then (i, i+4), (i, i+2), (i, i+1)); with
 * 4, 8 or 16 float lanes per vector this is the same sequence of additions.
 */
final class ReproducibleMath {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;
    /** Lanes of the canonical summation order; vectors of 4, 8 or 16 lanes all reproduce it. */
    static final int VIRTUAL_LANES = 16;

    /** ln(2⁻¹²⁶): below it e^x is not a normal float and is returned as 0. */
    static final float EXP_MIN = -87.33654f;
    /** Above it e^x overflows the scaling by 2^k (k = 128) and is returned as +∞. */
    static final float EXP_MAX = 88.37626f;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that k·C1 is exact for |k| ≤ 128 (Cody–Waite). */
    private static final float C1 = 0.693359375f;
    private static final float C2 = -2.12194440e-4f;
    /** 1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    // Minimax polynomial for (e^r − 1 − r)/r² on [−ln2/2, ln2/2] (Cephes expf).
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /** Below it tanh uses its odd polynomial, from it 1 − 2/(e^(2|x|) + 1). */
    private static final float TANH_SMALL = 0.625f;
    /** From here on tanh(x) rounds to ±1 in float32 (1 − tanh(10) ≈ 4e-9 < ulp(1)/2). */
    private static final float TANH_ONE = 10f;
    // Minimax polynomial for (tanh x − x)/x³ in x² on [0, 0.625] (Cephes tanhf).
    private static final float T0 = -5.70498872745e-3f;
    private static final float T1 = 2.06390887954e-2f;
    private static final float T2 = -5.37397155531e-2f;
    private static final float T3 = 1.33314422036e-1f;
    private static final float T4 = -3.33332819422e-1f;
    private static final int SIGN = 0x80000000;

    // i → i XOR s: the halving tree's partner lanes (only those with s < L are used)
    private static final VectorShuffle<Float> XOR1 = VectorShuffle.fromOp(S, i -> i ^ 1);
    private static final VectorShuffle<Float> XOR2 = VectorShuffle.fromOp(S, i -> i ^ 2);
    private static final VectorShuffle<Float> XOR4 = VectorShuffle.fromOp(S, i -> (i ^ 4) % L);
    private static final VectorShuffle<Float> XOR8 = VectorShuffle.fromOp(S, i -> (i ^ 8) % L);
    // lanes with bit h of their index set (the second row of each pair in sum16Rows' transpose-and-add)
    private static final VectorMask<Float> H1 = bit(1);
    private static final VectorMask<Float> H2 = bit(2);
    private static final VectorMask<Float> H4 = bit(4);
    private static final VectorMask<Float> H8 = bit(8);

    private ReproducibleMath() {
    }

    private static VectorMask<Float> bit(int h) {
        boolean[] set = new boolean[L];
        for (int i = 0; i < L; i++) {
            set[i] = (i & h) != 0;
        }
        return VectorMask.fromArray(S, set, 0);
    }

    /*
     * The vector forms work on arrays in place and spell every step out with the JDK's vector operations only: a
     * vector passed to or returned from a method of ours must be boxed whenever the JIT does not inline that method
     * (large callers hit its inlining cutoffs), which costs more than the arithmetic. Arrays cross the call for free.
     */

    /** a[i] ← e^(a[i]) for i in [from, to); see the class comment for the error bound. */
    static void exp(float[] a, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, i);
            FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
            // k = round(x/ln 2) via the ROUND trick; t holds k in its low mantissa bits
            FloatVector t = xc.fma(LOG2E, ROUND);
            FloatVector k = t.sub(ROUND);
            FloatVector r = k.fma(FloatVector.broadcast(S, -C1), xc);
            r = k.fma(FloatVector.broadcast(S, -C2), r);
            FloatVector p = r.fma(P0, P1);
            p = p.fma(r, FloatVector.broadcast(S, P2));
            p = p.fma(r, FloatVector.broadcast(S, P3));
            p = p.fma(r, FloatVector.broadcast(S, P4));
            p = p.fma(r, FloatVector.broadcast(S, P5));
            FloatVector y = p.fma(r.mul(r), r).add(1f);
            // 2^k: (bits(t) << 23) leaves k << 23 (the ROUND bits shift out); + bits(1f) adds the exponent bias
            FloatVector scale = t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(0x3F800000)
                    .reinterpretAsFloats();
            FloatVector e = y.mul(scale).blend(0f, x.compare(VectorOperators.LT, EXP_MIN));
            e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_MAX)).intoArray(a, i);
        }
        for (; i < to; i++) {
            a[i] = exp(a[i]);
        }
    }

    /**
     * The softmax step of one group of L queries over a tile's column of scores, in one pass: for c in [0, n),
     * element i = from + c·stride, z − m = max(beta·s[i] − m, shiftMin) and s[i] ← e^(z − m) (the operations of
     * {@link #exp(float[], int, int)}), then l[at..] += Σ_c e^(z − m) and t[at..] += Σ_c e^(z − m)·(z − m), each a
     * chain over c per lane. One method with the loop inside, so that the JIT keeps every vector in registers (a
     * vector exp as a method of its own is compiled apart and its vectors boxed at every call).
     */
    static void expShiftSum(float[] s, int from, int stride, int n, float beta, float[] m, float shiftMin,
                            float[] l, float[] t, int at) {
        FloatVector betaV = FloatVector.broadcast(S, beta);
        FloatVector mNew = FloatVector.fromArray(S, m, at);
        FloatVector lAcc = FloatVector.zero(S);
        FloatVector tAcc = FloatVector.zero(S);
        for (int c = 0, i = from; c < n; c++, i += stride) {
            FloatVector x = FloatVector.fromArray(S, s, i).mul(betaV).sub(mNew).max(shiftMin);
            FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
            FloatVector tt = xc.fma(LOG2E, ROUND);
            FloatVector k = tt.sub(ROUND);
            FloatVector r = k.fma(FloatVector.broadcast(S, -C1), xc);
            r = k.fma(FloatVector.broadcast(S, -C2), r);
            FloatVector p = r.fma(P0, P1);
            p = p.fma(r, FloatVector.broadcast(S, P2));
            p = p.fma(r, FloatVector.broadcast(S, P3));
            p = p.fma(r, FloatVector.broadcast(S, P4));
            p = p.fma(r, FloatVector.broadcast(S, P5));
            FloatVector y = p.fma(r.mul(r), r).add(1f);
            FloatVector scale = tt.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(0x3F800000)
                    .reinterpretAsFloats();
            FloatVector e = y.mul(scale).blend(0f, x.compare(VectorOperators.LT, EXP_MIN))
                    .blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_MAX));
            e.intoArray(s, i);
            lAcc = lAcc.add(e);
            tAcc = e.fma(x, tAcc);
        }
        FloatVector.fromArray(S, l, at).add(lAcc).intoArray(l, at);
        FloatVector.fromArray(S, t, at).add(tAcc).intoArray(t, at);
    }

    /** e^x with exactly the operations of {@link #exp(float[], int, int)} on one lane. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float t = Math.fma(xc, LOG2E, ROUND);
        float k = t - ROUND;
        float r = Math.fma(k, -C1, xc);
        r = Math.fma(k, -C2, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + 0x3F800000);
        float e = y * scale;
        if (x < EXP_MIN) {
            return 0f;
        }
        return x > EXP_MAX ? Float.POSITIVE_INFINITY : e;
    }

    /** a[i] ← tanh(a[i]) for i in [from, to); see the class comment for the error bound. */
    static void tanh(float[] a, int from, int to) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector x = FloatVector.fromArray(S, a, i);
            // tanh(|x|), then x's sign bit: odd to the bit and −0 stays −0
            FloatVector ax = x.abs();
            FloatVector z = ax.mul(ax);
            FloatVector p = z.fma(T0, T1);
            p = p.fma(z, FloatVector.broadcast(S, T2));
            p = p.fma(z, FloatVector.broadcast(S, T3));
            p = p.fma(z, FloatVector.broadcast(S, T4));
            FloatVector small = p.mul(z).fma(ax, ax);
            // e^(2·min(|x|, 10)): the steps of exp(float[]), whose arguments here are in [0, 20]
            FloatVector xe = ax.min(TANH_ONE).mul(2f);
            FloatVector t = xe.fma(LOG2E, ROUND);
            FloatVector k = t.sub(ROUND);
            FloatVector r = k.fma(FloatVector.broadcast(S, -C1), xe);
            r = k.fma(FloatVector.broadcast(S, -C2), r);
            FloatVector q = r.fma(P0, P1);
            q = q.fma(r, FloatVector.broadcast(S, P2));
            q = q.fma(r, FloatVector.broadcast(S, P3));
            q = q.fma(r, FloatVector.broadcast(S, P4));
            q = q.fma(r, FloatVector.broadcast(S, P5));
            FloatVector e = q.fma(r.mul(r), r).add(1f).mul(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)
                    .add(0x3F800000).reinterpretAsFloats());
            FloatVector large = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f)));
            FloatVector y = small.blend(large, ax.compare(VectorOperators.GE, TANH_SMALL));
            y.reinterpretAsInts().or(x.reinterpretAsInts().and(SIGN)).reinterpretAsFloats().intoArray(a, i);
        }
        for (; i < to; i++) {
            a[i] = tanh(a[i]);
        }
    }

    /** tanh x with exactly the operations of {@link #tanh(float[], int, int)} on one lane. */
    static float tanh(float x) {
        float a = Math.abs(x);
        float y;
        if (a >= TANH_SMALL) {
            y = 1f - 2f / (exp(Math.min(a, TANH_ONE) * 2f) + 1f);
        } else {
            float z = a * a;
            float p = Math.fma(Math.fma(Math.fma(Math.fma(z, T0, T1), z, T2), z, T3), z, T4);
            y = Math.fma(p * z, a, a);
        }
        return Float.intBitsToFloat(Float.floatToRawIntBits(y) | (Float.floatToRawIntBits(x) & SIGN));
    }

    /**
     * out[outOff + r] ← the sum of the 16 virtual lanes {@code lanes[16·r, 16·r + 16)}, for r in [0, rows), by the
     * halving tree of the class comment.
     */
    static void sum16Rows(float[] lanes, int rows, float[] out, int outOff) {
        int r = 0;
        for (; r + L <= rows; r += L) {
            if (L >= 16) {
                treeSum16x16(lanes, VIRTUAL_LANES * r, out, outOff + r);
            } else if (L == 8) {
                treeSum8x8(lanes, VIRTUAL_LANES * r, out, outOff + r);
            } else {
                treeSum4x4(lanes, VIRTUAL_LANES * r, out, outOff + r);
            }
        }
        for (; r < rows; r++) {
            out[outOff + r] = treeSum(lanes, VIRTUAL_LANES * r);
        }
    }

    /*
     * L rows at once by transpose-and-add. Each row first becomes one vector of L partial sums by the tree's first
     * steps done vertically (L = 8: (i, i+8); L = 4: (i, i+8) then (i, i+4)). Then, for h = L/2 down to 1, vectors
     * X and Y holding rows with 2h partials each (per row in an aligned group of 2h lanes) combine into one:
     *     Z = blend(X, Y, bit h) + rearrange(blend(Y, X, bit h), i XOR h)
     * A lane without bit h gets X[i] + X[i+h], a lane with it Y[i−h] + Y[i] (the same sum: IEEE addition is
     * commutative to the bit) — exactly the tree's step (i, i+h) for both rows, now packed into groups of h lanes.
     * Pairing vector j with vector j+h at each level leaves row i's sum in lane i. So every row gets the very
     * additions of treeSum whatever L is; the only difference is how many rows share an instruction.
     */

    private static void treeSum16x16(float[] lanes, int off, float[] out, int at) {
        FloatVector u0 = FloatVector.fromArray(S, lanes, off);
        FloatVector u1 = FloatVector.fromArray(S, lanes, off + 16);
        FloatVector u2 = FloatVector.fromArray(S, lanes, off + 32);
        FloatVector u3 = FloatVector.fromArray(S, lanes, off + 48);
        FloatVector u4 = FloatVector.fromArray(S, lanes, off + 64);
        FloatVector u5 = FloatVector.fromArray(S, lanes, off + 80);
        FloatVector u6 = FloatVector.fromArray(S, lanes, off + 96);
        FloatVector u7 = FloatVector.fromArray(S, lanes, off + 112);
        FloatVector u8 = FloatVector.fromArray(S, lanes, off + 128);
        FloatVector u9 = FloatVector.fromArray(S, lanes, off + 144);
        FloatVector u10 = FloatVector.fromArray(S, lanes, off + 160);
        FloatVector u11 = FloatVector.fromArray(S, lanes, off + 176);
        FloatVector u12 = FloatVector.fromArray(S, lanes, off + 192);
        FloatVector u13 = FloatVector.fromArray(S, lanes, off + 208);
        FloatVector u14 = FloatVector.fromArray(S, lanes, off + 224);
        FloatVector u15 = FloatVector.fromArray(S, lanes, off + 240);
        // h = 8
        u0 = u0.blend(u8, H8).add(u8.blend(u0, H8).rearrange(XOR8));
        u1 = u1.blend(u9, H8).add(u9.blend(u1, H8).rearrange(XOR8));
        u2 = u2.blend(u10, H8).add(u10.blend(u2, H8).rearrange(XOR8));
        u3 = u3.blend(u11, H8).add(u11.blend(u3, H8).rearrange(XOR8));
        u4 = u4.blend(u12, H8).add(u12.blend(u4, H8).rearrange(XOR8));
        u5 = u5.blend(u13, H8).add(u13.blend(u5, H8).rearrange(XOR8));
        u6 = u6.blend(u14, H8).add(u14.blend(u6, H8).rearrange(XOR8));
        u7 = u7.blend(u15, H8).add(u15.blend(u7, H8).rearrange(XOR8));
        // h = 4
        u0 = u0.blend(u4, H4).add(u4.blend(u0, H4).rearrange(XOR4));
        u1 = u1.blend(u5, H4).add(u5.blend(u1, H4).rearrange(XOR4));
        u2 = u2.blend(u6, H4).add(u6.blend(u2, H4).rearrange(XOR4));
        u3 = u3.blend(u7, H4).add(u7.blend(u3, H4).rearrange(XOR4));
        // h = 2
        u0 = u0.blend(u2, H2).add(u2.blend(u0, H2).rearrange(XOR2));
        u1 = u1.blend(u3, H2).add(u3.blend(u1, H2).rearrange(XOR2));
        // h = 1
        u0.blend(u1, H1).add(u1.blend(u0, H1).rearrange(XOR1)).intoArray(out, at);
    }

    private static void treeSum8x8(float[] lanes, int off, float[] out, int at) {
        FloatVector u0 = FloatVector.fromArray(S, lanes, off).add(FloatVector.fromArray(S, lanes, off + 8));
        FloatVector u1 = FloatVector.fromArray(S, lanes, off + 16).add(FloatVector.fromArray(S, lanes, off + 24));
        FloatVector u2 = FloatVector.fromArray(S, lanes, off + 32).add(FloatVector.fromArray(S, lanes, off + 40));
        FloatVector u3 = FloatVector.fromArray(S, lanes, off + 48).add(FloatVector.fromArray(S, lanes, off + 56));
        FloatVector u4 = FloatVector.fromArray(S, lanes, off + 64).add(FloatVector.fromArray(S, lanes, off + 72));
        FloatVector u5 = FloatVector.fromArray(S, lanes, off + 80).add(FloatVector.fromArray(S, lanes, off + 88));
        FloatVector u6 = FloatVector.fromArray(S, lanes, off + 96).add(FloatVector.fromArray(S, lanes, off + 104));
        FloatVector u7 = FloatVector.fromArray(S, lanes, off + 112).add(FloatVector.fromArray(S, lanes, off + 120));
        u0 = u0.blend(u4, H4).add(u4.blend(u0, H4).rearrange(XOR4));
        u1 = u1.blend(u5, H4).add(u5.blend(u1, H4).rearrange(XOR4));
        u2 = u2.blend(u6, H4).add(u6.blend(u2, H4).rearrange(XOR4));
        u3 = u3.blend(u7, H4).add(u7.blend(u3, H4).rearrange(XOR4));
        u0 = u0.blend(u2, H2).add(u2.blend(u0, H2).rearrange(XOR2));
        u1 = u1.blend(u3, H2).add(u3.blend(u1, H2).rearrange(XOR2));
        u0.blend(u1, H1).add(u1.blend(u0, H1).rearrange(XOR1)).intoArray(out, at);
    }

    private static void treeSum4x4(float[] lanes, int off, float[] out, int at) {
        FloatVector u0 = FloatVector.fromArray(S, lanes, off).add(FloatVector.fromArray(S, lanes, off + 8))
                .add(FloatVector.fromArray(S, lanes, off + 4).add(FloatVector.fromArray(S, lanes, off + 12)));
        FloatVector u1 = FloatVector.fromArray(S, lanes, off + 16).add(FloatVector.fromArray(S, lanes, off + 24))
                .add(FloatVector.fromArray(S, lanes, off + 20).add(FloatVector.fromArray(S, lanes, off + 28)));
        FloatVector u2 = FloatVector.fromArray(S, lanes, off + 32).add(FloatVector.fromArray(S, lanes, off + 40))
                .add(FloatVector.fromArray(S, lanes, off + 36).add(FloatVector.fromArray(S, lanes, off + 44)));
        FloatVector u3 = FloatVector.fromArray(S, lanes, off + 48).add(FloatVector.fromArray(S, lanes, off + 56))
                .add(FloatVector.fromArray(S, lanes, off + 52).add(FloatVector.fromArray(S, lanes, off + 60)));
        u0 = u0.blend(u2, H2).add(u2.blend(u0, H2).rearrange(XOR2));
        u1 = u1.blend(u3, H2).add(u3.blend(u1, H2).rearrange(XOR2));
        u0.blend(u1, H1).add(u1.blend(u0, H1).rearrange(XOR1)).intoArray(out, at);
    }

    /** The halving-tree sum of {@code lanes[off, off + 16)}. */
    private static float treeSum(float[] lanes, int off) {
        FloatVector v;
        if (L >= 16) {
            v = FloatVector.fromArray(S, lanes, off);
        } else if (L == 8) {
            v = FloatVector.fromArray(S, lanes, off).add(FloatVector.fromArray(S, lanes, off + 8));
        } else {
            v = FloatVector.fromArray(S, lanes, off).add(FloatVector.fromArray(S, lanes, off + 8))
                    .add(FloatVector.fromArray(S, lanes, off + 4).add(FloatVector.fromArray(S, lanes, off + 12)));
        }
        if (L >= 16) {
            v = v.add(v.rearrange(XOR8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(XOR4));
        }
        v = v.add(v.rearrange(XOR2));
        return v.add(v.rearrange(XOR1)).lane(0);
    }

    /** Σ a[from, from + n) in the canonical order (see the class comment). */
    static float sum(float[] a, int from, int n) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a0 = z;
        FloatVector a1 = z;
        FloatVector a2 = z;
        FloatVector a3 = z;
        int full = n / VIRTUAL_LANES * VIRTUAL_LANES;
        int i = 0;
        for (; i < full; i += VIRTUAL_LANES) {
            a0 = a0.add(FloatVector.fromArray(S, a, from + i));
            if (L < 16) {
                a1 = a1.add(FloatVector.fromArray(S, a, from + i + L));
            }
            if (L < 8) {
                a2 = a2.add(FloatVector.fromArray(S, a, from + i + 2 * L));
                a3 = a3.add(FloatVector.fromArray(S, a, from + i + 3 * L));
            }
        }
        // the last, partial block: masked loads put 0 in the lanes past n (adding +0 changes no sum)
        if (i < n) {
            a0 = a0.add(FloatVector.fromArray(S, a, from + i, S.indexInRange(i, n)));
            if (L < 16 && i + L < n) {
                a1 = a1.add(FloatVector.fromArray(S, a, from + i + L, S.indexInRange(i + L, n)));
            }
            if (L < 8 && i + 2 * L < n) {
                a2 = a2.add(FloatVector.fromArray(S, a, from + i + 2 * L, S.indexInRange(i + 2 * L, n)));
            }
            if (L < 8 && i + 3 * L < n) {
                a3 = a3.add(FloatVector.fromArray(S, a, from + i + 3 * L, S.indexInRange(i + 3 * L, n)));
            }
        }
        float[] lanes = new float[VIRTUAL_LANES];
        a0.intoArray(lanes, 0);
        if (L < 16) {
            a1.intoArray(lanes, L);
        }
        if (L < 8) {
            a2.intoArray(lanes, 2 * L);
            a3.intoArray(lanes, 3 * L);
        }
        return treeSum(lanes, 0);
    }
}
