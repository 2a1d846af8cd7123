package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ratio policy for side-by-side peers, from the lines peerlib.py prints (no Python needed). */
class PeerResultTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PeerResult parse(String line) throws Exception {
        return PeerResult.parse(JSON.readTree(line));
    }

    @Test
    void refusesARatioAgainstAPeerOnTheReferenceBlas() throws Exception {
        PeerResult p = parse("""
                {"peer": "torch", "computes": "output, entropy, confidence, top-k", "threads": 2,
                 "version": "PyTorch 1.13.0a0", "blas": "reference",
                 "blas_library": "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "blas_threads": 1,
                 "B": 1, "M": 1000000, "d": 32, "ms": 43.2}""");
        assertEquals(PeerResult.Verdict.REFUSE, p.verdict());
        String line = p.ratioLine("cpu", 7.07);
        assertTrue(line.contains("no ratio"), line);
        assertTrue(line.contains("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"), line);
        assertFalse(line.contains("7.1"), line);
        assertFalse(line.contains("×"), line);
        ObjectNode ratios = JSON.createObjectNode();
        p.putRatio(ratios, "cpu", 7.07);
        assertFalse(ratios.has("cpu_vs_torch"), ratios.toString());
        assertTrue(ratios.get("cpu_vs_torch_withheld").asText().contains("reference"), ratios.toString());
    }

    @Test
    void reportsARatioAgainstAnOptimisedBlas() throws Exception {
        PeerResult p = parse("""
                {"peer": "faiss", "computes": "top-k", "threads": 1, "version": "FAISS 1.7.3", "blas": "openblas",
                 "blas_library": "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "blas_threads": 2,
                 "ms": 12.0}""");
        assertEquals(PeerResult.Verdict.REPORT, p.verdict());
        assertEquals("  cpu is 2.5× faiss (top-k)", p.ratioLine("cpu", 2.5));
        ObjectNode ratios = JSON.createObjectNode();
        p.putRatio(ratios, "cpu", 2.5);
        assertEquals(2.5, ratios.get("cpu_vs_faiss").asDouble());
        assertEquals(1, ratios.size());
        assertEquals("BLAS openblas (/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3), 2 BLAS threads,"
                + " 1 thread", p.describeBlas());
    }

    @Test
    void marksARatioWhenThePeerDoesNotSayItsBlas() throws Exception {
        // the line an older peer script printed: no peerlib keys
        PeerResult p = parse("{\"B\": 1, \"M\": 1000000, \"d\": 32, \"ms\": 43.2, \"threads\": 2, \"torch\": \"1.13\"}");
        assertEquals("torch", p.peer());
        assertEquals("unreported", p.blas());
        assertNull(p.blasThreads());
        assertEquals(PeerResult.Verdict.MARK, p.verdict());
        String line = p.ratioLine("cpu", 7.07);
        assertTrue(line.startsWith("  cpu is 7.1× torch") && line.contains("peer BLAS unreported"), line);
        ObjectNode ratios = JSON.createObjectNode();
        p.putRatio(ratios, "cpu", 7.07);
        assertEquals(7.07, ratios.get("cpu_vs_torch").asDouble());
        assertEquals("peer BLAS unreported", ratios.get("cpu_vs_torch_note").asText());
    }

    @Test
    void everyOptimisedKindIsReportedAndUnknownIsMarked() throws Exception {
        for (String kind : new String[] {"openblas", "mkl", "mkl-static", "blis", "atlas"}) {
            assertEquals(PeerResult.Verdict.REPORT, parse("{\"blas\": \"" + kind + "\"}").verdict(), kind);
        }
        assertEquals(PeerResult.Verdict.MARK, parse("{\"blas\": \"unknown\"}").verdict());
        assertEquals(PeerResult.Verdict.REFUSE, parse("{\"blas\": \"reference\"}").verdict());
    }
}
