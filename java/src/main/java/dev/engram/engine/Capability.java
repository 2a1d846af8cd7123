package dev.engram.engine;

import java.util.Locale;

/**
 * What an engine can do. Engines are chosen per capability ({@link Backends#select(Capability, String)}): the
 * automatic choice for one capability never falls on an engine that lacks it.
 */
public enum Capability {
    /** {@link Backend#retrievePartial}: softmax retrieval, entropy and top-k against a pattern memory. */
    RETRIEVAL("retrieve from pattern memories"),
    /** {@link Backend#integrate}: batched Monte-Carlo integration of Hamiltonian ensembles. */
    INTEGRATION("integrate ensembles"),
    /**
     * Training: gradients of the HNN loss ({@link Backend#openTraining}; the double-precision trainer is the reference
     * engine's) and the training attention and projections of the dense memory and Hopfield pooling
     * ({@link Backend#attend}, {@link Backend#attendBackward}, {@link Backend#project}, {@link Backend#projectBackward}).
     */
    TRAINING("train HNN models");

    private final String verb;

    Capability(String verb) {
        this.verb = verb;
    }

    /** What an engine with this capability does, as a verb phrase for messages ("integrate ensembles"). */
    public String verb() {
        return verb;
    }

    /** Lower-case name for logs and messages ("retrieval"). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
