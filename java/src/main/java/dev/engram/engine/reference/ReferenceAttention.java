package dev.engram.engine.reference;

import dev.engram.engine.Attention;
import dev.engram.engine.AttentionForward;
import dev.engram.engine.AttentionGradient;

/**
 * Training attention in double, plain loops, each query on its own: pass 1 finds the maximum score, pass 2 sums the
 * softmax; the backward pass recomputes both from the inputs (it does not trust the forward it is given beyond its
 * shape) and takes ∂o·o as Σ_i a_i·∂a_i, the definition. The oracle the fused engines are checked against.
 */
final class ReferenceAttention {
    private ReferenceAttention() {
    }

    static AttentionForward forward(Attention at) {
        int hb = at.heads() * at.batch();
        int dv = at.valueDim();
        double[] out = new double[hb * dv];
        double[] max = new double[hb];
        double[] lse = new double[hb];
        double[] entropy = new double[hb];
        double[] s = new double[at.memory()];
        for (int h = 0; h < at.heads(); h++) {
            for (int b = 0; b < at.batch(); b++) {
                int qb = h * at.batch() + b;
                double m = scores(at, h, b, s);
                double l = 0;
                double t = 0;
                for (int i = 0; i < at.memory(); i++) {
                    double e = Math.exp(at.beta() * (s[i] - m));
                    l += e;
                    t += e * (s[i] - m);
                    int v = (h * at.memory() + i) * dv;
                    for (int j = 0; j < dv; j++) {
                        out[qb * dv + j] += e * at.values()[v + j];
                    }
                }
                for (int j = 0; j < dv; j++) {
                    out[qb * dv + j] /= l;
                }
                max[qb] = m;
                lse[qb] = Math.log(l);
                // −Σ a·log a = log l − β·Σ e·(s − m)/l
                entropy[qb] = Math.max(0, lse[qb] - at.beta() * t / l);
            }
        }
        return new AttentionForward(out, max, lse, entropy);
    }

    static AttentionGradient backward(Attention at, AttentionForward forward, double[] dOut) {
        at.checkBackward(forward, dOut);
        int dk = at.keyDim();
        int dv = at.valueDim();
        int mem = at.memory();
        double beta = at.beta();
        double[] gq = new double[at.queries().length];
        double[] gk = new double[at.keys().length];
        double[] gv = new double[at.values().length];
        double gBeta = 0;
        double[] s = new double[mem];
        double[] a = new double[mem];
        double[] da = new double[mem];
        for (int h = 0; h < at.heads(); h++) {
            for (int b = 0; b < at.batch(); b++) {
                int qb = h * at.batch() + b;
                double m = scores(at, h, b, s);
                double l = 0;
                for (int i = 0; i < mem; i++) {
                    a[i] = Math.exp(beta * (s[i] - m));
                    l += a[i];
                }
                double dot = 0;
                for (int i = 0; i < mem; i++) {
                    a[i] /= l;
                    double acc = 0;
                    int v = (h * mem + i) * dv;
                    for (int j = 0; j < dv; j++) {
                        acc += dOut[qb * dv + j] * at.values()[v + j];
                        gv[v + j] += a[i] * dOut[qb * dv + j];
                    }
                    da[i] = acc;
                    dot += a[i] * acc;
                }
                for (int i = 0; i < mem; i++) {
                    double ds = a[i] * (da[i] - dot);
                    gBeta += ds * (s[i] - m);
                    int k = (h * mem + i) * dk;
                    for (int j = 0; j < dk; j++) {
                        gq[qb * dk + j] += beta * ds * at.keys()[k + j];
                        gk[k + j] += beta * ds * at.queries()[qb * dk + j];
                    }
                }
            }
        }
        return new AttentionGradient(gq, gk, gv, gBeta);
    }

    /** s[i] = q_b·k_i for head h; returns max_i s[i]. */
    private static double scores(Attention at, int h, int b, double[] s) {
        int dk = at.keyDim();
        int q = (h * at.batch() + b) * dk;
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < at.memory(); i++) {
            int k = (h * at.memory() + i) * dk;
            double acc = 0;
            for (int j = 0; j < dk; j++) {
                acc += at.queries()[q + j] * at.keys()[k + j];
            }
            s[i] = acc;
            m = Math.max(m, acc);
        }
        return m;
    }
}
