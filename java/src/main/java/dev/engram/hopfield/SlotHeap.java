package dev.engram.hopfield;

import java.util.Arrays;

/**
 * An indexed binary min-heap of slots {@code 0..capacity-1} keyed by a double: O(log n) insert, key change and
 * removal of the minimum, O(1) peek. The pattern store keeps its eviction order here so that finding the slot to
 * evict costs O(log M) instead of a scan over 10^6 slots.
 */
final class SlotHeap {
    private final int[] heap;
    private final int[] position;
    private final double[] key;
    private int size;

    SlotHeap(int capacity) {
        heap = new int[capacity];
        position = new int[capacity];
        key = new double[capacity];
        Arrays.fill(position, -1);
    }

    int size() {
        return size;
    }

    boolean contains(int slot) {
        return position[slot] >= 0;
    }

    double key(int slot) {
        return key[slot];
    }

    int peekMin() {
        if (size == 0) {
            throw new IllegalStateException("heap is empty");
        }
        return heap[0];
    }

    /** Adds {@code slot} with {@code k}, or changes its key when present. */
    void put(int slot, double k) {
        if (position[slot] < 0) {
            heap[size] = slot;
            position[slot] = size;
            key[slot] = k;
            size++;
            siftUp(size - 1);
        } else {
            double old = key[slot];
            key[slot] = k;
            if (k < old) {
                siftUp(position[slot]);
            } else {
                siftDown(position[slot]);
            }
        }
    }

    private boolean less(int a, int b) {
        // ties: the smaller slot first, so the eviction order is deterministic
        double ka = key[heap[a]];
        double kb = key[heap[b]];
        return ka < kb || (ka == kb && heap[a] < heap[b]);
    }

    private void swap(int a, int b) {
        int t = heap[a];
        heap[a] = heap[b];
        heap[b] = t;
        position[heap[a]] = a;
        position[heap[b]] = b;
    }

    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!less(i, parent)) {
                return;
            }
            swap(i, parent);
            i = parent;
        }
    }

    private void siftDown(int i) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                return;
            }
            int best = l + 1 < size && less(l + 1, l) ? l + 1 : l;
            if (!less(best, i)) {
                return;
            }
            swap(i, best);
            i = best;
        }
    }
}
