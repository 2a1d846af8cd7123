package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.data.TimedValues;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The strategies by name, with shared settings, and what each reports about its fits (for the outputs). */
public final class Strategies {
    /** Names accepted by {@link #create}. */
    public static final List<String> NAMES = List.of("memory", "store", "dense", "hnn");
    /** Capacity of the store strategy's pattern store. */
    public static final int STORE_CAPACITY = 10_000;

    private Strategies() {
    }

    /**
     * Settings shared by the strategies.
     *
     * @param engine           engine for retrievals and ensembles
     * @param beta             fixed β, or NaN to calibrate (memory, store) / use the model default (dense)
     * @param targetConfidence mean confidence β is calibrated to
     * @param k                top-k for novelty and consensus
     * @param signal           forecast → position
     * @param risk             risk rules
     * @param seed             seed of the trained models
     */
    public record Settings(Backend engine, double beta, double targetConfidence, int k, SignalRule signal,
                           RiskRules risk, long seed) {
        MemoryStrategy.Config memory() {
            return new MemoryStrategy.Config(engine, beta, targetConfidence, k, signal, risk);
        }
    }

    /** The strategy called {@code name} (the hnn strategy with the general HNN). */
    public static Strategy create(String name, Settings s) {
        return create(name, s, HnnStrategy.Kind.HNN, List.of());
    }

    /**
     * The strategy called {@code name}; {@code hnnKind} and {@code inputs} (the port model's u(t) series) choose the
     * hnn strategy's model and are refused by the others when set.
     */
    public static Strategy create(String name, Settings s, HnnStrategy.Kind hnnKind, List<TimedValues> inputs) {
        if (!name.equals("hnn") && (hnnKind != HnnStrategy.Kind.HNN || !inputs.isEmpty())) {
            throw new IllegalArgumentException("--hnn-kind, --funding and --open-interest apply to --strategy hnn, "
                    + "not to --strategy " + name);
        }
        return switch (name) {
            case "memory" -> new MemoryStrategy(s.memory());
            case "store" -> new StoreStrategy(new StoreStrategy.Config(s.memory(), STORE_CAPACITY));
            case "dense" -> new DenseMemoryStrategy(DenseMemoryStrategy.Config.defaults(s.memory(), s.seed()));
            case "hnn" -> new HnnStrategy(HnnStrategy.Config.defaults(s.engine(), s.signal(), s.seed()), hnnKind,
                    inputs);
            default -> throw new IllegalArgumentException("--strategy " + name + " is not one of " + NAMES);
        };
    }

    /** Per-fit facts (β chosen, memory size, training rounds, …) with snake_case keys. */
    public static Map<String, Object> describe(Strategy s) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Map<String, Object>> fits = new ArrayList<>();
        switch (s) {
            case MemoryStrategy ms -> ms.fits().forEach(f -> fits.add(map("memory_size", f.memorySize(), "beta",
                    f.beta(), "calibration_confidence", f.calibrationConfidence(), "outcome_std", f.outcomeStd())));
            case StoreStrategy st -> st.fits().forEach(f -> fits.add(map("inserted", f.inserted(), "stored",
                    f.stored(), "merged", f.merged(), "beta", f.beta(), "calibration_confidence",
                    f.calibrationConfidence())));
            case DenseMemoryStrategy ds -> ds.fits().forEach(f -> fits.add(map("memory_size", f.memorySize(),
                    "rounds", f.rounds(), "best_round", f.bestRound(), "validation_mse", f.validationMse(), "beta",
                    f.beta())));
            case HnnStrategy hs -> hs.fits().forEach(f -> fits.add(map("samples", f.samples(), "epochs",
                    f.epochs(), "validation_loss", f.validationLoss(), "energy_mean", f.energyMean(), "energy_std",
                    f.energyStd(), "seconds", f.seconds())));
            default -> {
            }
        }
        m.put("folds", fits);
        return m;
    }

    private static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put((String) kv[i], v instanceof Float f ? (Object) (double) f : v);
        }
        return m;
    }
}
