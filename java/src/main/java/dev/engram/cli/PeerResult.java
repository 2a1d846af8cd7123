package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One line a side-by-side peer printed (bench/peers/peerlib.py): which peer, what part of the work it computes, the
 * BLAS its process really loaded and the threads it ran with, and the case's figures ({@link #line}).
 *
 * <p>A ratio against a peer is only as honest as the peer's BLAS: on netlib's reference BLAS every matrix product is
 * unoptimised and the peer is several times slower than it should be. So a ratio against such a peer is refused, and
 * one against a peer whose BLAS is not known is printed with that said beside it ({@link #verdict}).
 *
 * @param peer        the peer's name (torch, torch-sdpa, faiss)
 * @param computes    the part of the work it computes ("output", "top-k", ...)
 * @param version     framework and version ("PyTorch 1.13.0a0")
 * @param blas        openblas, mkl, mkl-static, blis, atlas, reference, unknown; "unreported" when the line has none
 * @param blasLibrary the BLAS library file, or null
 * @param blasThreads the BLAS's own thread count, or null when it cannot be asked
 * @param threads     the framework's threads (OpenMP / intra-op)
 * @param line        the whole JSON line, for the case's figures
 */
record PeerResult(String peer, String computes, String version, String blas, String blasLibrary, Integer blasThreads,
                  int threads, JsonNode line) {

    /** What may be said about a ratio against a peer. */
    enum Verdict {
        /** an optimised BLAS: report the ratio */
        REPORT,
        /** BLAS unknown or unreported: report the ratio and say so beside it */
        MARK,
        /** netlib's reference BLAS: no ratio */
        REFUSE
    }

    /** Reads a peer's JSON line; a line without the peerlib keys is kept with blas "unreported". */
    static PeerResult parse(JsonNode line) {
        return new PeerResult(text(line, "peer", "torch"), text(line, "computes", "?"), text(line, "version", "?"),
                text(line, "blas", "unreported"), text(line, "blas_library", null),
                line.hasNonNull("blas_threads") ? line.get("blas_threads").asInt() : null,
                line.path("threads").asInt(0), line);
    }

    private static String text(JsonNode line, String key, String fallback) {
        return line.hasNonNull(key) ? line.get(key).asText() : fallback;
    }

    Verdict verdict() {
        return switch (blas) {
            case "reference" -> Verdict.REFUSE;
            case "openblas", "mkl", "mkl-static", "blis", "atlas" -> Verdict.REPORT;
            default -> Verdict.MARK;
        };
    }

    /** "BLAS openblas (…/libblas.so.3), 2 BLAS threads, 1 thread". */
    String describeBlas() {
        return "BLAS " + blas + (blasLibrary == null ? "" : " (" + blasLibrary + ")")
                + (blasThreads == null ? "" : ", " + blasThreads + " BLAS thread" + (blasThreads == 1 ? "" : "s"))
                + ", " + threads + " thread" + (threads == 1 ? "" : "s");
    }

    /**
     * The line printed for "engine is ratio× this peer": the ratio, with the BLAS named when it is unknown, or, on the
     * reference BLAS, no ratio and what to install.
     *
     * @param ratio how many times faster the engine is (peer time / engine time)
     */
    String ratioLine(String engine, double ratio) {
        String what = peer + " (" + computes + ")";
        return switch (verdict()) {
            case REPORT -> String.format("  %s is %.1f× %s", engine, ratio, what);
            case MARK -> String.format("  %s is %.1f× %s  [peer BLAS %s: the ratio may flatter %s]", engine, ratio,
                    what, blas, engine);
            case REFUSE -> String.format("  %s vs %s: no ratio, the peer ran on netlib's reference BLAS (%s); install an"
                    + " optimised one (Debian: apt-get install libopenblas0-pthread) and run again", engine, what,
                    blasLibrary);
        };
    }

    /**
     * Puts {@code <engine>_vs_<peer>} into {@code ratios}; refused on the reference BLAS, where
     * {@code <engine>_vs_<peer>_withheld} says why instead, and marked by {@code <engine>_vs_<peer>_note} when the
     * BLAS is unknown.
     */
    void putRatio(ObjectNode ratios, String engine, double ratio) {
        String key = engine + "_vs_" + peer;
        switch (verdict()) {
            case REPORT -> ratios.put(key, ratio);
            case MARK -> ratios.put(key, ratio).put(key + "_note", "peer BLAS " + blas);
            case REFUSE -> ratios.put(key + "_withheld", "peer on netlib's reference BLAS " + blasLibrary);
        }
    }

    /**
     * The peer's description for a results JSON: name, part computed, version and BLAS. Its threads are per case
     * (each case is timed at its fastest configuration), beside the case's figures.
     */
    void describeTo(ObjectNode n) {
        n.put("peer", peer).put("computes", computes).put("version", version).put("blas", blas)
                .put("blas_library", blasLibrary)
                .put("blas_found_by", line.path("blas_found_by").asText("not reported"));
    }
}
