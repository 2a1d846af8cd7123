package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.EnsembleSpec.Scheme;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalAgreement;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.SampleModels;
import dev.engram.engine.ffm.IntegrationLaunch;
import dev.engram.engine.ffm.LaunchShape;
import dev.engram.engine.ffm.NativeBackend;
import dev.engram.engine.ffm.NativeStorage;
import dev.engram.engine.jcuda.JCublasBaseline;
import dev.engram.engine.jcuda.JCudaBackend;
import dev.engram.engine.jcuda.JCudaLaunch;
import dev.engram.engine.jcuda.JCudaStorage;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code engram gpu-check}: the Java engines that use a GPU, checked and timed in the minute or two a lent GPU
 * machine allows (run there by native-build/gpu-check.sh --java with the trimmed runtime of
 * native-build/java-runtime.sh, which is why it also has its own {@link #main}: that runtime leaves out the modules
 * the other commands need).
 *
 * <p>For each engine asked for: retrieval on seeded random inputs at several shapes against the reference engine,
 * with the cross-check tests' tolerances ({@link RetrievalAgreement}; fp16/bf16 storage against the reference run on
 * the rounded patterns); for {@code cuda}/{@code emu} both retrieval kernels (1, SIMT; 2, tensor cores, where d = dv
 * ∈ {32, 64, 128}), for {@code jcuda} its automatic choice (2 where it serves, else 1), and for all three the FP32
 * integration kernel against the reference engine (tolerances of NativeIntegrationTest: 1e-3, initial energies 1e-5);
 * then retrieval timed at the sizes of cuda/PERFORMANCE.md (wall clock of the Java call, results copied back, after
 * two warm-up calls of which the first uploads the memory), each engine's float32 result there compared with the cpu
 * engine's (twice the float32 bounds, as both round). One JSON line per check, appended as it goes; an engine that
 * cannot run here is one line with the reason.
 */
@Command(name = "gpu-check", mixinStandardHelpOptions = true,
        description = {"Cross-checks the GPU engines (cuda: both retrieval kernels and integration; jcuda: retrieval "
                + "and integration; the JCublas baseline) against the reference engine on seeded random inputs and times "
                + "retrieval, as JSON lines.",
                "Made for a lent GPU machine: native-build/gpu-check.sh --java runs it with the runtime of "
                        + "native-build/java-runtime.sh. An engine that cannot run here is recorded with the reason; "
                        + "the exit status is 1 when a check fails.",
                "Example: engram gpu-check --engines emu --quick --time-cases 2x3000x32 --out out/gpu-check-java.jsonl"})
final class GpuCheckCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    /** Engines this command knows; emu is the emulated cuda engine (CI, no GPU). */
    static final List<String> ENGINES = List.of("cuda", "jcuda", "jcublas", "emu");

    @Option(names = "--out", defaultValue = "gpu-check-java.jsonl",
            description = "JSON lines file, appended to as the checks run (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--budget", defaultValue = "90",
            description = "seconds for everything; what does not fit is recorded as skipped (default: ${DEFAULT-VALUE})")
    int budget;

    @Option(names = "--engines", split = ",", defaultValue = "cuda,jcuda,jcublas",
            description = "engines to check, of cuda, jcuda, jcublas, emu (default: ${DEFAULT-VALUE})")
    List<String> engines;

    @Option(names = "--time-cases", defaultValue = "1x10000000x64,64x10000000x64",
            description = "retrieval sizes to time, BxMxd[,...] (V = X, k = 10, beta = 0.125), or none "
                    + "(default: ${DEFAULT-VALUE})")
    String timeCases;

    @Option(names = "--reps", defaultValue = "10", description = "timed calls per engine and size (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--required", split = ",", defaultValue = "cuda,jcuda",
            description = "engines whose absence fails the check (the lent machine is for them), or none; "
                    + "jcublas needs libcublas.so.12, which a CUDA 13 machine lacks (default: ${DEFAULT-VALUE})")
    List<String> required;

    @Option(names = "--quick", description = "small cross-check shapes only (for the emulated engine)")
    boolean quick;

    private long deadline;
    private int passed;
    private int failed;

    /** Entry point for the trimmed runtime: this command alone, with the CLI's one-line error handling. */
    public static void main(String[] args) {
        EngramCli.configureLogging();
        CommandLine cl = new CommandLine(new GpuCheckCommand());
        cl.setExecutionExceptionHandler(EngramCli::report);
        System.exit(cl.execute(args));
    }

    /** One retrieval configuration of an engine: a kernel, a storage. */
    private record Subject(String engine, String variant, String storage, AutoCloseable owner,
                           Function<Retrieval, RetrievalResult> run, boolean tensorCores) {
        /** Kernel 2 serves d = dv in {32, 64, 128} only. */
        boolean serves(int d, int dv) {
            return !tensorCores || (d == dv && (d == 32 || d == 64 || d == 128));
        }
    }

    private record Retrieval(PatternMemory memory, FloatMatrix queries, RetrievalParams params) {
    }

    /** A cross-check shape: M patterns of d, values of dv (0: V = X), B queries. */
    private record Shape(long m, int d, int dv, int b, float beta, int k, long seed) {
        String label() {
            return String.format(Locale.ROOT, "M=%d d=%d dv=%s B=%d k=%d beta=%s", m, d, dv == 0 ? "d (V=X)" : dv, b, k,
                    beta);
        }
    }

    static final List<Shape> SHAPES = List.of(
            new Shape(1000, 64, 0, 1, 1f, 10, 1),
            new Shape(5000, 3, 5, 17, 0.5f, 5, 2),
            new Shape(4099, 127, 0, 64, 0.5f, 32, 3),
            new Shape(777, 200, 6, 9, 3f, 7, 4),
            new Shape(20000, 64, 64, 100, 0.5f, 10, 5),
            new Shape(33000, 32, 0, 40, 8f, 64, 6),
            new Shape(100000, 128, 0, 16, 0.125f, 16, 7));

    static final List<Shape> QUICK_SHAPES = List.of(
            new Shape(1000, 64, 0, 1, 1f, 10, 1),
            new Shape(300, 3, 5, 17, 0.5f, 5, 2),
            new Shape(257, 32, 32, 5, 8f, 40, 3),
            new Shape(129, 128, 0, 2, 0.125f, 3, 4));

    @Override
    public Integer call() throws IOException {
        if (budget < 1) {
            throw new IllegalArgumentException("--budget must be >= 1 second, got " + budget);
        }
        if (reps < 1) {
            throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
        }
        for (String e : engines) {
            if (!ENGINES.contains(e)) {
                throw new IllegalArgumentException("--engines: unknown engine '" + e + "'; choose from " + ENGINES);
            }
        }
        for (String e : required) {
            if (!ENGINES.contains(e) && !e.equals("none")) {
                throw new IllegalArgumentException("--required: unknown engine '" + e + "'; choose from " + ENGINES
                        + " or none");
            }
        }
        List<long[]> timed = parseCases(timeCases);
        long start = System.nanoTime();
        deadline = start + budget * 1_000_000_000L;
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        List<Subject> subjects = new ArrayList<>();
        List<Backend> integrators = new ArrayList<>();
        try {
            for (String e : engines) {
                open(e, subjects, integrators);
            }
            for (Shape s : quick ? QUICK_SHAPES : SHAPES) {
                crossCheck(s, subjects);
            }
            for (Backend b : integrators) {
                if (b instanceof NativeBackend n) {
                    integrationChecks(n);
                } else {
                    integrationChecks(b, b.name());
                }
            }
            // one memory per (M, d), uploaded once per engine; float32 first, then bf16, f16, as the budget allows
            Map<String, List<Integer>> byMemory = new LinkedHashMap<>();
            for (long[] c : timed) {
                byMemory.computeIfAbsent(c[1] + "x" + c[2], key -> new ArrayList<>()).add((int) c[0]);
            }
            List<Subject> ordered = new ArrayList<>(subjects);
            ordered.sort(java.util.Comparator.comparingInt(s -> List.of("f32", "bf16", "f16").indexOf(s.storage)));
            for (Map.Entry<String, List<Integer>> e : byMemory.entrySet()) {
                String[] md = e.getKey().split("x");
                time(Long.parseLong(md[0]), Integer.parseInt(md[1]), e.getValue(), ordered);
            }
        } finally {
            for (Subject s : subjects) {
                try {
                    s.owner.close();
                } catch (Exception ignored) {
                    // closing frees device memory; the process ends next anyway
                }
            }
        }
        ObjectNode summary = line("summary", "-", "-", "-", "-", failed == 0 ? "pass" : "fail")
                .put("passed", passed).put("failed", failed).put("seconds", (System.nanoTime() - start) / 1e9);
        write(summary, String.format(Locale.ROOT, "gpu-check (java): %d passed, %d failed in %.1f s", passed, failed,
                (System.nanoTime() - start) / 1e9));
        return failed == 0 ? 0 : 1;
    }

    static List<long[]> parseCases(String text) {
        List<long[]> out = new ArrayList<>();
        if (text.strip().equals("none")) {
            return out;
        }
        for (String c : text.split(",")) {
            String[] p = c.strip().split("x");
            try {
                if (p.length != 3) {
                    throw new NumberFormatException();
                }
                long b = Long.parseLong(p[0]);
                long m = Long.parseLong(p[1]);
                long d = Long.parseLong(p[2]);
                if (b < 1 || m < 10 || d < 1 || b > Integer.MAX_VALUE || d > Integer.MAX_VALUE) {
                    throw new NumberFormatException();
                }
                out.add(new long[] {b, m, d});
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--time-cases: '" + c + "' is not BxMxd with B >= 1, M >= 10, d >= 1 "
                        + "(e.g. 1x10000000x64), or none");
            }
        }
        return out;
    }

    private void open(String engine, List<Subject> subjects, List<Backend> integrators) throws IOException {
        String why = switch (engine) {
            case "cuda" -> NativeBackend.cudaUnavailableReason();
            case "emu" -> NativeBackend.emulatedUnavailableReason();
            case "jcuda" -> JCudaBackend.unavailableReason();
            case "jcublas" -> JCublasBaseline.unavailableReason();
            default -> throw new IllegalStateException(engine);
        };
        if (why != null) {
            // on the lent machine the cuda and jcuda engines are what the step is for: their absence fails it (a
            // missing library in the carried jar would otherwise pass unnoticed); jcublas needs libcublas.so.12,
            // which a CUDA 13 machine lacks, and stays a note
            boolean required = this.required.contains(engine);
            write(line("engine", engine, "-", "-", "-", required ? "fail" : "unavailable").put("reason", why),
                    engine + ": unavailable" + (required ? " (a failure: this check is for it)" : "") + ": " + why);
            if (required) {
                failed++;
            }
            return;
        }
        try {
            switch (engine) {
                case "cuda", "emu" -> {
                    for (NativeStorage st : NativeStorage.values()) {
                        for (int kernel : new int[] {1, 2}) {
                            LaunchShape shape = new LaunchShape(0, 0, 0, kernel);
                            NativeBackend n = engine.equals("cuda") ? NativeBackend.cuda(st, shape)
                                    : NativeBackend.emulated(st, shape);
                            subjects.add(new Subject(engine, "kernel " + kernel, name(st), n,
                                    r -> n.retrieve(r.memory, r.queries, r.params), kernel == 2));
                            if (kernel == 1 && st == NativeStorage.F32) {
                                write(line("engine", engine, "-", "-", "-", "available").put("describe", n.describe()),
                                        engine + ": " + n.describe());
                                integrators.add(n);
                            }
                        }
                    }
                }
                case "jcuda" -> {
                    for (JCudaStorage st : JCudaStorage.values()) {
                        // the automatic kernel: version 2 where it serves the shape (d = dv in {32, 64, 128}), else 1
                        JCudaBackend j = JCudaBackend.create(0, st, JCudaLaunch.AUTO);
                        subjects.add(new Subject(engine, "kernel auto", st.name().toLowerCase(Locale.ROOT), j,
                                r -> j.retrieve(r.memory, r.queries, r.params), false));
                        if (st == JCudaStorage.F32) {
                            write(line("engine", engine, "-", "-", "-", "available").put("describe", j.describe()),
                                    engine + ": " + j.describe());
                            integrators.add(j);  // its integration: the FP32 kernel (IntegrationLaunch.AUTO)
                        }
                    }
                }
                case "jcublas" -> {
                    JCublasBaseline c = JCublasBaseline.create(0);
                    subjects.add(new Subject(engine, "cublasSgemm + scores kernel", "f32", c,
                            r -> c.retrieve(r.memory, r.queries, r.params), false));
                    write(line("engine", engine, "-", "-", "-", "available"), engine + ": available");
                }
                default -> throw new IllegalStateException(engine);
            }
        } catch (RuntimeException e) {
            failed++;
            write(line("engine", engine, "-", "-", "-", "error").put("error", EngramCli.message(e)),
                    engine + ": failed to open: " + EngramCli.message(e));
        }
    }

    private static String name(NativeStorage s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    private boolean budgetLeft(double seconds) {
        return System.nanoTime() + (long) (seconds * 1e9) < deadline;
    }

    private void crossCheck(Shape s, List<Subject> subjects) throws IOException {
        if (subjects.isEmpty()) {
            return;
        }
        try (FloatMatrix x = RandomMatrices.uniform(s.m, s.d, s.seed);
             FloatMatrix v = s.dv == 0 ? null : RandomMatrices.gaussian(s.m, s.dv, s.seed + 1);
             FloatMatrix q = RandomMatrices.uniform(s.b, s.d, s.seed + 2);
             PatternMemory mem = v == null ? PatternMemory.of(x) : PatternMemory.of(x, v)) {
            RetrievalParams p = new RetrievalParams(s.beta, s.k);
            Map<String, RetrievalResult> expected = new LinkedHashMap<>();
            Map<String, PatternMemory> stored = new LinkedHashMap<>();
            try {
                for (Subject sub : subjects) {
                    int dv = s.dv == 0 ? s.d : s.dv;
                    if (!sub.serves(s.d, dv)) {
                        continue;
                    }
                    if (!budgetLeft(2)) {
                        skipped("retrieve", sub, s.label());
                        continue;
                    }
                    PatternMemory asStored = stored.computeIfAbsent(sub.storage, st -> st.equals("f32") ? mem
                            : rounded(x, v, st));
                    RetrievalResult want = expected.computeIfAbsent(sub.storage,
                            st -> REFERENCE.retrieve(asStored, q, p));
                    long t0 = System.nanoTime();
                    RetrievalResult got;
                    try {
                        got = sub.run.apply(new Retrieval(mem, q, p));
                    } catch (RuntimeException e) {
                        error("retrieve", sub, s.label(), e);
                        continue;
                    }
                    double ms = (System.nanoTime() - t0) / 1e6;
                    RetrievalAgreement a = RetrievalAgreement.compare(want, got, asStored, q, s.beta);
                    verdict("retrieve", sub, s.label(), a.agrees(), a.error(), a.tolerance(), a.worst(), ms,
                            "vs reference" + (sub.storage.equals("f32") ? "" : " on " + sub.storage + "-rounded inputs"));
                }
            } finally {
                for (PatternMemory pm : stored.values()) {
                    if (pm != mem) {
                        pm.close();
                    }
                }
            }
        }
    }

    /** A memory holding x (and v) rounded to the storage kind and back, as the device stores them. */
    private static PatternMemory rounded(FloatMatrix x, FloatMatrix v, String storage) {
        try (FloatMatrix xr = round(x, storage); FloatMatrix vr = v == null ? null : round(v, storage)) {
            return vr == null ? PatternMemory.of(xr) : PatternMemory.of(xr, vr);
        }
    }

    private static FloatMatrix round(FloatMatrix m, String storage) {
        FloatMatrix out = m.copy();
        for (long r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                float f = m.get(r, c);
                out.set(r, c, storage.equals("f16") ? Float.float16ToFloat(Float.floatToFloat16(f)) : bf16(f));
            }
        }
        return out;
    }

    /** Round to nearest even bfloat16, as bf16 storage does. */
    static float bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        bits += 0x7fff + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xffff0000);
    }

    /** The FP32 integration kernel against the reference engine, as NativeIntegrationTest checks it. */
    private void integrationChecks(NativeBackend base) throws IOException {
        try (NativeBackend fp32 = base.with(IntegrationLaunch.of(IntegrationLaunch.Kernel.FP32))) {
            integrationChecks(fp32, base.name());
        }
    }

    private void integrationChecks(Backend engine, String name) throws IOException {
        String[][] kinds = {{"hnn", "LEAPFROG"}, {"separable", "STORMER_VERLET"}, {"dissipative", "RK4"}, {"port", "RK4"}};
        Subject sub = new Subject(name, "integrate fp32", "f32", () -> { }, null, false);
        int count = quick ? 40 : 1000;
        int steps = 40;
        for (String[] k : kinds) {
            String label = String.format(Locale.ROOT, "%s %s N=%d steps=%d", k[0], k[1], count, steps);
            if (!budgetLeft(3)) {
                skipped("integrate", sub, label);
                continue;
            }
            EnsembleSpec spec = new EnsembleSpec(SampleModels.model(k[0], steps, 21), new float[] {0.3f, -0.2f}, new float[] {0.1f, 0.4f},
                    null, count, 0.05f, steps, 0.1f, 0.2f, 0.1f, 99, 7, true, EnsembleSpec.FAN, Scheme.valueOf(k[1]),
                    EnsembleSpec.DEFAULT_TAO_OMEGA);
            EnsembleResult ref = REFERENCE.integrate(spec);
            long t0 = System.nanoTime();
            EnsembleResult got;
            try {
                got = engine.integrate(spec);
            } catch (RuntimeException e) {
                error("integrate", sub, label, e);
                continue;
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            double[] worst = {0, 1e-3, 0};  // ratio, tolerance, error
            String[] what = {"-"};
            if (!java.util.Arrays.equals(ref.divergedAtStep(), got.divergedAtStep())) {
                verdict("integrate", sub, label, false, Double.POSITIVE_INFINITY, 0, "diverged-at steps differ", ms,
                        "vs reference");
                continue;
            }
            within(ref.finalStates(), got.finalStates(), 1e-3, "final states", worst, what);
            within(ref.paths(), got.paths(), 1e-3, "paths", worst, what);
            within(ref.initialEnergy(), got.initialEnergy(), 1e-5, "initial energies", worst, what);
            within(ref.finalEnergy(), got.finalEnergy(), 1e-3, "final energies", worst, what);
            within(ref.quantiles(), got.quantiles(), 1e-3, "quantiles", worst, what);
            verdict("integrate", sub, label, worst[0] <= 1, worst[2], worst[1], what[0], ms, "vs reference");
        }
    }

    private static void within(float[] want, float[] got, double tol, String name, double[] worst, String[] what) {
        if (want.length != got.length) {
            worst[0] = Double.POSITIVE_INFINITY;
            worst[2] = Double.POSITIVE_INFINITY;
            what[0] = name + ": length " + got.length + ", expected " + want.length;
            return;
        }
        for (int i = 0; i < want.length; i++) {
            boolean bothNaN = Float.isNaN(want[i]) && Float.isNaN(got[i]);
            double err = bothNaN ? 0 : Math.abs(want[i] - got[i]);
            double ratio = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / tol;
            if (ratio > worst[0]) {
                worst[0] = ratio;
                worst[1] = tol;
                worst[2] = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                what[0] = name + "[" + i + "]";
            }
        }
    }

    /**
     * Every subject timed at B×M×d (V = X, k = 10, beta = 0.125, as in cuda/PERFORMANCE.md); each float32 subject's
     * result compared with the cpu engine's at that size (twice the float32 bounds: both engines round).
     */
    private void time(long m, int d, List<Integer> batches, List<Subject> subjects) throws IOException {
        if (subjects.isEmpty()) {
            return;
        }
        if (!budgetLeft(10)) {
            for (int b : batches) {
                for (Subject s : subjects) {
                    skipped("time", s, String.format(Locale.ROOT, "B=%d M=%d d=%d k=10 beta=0.125", b, m, d));
                }
            }
            return;
        }
        try (FloatMatrix x = RandomMatrices.uniform(m, d, 1000 + m); PatternMemory mem = PatternMemory.wrap(x, null)) {
            boolean first = true;
            for (int b : batches) {
                time(b, mem, first, subjects);
                first = false;
            }
        }
    }

    private void time(int b, PatternMemory mem, boolean uploads, List<Subject> subjects) throws IOException {
        long m = mem.size();
        int d = mem.dim();
        String label = String.format(Locale.ROOT, "B=%d M=%d d=%d k=10 beta=0.125", b, m, d);
        RetrievalParams p = new RetrievalParams(0.125f, (int) Math.min(10, m));
        try (FloatMatrix q = RandomMatrices.uniform(b, d, 2000 + m)) {
            RetrievalResult cpu = null;
            Backend cpuEngine = null;
            String cpuWhy = Backends.unavailableReason("cpu");
            if (cpuWhy == null) {
                cpuEngine = Backends.select(Capability.RETRIEVAL, "cpu");
                cpu = cpuEngine.retrieve(mem, q, p);
            }
            RetrievalAgreement.Tolerances tol = cpu == null ? null
                    : RetrievalAgreement.Tolerances.of(mem, RetrievalAgreement.logitError(mem, q, p.beta())).scaled(2);
            for (Subject s : subjects) {
                if (!s.serves(d, d)) {
                    continue;
                }
                if (!budgetLeft(5)) {
                    skipped("time", s, label);
                    continue;
                }
                Retrieval r = new Retrieval(mem, q, p);
                RetrievalResult[] last = new RetrievalResult[1];
                try {
                    long t0 = System.nanoTime();
                    last[0] = s.run.apply(r);  // uploads the memory (the first batch size)
                    double firstMs = (System.nanoTime() - t0) / 1e6;
                    double secondsLeft = (deadline - System.nanoTime()) / 1e9;
                    Timing.Stats st = Timing.measure(() -> last[0] = s.run.apply(r), 1, Math.min(3, reps), reps,
                            Math.max(0.5, Math.min(5, secondsLeft / 4)));
                    ObjectNode n = line("time", s.engine, s.variant, s.storage, label, "ok");
                    st.putInto(n).put("first_call_ms", firstMs).put("first_call_uploads", uploads)
                            .put("gb_per_s_of_x", m * d * bytes(s.storage) / (st.medianMs() * 1e6));
                    write(n, String.format(Locale.ROOT, "%s %s %s time %s: %s (first call%s: %s)", s.engine, s.variant,
                            s.storage, label, st.describe(), uploads ? ", with the upload" : "", Timing.ms(firstMs)));
                } catch (Exception e) {
                    error("time", s, label, e);
                    continue;
                }
                if (s.storage.equals("f32")) {
                    if (cpu == null) {
                        write(line("large", s.engine, s.variant, s.storage, label, "skipped")
                                .put("reason", "cpu engine unavailable: " + cpuWhy), null);
                    } else {
                        RetrievalAgreement a = RetrievalAgreement.compare(cpu, last[0], mem, q, tol);
                        verdict("large", s, label, a.agrees(), a.error(), a.tolerance(), a.worst(), Double.NaN,
                                "vs the cpu engine (2x the float32 bounds)");
                    }
                }
            }
        }
    }

    private static double bytes(String storage) {
        return storage.equals("f32") ? 4 : 2;
    }

    private ObjectNode line(String test, String engine, String variant, String storage, String shape, String status) {
        ObjectNode n = JSON.createObjectNode();
        n.put("check", "java-gpu-check").put("test", test).put("engine", engine).put("variant", variant)
                .put("storage", storage).put("shape", shape).put("status", status);
        return n;
    }

    private void verdict(String test, Subject s, String shape, boolean ok, double error, double tolerance, String worst,
                         double ms, String against) throws IOException {
        if (ok) {
            passed++;
        } else {
            failed++;
        }
        ObjectNode n = line(test, s.engine, s.variant, s.storage, shape, ok ? "pass" : "fail");
        number(n, "max_error", error);
        number(n, "tolerance", tolerance);
        n.put("worst", worst).put("against", against);
        number(n, "ms", ms);
        write(n, String.format(Locale.ROOT, "%s %s %s %s %s: %s (max error %.3g at %s, tolerance %.3g%s; %s)", s.engine,
                s.variant, s.storage, test, shape, ok ? "pass" : "FAIL", error, worst, tolerance,
                Double.isNaN(ms) ? "" : String.format(Locale.ROOT, ", %.1f ms", ms), against));
    }

    /** Non-finite numbers are not JSON: written as null. */
    private static void number(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }

    private void skipped(String test, Subject s, String shape) throws IOException {
        write(line(test, s.engine, s.variant, s.storage, shape, "skipped").put("reason", "budget spent (--budget "
                + budget + ")"), String.format(Locale.ROOT, "%s %s %s %s %s: skipped (budget spent)", s.engine, s.variant,
                s.storage, test, shape));
    }

    private void error(String test, Subject s, String shape, Exception e) throws IOException {
        failed++;
        String msg = EngramCli.message(e);
        write(line(test, s.engine, s.variant, s.storage, shape, "fail").put("error", msg),
                String.format(Locale.ROOT, "%s %s %s %s %s: FAIL: %s", s.engine, s.variant, s.storage, test, shape, msg));
    }

    /** Appends one JSON line to --out (flushed before the next check starts) and prints {@code text} (when not null). */
    private void write(ObjectNode n, String text) throws IOException {
        Files.writeString(out, JSON.writeValueAsString(n) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        if (text != null) {
            System.out.println(text);
            System.out.flush();
        }
    }
}
