package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

/** Run by {@link BackendsTest} in a JVM without the Vector API module: prints what selection gives there. */
public final class NoVectorModuleMain {
    private NoVectorModuleMain() {
    }

    public static void main(String[] args) {
        System.out.println("retrieval=" + Backends.select(Capability.RETRIEVAL, "auto").name()
                + " integration=" + Backends.select(Capability.INTEGRATION, "auto").name());
        try {
            Backends.select("cpu");
            System.out.println("cpu: selected (unexpected)");
        } catch (IllegalStateException e) {
            System.out.println("cpu: " + e.getMessage());
        }
        // Two orthogonal patterns, a query between them: equal weights, so the output is (0.5, 0.5).
        try (FloatMatrix x = FloatMatrix.of(new float[] {1, 0, 0, 1}, 2, 2);
             FloatMatrix q = FloatMatrix.of(new float[] {1, 1}, 1, 2);
             PatternMemory m = PatternMemory.of(x)) {
            RetrievalResult r = Backends.select("auto").retrieve(m, q, new RetrievalParams(1f, 1));
            System.out.println("result=" + r.output(0)[0]);
        }
    }
}
