package dev.engram.engine.jcuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads, from the cubin ELF images inside a fatbin, the parameter layout nvcc recorded for each kernel: the
 * {@code .nv.info.<kernel>} section's EIATTR_KPARAM_INFO entries (ordinal, byte offset, byte size). Test support: the
 * kernel table is checked against what the compiler actually built.
 *
 * <p>An .nv.info section is a list of 4-byte-aligned attributes {@code (format u8, attribute u8, ...)}: format 4
 * carries a u16 size and that many payload bytes, the others a 2-byte value. KPARAM_INFO (0x17) has a 12-byte
 * payload: index u32, ordinal u16, offset u16, and a u32 whose bits 18..31 are the size in bytes.
 */
final class FatbinParams {
    private static final int KPARAM_INFO = 0x17;

    /** One parameter as compiled. */
    record Param(int ordinal, int offset, int size) {
    }

    /** One cubin in the fatbin: its ELF e_flags (holds the SM version) and kernel name → parameters by ordinal. */
    record Image(int flags, Map<String, List<Param>> kernels) {
    }

    private FatbinParams() {
    }

    static List<Image> read(byte[] fatbin) {
        List<Image> out = new ArrayList<>();
        for (int at = indexOf(fatbin, 0); at >= 0; at = indexOf(fatbin, at + 4)) {
            out.add(elf(ByteBuffer.wrap(fatbin, at, fatbin.length - at).slice().order(ByteOrder.LITTLE_ENDIAN)));
        }
        return out;
    }

    private static Image elf(ByteBuffer b) {
        if (b.get(4) != 2) {
            throw new IllegalStateException("not a 64-bit ELF");
        }
        int flags = b.getInt(0x30);
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3A));
        int shnum = Short.toUnsignedInt(b.getShort(0x3C));
        int shstrndx = Short.toUnsignedInt(b.getShort(0x3E));
        long strOff = b.getLong((int) (shoff + (long) shstrndx * shentsize) + 0x18);
        Map<String, List<Param>> kernels = new LinkedHashMap<>();
        for (int i = 0; i < shnum; i++) {
            int h = (int) (shoff + (long) i * shentsize);
            String name = cString(b, (int) (strOff + b.getInt(h)));
            if (!name.startsWith(".nv.info.")) {
                continue;
            }
            int p = (int) b.getLong(h + 0x18);
            int end = p + (int) b.getLong(h + 0x20);
            List<Param> params = new ArrayList<>();
            while (p < end) {
                int format = b.get(p);
                int attribute = b.get(p + 1);
                if (format == 4) {
                    int size = Short.toUnsignedInt(b.getShort(p + 2));
                    if (attribute == KPARAM_INFO) {
                        int ordinal = Short.toUnsignedInt(b.getShort(p + 8));
                        int offset = Short.toUnsignedInt(b.getShort(p + 10));
                        int bytes = b.getInt(p + 12) >>> 18;
                        params.add(new Param(ordinal, offset, bytes));
                    }
                    p += 4 + size;
                } else {
                    p += 4;
                }
            }
            params.sort((x, y) -> Integer.compare(x.ordinal(), y.ordinal()));
            kernels.put(name.substring(".nv.info.".length()), params);
        }
        return new Image(flags, kernels);
    }

    private static String cString(ByteBuffer b, int at) {
        int end = at;
        while (b.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - at];
        b.get(at, s);
        return new String(s, StandardCharsets.US_ASCII);
    }

    private static int indexOf(byte[] data, int from) {
        for (int i = from; i + 3 < data.length; i++) {
            if (data[i] == 0x7f && data[i + 1] == 'E' && data[i + 2] == 'L' && data[i + 3] == 'F') {
                return i;
            }
        }
        return -1;
    }
}
