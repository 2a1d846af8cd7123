package dev.engram.trading.features;

/**
 * A canonical transformation (q, p) → (Q, P) of one degree of freedom, applied to every (q_i, p_i) pair of a phase
 * space (the Jacobian of the whole map is then block-diagonal, and JᵀΩJ = Ω holds when each 2×2 block has determinant
 * 1). Each has its inverse.
 * <p>
 * The Hamiltonian text's "log" transform Q = sign(q)·log|q|, P = p·e^{−Q} is <b>not</b> canonical (its Jacobian
 * determinant is 1/q² for q > 0, it maps 0.5 and −2 to the same Q, and it is singular at q = 0); it is not offered.
 */
public interface CanonicalTransform {
    /** (q, p) → out = {Q, P}. */
    void forward(double q, double p, double[] out);

    /** (Q, P) → out = {q, p}. */
    void inverse(double bigQ, double bigP, double[] out);

    /** The identity. */
    static CanonicalTransform identity() {
        return new CanonicalTransform() {
            @Override
            public void forward(double q, double p, double[] out) {
                out[0] = q;
                out[1] = p;
            }

            @Override
            public void inverse(double bigQ, double bigP, double[] out) {
                out[0] = bigQ;
                out[1] = bigP;
            }
        };
    }

    /**
     * The signed-log transform Q = sign(q)·log(1 + |q|), P = p·(1 + |q|): compresses large deviations, defined
     * everywhere, one-to-one, and canonical: ∂Q/∂q = 1/(1 + |q|), ∂Q/∂p = 0, ∂P/∂p = 1 + |q|, so det J = 1. Inverse:
     * q = sign(Q)·(e^{|Q|} − 1), p = P·e^{−|Q|}.
     */
    static CanonicalTransform signedLog() {
        return new CanonicalTransform() {
            @Override
            public void forward(double q, double p, double[] out) {
                double a = Math.abs(q);
                out[0] = Math.signum(q) * Math.log1p(a);
                out[1] = p * (1 + a);
            }

            @Override
            public void inverse(double bigQ, double bigP, double[] out) {
                double a = Math.abs(bigQ);
                out[0] = Math.signum(bigQ) * Math.expm1(a);
                out[1] = bigP * Math.exp(-a);
            }
        };
    }

    /**
     * Action–angle variables for near-harmonic motion H ≈ ((p − p₀)² + ω²(q − q₀)²)/2 around the centre (q₀, p₀):
     * with x = √ω·(q − q₀), y = (p − p₀)/√ω, the angle Q = φ = atan2(x, y) ∈ (−π, π] and the action P = I =
     * (x² + y²)/2 = H/ω. Canonical (dφ ∧ dI = dq ∧ dp; note the order atan2(x, y): the text's atan2(p, q) with
     * I = r²/2 has determinant −1). Inverse: q = q₀ + √(2I)·sin φ/√ω, p = p₀ + √(2I)·cos φ·√ω.
     * <p>
     * Undefined at the centre itself (I = 0: the angle has no value and the map is singular there); {@link #forward}
     * returns angle 0 at the centre, and the Jacobian is not 1 in any neighbourhood that contains it. The angle jumps
     * by 2π across the line x = 0, y < 0.
     *
     * @param omega the frequency ω > 0 (for H = p²/2 + kq²/2: √k)
     */
    static CanonicalTransform actionAngle(double q0, double p0, double omega) {
        if (!(omega > 0) || !Double.isFinite(omega)) {
            throw new IllegalArgumentException("omega must be finite and > 0, got " + omega);
        }
        double s = Math.sqrt(omega);
        return new CanonicalTransform() {
            @Override
            public void forward(double q, double p, double[] out) {
                double x = s * (q - q0);
                double y = (p - p0) / s;
                out[0] = Math.atan2(x, y);
                out[1] = 0.5 * (x * x + y * y);
            }

            @Override
            public void inverse(double bigQ, double bigP, double[] out) {
                double r = Math.sqrt(2 * Math.max(0, bigP));
                out[0] = q0 + r * Math.sin(bigQ) / s;
                out[1] = p0 + r * Math.cos(bigQ) * s;
            }
        };
    }

    /** The transform applied to every (q_i, p_i) pair of a phase space. */
    default PhaseSpace apply(PhaseSpace ps) {
        return map(ps, true);
    }

    /** The inverse applied to every pair. */
    default PhaseSpace invert(PhaseSpace ps) {
        return map(ps, false);
    }

    private PhaseSpace map(PhaseSpace ps, boolean forward) {
        double[] q = ps.q();
        double[] p = ps.p();
        double[] out = new double[2];
        for (int k = 0; k < q.length; k++) {
            if (forward) {
                forward(q[k], p[k], out);
            } else {
                inverse(q[k], p[k], out);
            }
            q[k] = out[0];
            p[k] = out[1];
        }
        return new PhaseSpace(ps.names(), ps.times(), q, p);
    }
}
