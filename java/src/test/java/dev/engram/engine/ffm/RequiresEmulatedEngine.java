package dev.engram.engine.ffm;

import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * jqwik's counterpart of the JUnit assumptions in the other native tests (jqwik does not treat a failed JUnit
 * assumption as a skip): skips a property container, with the reason, when libengram_emu was not built.
 */
public final class RequiresEmulatedEngine implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        String why = NativeBackend.emulatedUnavailableReason();
        return why == null ? SkipResult.doNotSkip() : SkipResult.skip("emulated native engine unavailable: " + why);
    }
}
