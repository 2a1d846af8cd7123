package dev.engram.engine.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Hands tasks 0 … n−1 to workers (the calling thread is one), each worker with its own scratch. Results must not
 * depend on which worker runs a task: tasks write only their own slots, which the caller merges in task order.
 */
final class TaskRunner {
    private TaskRunner() {
    }

    /** What a task does with its worker's scratch. */
    interface Task<S> {
        void run(S scratch, int task);
    }

    /**
     * @param workers how many workers to use (at most {@code threads}, at least 1)
     * @param pool    at least {@code workers − 1} threads, or null for the calling thread alone
     */
    static <S> void run(int workers, ExecutorService pool, int n, Supplier<S> scratch, Task<S> task, String what) {
        int parts = pool == null ? 1 : Math.max(1, Math.min(workers, n));
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            S s = scratch.get();
            for (int t = next.getAndIncrement(); t < n; t = next.getAndIncrement()) {
                task.run(s, t);
            }
        };
        if (parts == 1) {
            worker.run();
            return;
        }
        List<Future<?>> futures = new ArrayList<>(parts - 1);
        for (int i = 1; i < parts; i++) {
            futures.add(pool.submit(worker));
        }
        RuntimeException failure = null;
        try {
            worker.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            for (Future<?> fu : futures) {
                fu.get();
            }
        } catch (InterruptedException e) {
            futures.forEach(fu -> fu.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        } catch (ExecutionException e) {
            futures.forEach(fu -> fu.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(what + " worker failed", e.getCause());
        }
        if (failure != null) {
            throw failure;
        }
    }
}
