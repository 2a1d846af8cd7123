package dev.engram.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * Puts the failing case's display name (its seed and sizes, see {@link SeededCases}) in front of the failure
 * message, so the console summary of a build says which case to replay, not only its index.
 */
public final class CaseInFailure implements TestExecutionExceptionHandler {
    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        if (failure instanceof TestAbortedException) {
            throw failure;
        }
        AssertionFailedError named = new AssertionFailedError("[" + context.getDisplayName() + "] " + failure.getMessage(),
                failure);
        named.setStackTrace(failure.getStackTrace());
        throw named;
    }
}
