// driver_emu_test.cpp: the emulated CUDA driver (libengram_cudadrv_emu.so, driver_emu.cpp) against the behaviour of the
// real one, through its exported cu* functions (run by native-build/build.sh); and, with `fatbins DIR`, the tool that
// writes the emulated module images engram_<stem>.fatbin for every module in the driver's kernel table.
#include "driver_emu.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

static int failures = 0;

#define EXPECT(call, want)                                                                                   \
    do {                                                                                                     \
        CUresult got_ = (call);                                                                              \
        if (got_ != (want)) {                                                                                \
            std::fprintf(stderr, "FAIL %s:%d: %s returned %d, want %s (%d)\n", __FILE__, __LINE__, #call, got_, \
                         #want, (int) (want));                                                               \
            failures++;                                                                                      \
        }                                                                                                    \
    } while (0)
#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

static std::map<std::string, std::vector<std::pair<std::string, std::string>>> modules() {
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
    const char *stem, *name, *params;
    for (int i = 0; engram_cudadrv_emu_kernel(i, &stem, &name, &params); i++) out[stem].emplace_back(name, params);
    return out;
}

static int write_fatbins(const std::string& dir) {
    for (const auto& [stem, kernels] : modules()) {
        std::vector<unsigned char> image = engram_driver_emu::emulated_image(stem, kernels);
        std::string path = dir + "/engram_" + stem + ".fatbin", tmp = path + ".tmp";
        std::ofstream out(tmp, std::ios::binary);
        out.write(reinterpret_cast<const char*>(image.data()), (std::streamsize) image.size());
        out.close();
        if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
            std::fprintf(stderr, "driver_emu_test: cannot write %s\n", path.c_str());
            return 1;
        }
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "fatbins") == 0) return write_fatbins(argv[2]);
    if (argc != 1) {
        std::fprintf(stderr, "usage: driver_emu_test [fatbins DIR]\n");
        return 64;
    }
    int n;
    EXPECT(cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
    EXPECT(cuInit(0), CUDA_SUCCESS);
    EXPECT(cuDeviceGetCount(&n), CUDA_SUCCESS);
    CHECK(n == 1);
    CUdevice dev;
    EXPECT(cuDeviceGet(&dev, 1), CUDA_ERROR_INVALID_DEVICE);
    EXPECT(cuDeviceGet(&dev, 0), CUDA_SUCCESS);
    char name[256];
    EXPECT(cuDeviceGetName(name, sizeof name, dev), CUDA_SUCCESS);
    CHECK(std::strstr(name, "emulated") != nullptr);
    int v;
    EXPECT(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev), CUDA_SUCCESS);
    CHECK(v == 232448);
    EXPECT(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev), CUDA_SUCCESS);
    CHECK(v == 9);
    EXPECT(cuDeviceGetAttribute(&v, 100000, dev), CUDA_ERROR_INVALID_VALUE);
    const char* text;
    EXPECT(cuGetErrorName(CUDA_ERROR_LAUNCH_FAILED, &text), CUDA_SUCCESS);
    CHECK(std::strcmp(text, "CUDA_ERROR_LAUNCH_FAILED") == 0);

    // no context yet
    CUdeviceptr p;
    EXPECT(cuMemAlloc_v2(&p, 64), CUDA_ERROR_INVALID_CONTEXT);
    CUcontext ctx, popped;
    EXPECT(cuCtxCreate_v2(&ctx, 0, dev), CUDA_SUCCESS);

    // memory: fresh allocations read as 0xFF; copies and frees outside a live allocation are refused
    EXPECT(cuMemAlloc_v2(&p, 0), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuMemAlloc_v2(&p, 1000), CUDA_SUCCESS);
    unsigned char host[1200];
    EXPECT(cuMemcpyDtoH_v2(host, p, 1000), CUDA_SUCCESS);
    CHECK(host[0] == 0xff && host[999] == 0xff);
    float f;
    std::memcpy(&f, host, 4);
    CHECK(std::isnan(f));
    std::memset(host, 7, sizeof host);
    EXPECT(cuMemcpyHtoD_v2(p, host, 1000), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(p, host, 1001), CUDA_ERROR_INVALID_VALUE);       // one byte past the end
    EXPECT(cuMemcpyHtoD_v2(p + 900, host, 101), CUDA_ERROR_INVALID_VALUE);  // runs past the end
    EXPECT(cuMemcpyHtoD_v2(p + 900, host, 100), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoH_v2(host, p - 8, 16), CUDA_ERROR_INVALID_VALUE);     // starts before the allocation
    EXPECT(cuMemcpyDtoH_v2(host, (CUdeviceptr) (uintptr_t) host, 16), CUDA_ERROR_INVALID_VALUE);  // host memory
    CUdeviceptr q;
    EXPECT(cuMemAlloc_v2(&q, 500), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoD_v2(q, p, 500), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoD_v2(q, p, 501), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuMemFree_v2(p + 8), CUDA_ERROR_INVALID_VALUE);  // not the base address
    EXPECT(cuMemFree_v2(q), CUDA_SUCCESS);
    EXPECT(cuMemFree_v2(q), CUDA_ERROR_INVALID_VALUE);        // double free
    EXPECT(cuMemcpyHtoD_v2(q, host, 4), CUDA_ERROR_INVALID_VALUE);  // use after free

    // a kernel running past an allocation (beyond its 256-byte alignment) or into freed memory faults at once
    for (CUdeviceptr bad : {p + 1024, q}) {
        pid_t child = fork();
        if (child == 0) {
            volatile unsigned char* b = reinterpret_cast<volatile unsigned char*>((uintptr_t) bad);
            (void) *b;
            _exit(0);
        }
        int status = 0;
        waitpid(child, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    }

    // modules: a fatbin, kernels found by whole name in the image and in the driver's table
    const char junk[32] = "not a fatbin at all, no magic";
    CUmodule mod;
    EXPECT(cuModuleLoadData(&mod, junk), CUDA_ERROR_INVALID_IMAGE);
    std::vector<unsigned char> image = engram_driver_emu::emulated_image("retrieve_merge",
                                                                         {{"engram_kernel_retrieve_merge", ""}});
    EXPECT(cuModuleLoadData(&mod, image.data()), CUDA_SUCCESS);
    CUfunction merge, none;
    EXPECT(cuModuleGetFunction(&none, mod, "engram_kernel_retrieve_partial_f32"), CUDA_ERROR_NOT_FOUND);  // other module
    EXPECT(cuModuleGetFunction(&none, mod, "engram_kernel_retrieve"), CUDA_ERROR_NOT_FOUND);  // a prefix only
    EXPECT(cuModuleGetFunction(&none, mod, "no_such_kernel"), CUDA_ERROR_NOT_FOUND);
    std::vector<unsigned char> stranger = engram_driver_emu::emulated_image("x", {{"kernel_not_compiled_in", ""}});
    CUmodule smod;
    EXPECT(cuModuleLoadData(&smod, stranger.data()), CUDA_SUCCESS);
    EXPECT(cuModuleGetFunction(&none, smod, "kernel_not_compiled_in"), CUDA_ERROR_NOT_FOUND);
    EXPECT(cuModuleUnload(smod), CUDA_SUCCESS);
    EXPECT(cuModuleUnload(smod), CUDA_ERROR_INVALID_HANDLE);
    EXPECT(cuModuleGetFunction(&merge, mod, "engram_kernel_retrieve_merge"), CUDA_SUCCESS);
    EXPECT(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, merge), CUDA_SUCCESS);
    CHECK(v == 256);

    // a real launch: the merge kernel joins two chunks' partials (finish = 0) — checks the parameter unpacking
    CUstream stream;
    EXPECT(cuStreamCreate(&stream, 1), CUDA_SUCCESS);
    struct In {
        float m[2] = {1, 1}, l[2] = {2, 2}, t[2] = {0, 0}, o[2] = {4, 6}, ts[2] = {0.5f, 0.7f};
        long long ti[2] = {3, 9};
    } in;
    CUdeviceptr dm, dl, dt, dob, dts, dti, dw, dh, oa, ob, oc, oo, ots, oti;
    CUdeviceptr* bufs[] = {&dm, &dl, &dt, &dob, &dts, &dti, &dw, &dh, &oa, &ob, &oc, &oo, &ots, &oti};
    for (CUdeviceptr* b : bufs) EXPECT(cuMemAlloc_v2(b, 64), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(dm, in.m, 8), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(dl, in.l, 8), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(dt, in.t, 8), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(dob, in.o, 8), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(dts, in.ts, 8), CUDA_SUCCESS);
    EXPECT(cuMemcpyHtoD_v2(dti, in.ti, 16), CUDA_SUCCESS);
    int chunks = 2, batch = 1, dv = 1, k = 1, finish = 0;
    long long count = 100;
    void* params[] = {&dm, &dl, &dt, &dob, &dts, &dti, &chunks, &batch, &dv, &k, &count, &finish,
                      &dw, &dh, &oa, &ob, &oc, &oo, &ots, &oti};
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 0, stream, params, nullptr), CUDA_SUCCESS);
    EXPECT(cuStreamSynchronize(stream), CUDA_SUCCESS);
    float a, b, c, o, ts;
    long long ti;
    EXPECT(cuMemcpyDtoH_v2(&a, oa, 4), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoH_v2(&b, ob, 4), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoH_v2(&c, oc, 4), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoH_v2(&o, oo, 4), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoH_v2(&ts, ots, 4), CUDA_SUCCESS);
    EXPECT(cuMemcpyDtoH_v2(&ti, oti, 8), CUDA_SUCCESS);
    CHECK(a == 1 && b == 4 && c == 0 && o == 10 && ts == 0.7f && ti == 9);
    if (!(a == 1 && b == 4 && c == 0 && o == 10 && ts == 0.7f && ti == 9)) {
        std::fprintf(stderr, "  merged m=%g l=%g t=%g o=%g top=(%g, %lld), want 1 4 0 10 (0.7, 9)\n", a, b, c, o, ts, ti);
    }

    // launch refusals
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 2048, 1, 1, 0, stream, params, nullptr), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 512, 1, 1, 0, stream, params, nullptr), CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
    EXPECT(cuLaunchKernel(merge, 1, 70000, 1, 256, 1, 1, 0, stream, params, nullptr), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 64 * 1024, stream, params, nullptr), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuFuncSetAttribute(merge, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 300 * 1024),
           CUDA_ERROR_INVALID_VALUE);  // over the 227 KiB opt-in limit
    EXPECT(cuFuncSetAttribute(merge, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024), CUDA_SUCCESS);
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 64 * 1024, stream, params, nullptr), CUDA_SUCCESS);
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 64 * 1024 + 1, stream, params, nullptr), CUDA_ERROR_INVALID_VALUE);
    void* extra[] = {nullptr};
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 0, stream, nullptr, extra), CUDA_ERROR_NOT_SUPPORTED);

    // destroyed streams and unloaded modules are errors, never other objects
    CUstream gone;
    EXPECT(cuStreamCreate(&gone, 0), CUDA_SUCCESS);
    EXPECT(cuStreamDestroy_v2(gone), CUDA_SUCCESS);
    EXPECT(cuStreamDestroy_v2(gone), CUDA_ERROR_INVALID_HANDLE);
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 0, gone, params, nullptr), CUDA_ERROR_INVALID_HANDLE);
    EXPECT(cuStreamSynchronize(gone), CUDA_ERROR_INVALID_HANDLE);

    // a pointer argument outside every live allocation: refused, and the context is poisoned as after a GPU fault
    CUdeviceptr saved = oo;
    oo = dm + 4096;
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 0, stream, params, nullptr), CUDA_ERROR_ILLEGAL_ADDRESS);
    oo = saved;
    EXPECT(cuMemAlloc_v2(&p, 16), CUDA_ERROR_ILLEGAL_ADDRESS);
    EXPECT(cuCtxDestroy_v2(ctx), CUDA_SUCCESS);

    // a destroyed context: gone from the stack, cannot be pushed, destroyed twice is an error
    EXPECT(cuCtxPopCurrent_v2(&popped), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT(cuCtxPushCurrent_v2(ctx), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT(cuCtxDestroy_v2(ctx), CUDA_ERROR_INVALID_CONTEXT);

    // the stack: push/pop across contexts; a function from an unloaded module
    CUcontext c1, c2;
    EXPECT(cuCtxCreate_v2(&c1, 0, dev), CUDA_SUCCESS);
    EXPECT(cuModuleLoadData(&mod, image.data()), CUDA_SUCCESS);
    EXPECT(cuModuleGetFunction(&merge, mod, "engram_kernel_retrieve_merge"), CUDA_SUCCESS);
    EXPECT(cuModuleUnload(mod), CUDA_SUCCESS);
    EXPECT(cuLaunchKernel(merge, 1, 1, 1, 256, 1, 1, 0, nullptr, params, nullptr), CUDA_ERROR_INVALID_HANDLE);
    EXPECT(cuCtxCreate_v2(&c2, 0, dev), CUDA_SUCCESS);
    EXPECT(cuCtxPopCurrent_v2(&popped), CUDA_SUCCESS);
    CHECK(popped == c2);
    CUcontext cur;
    EXPECT(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
    CHECK(cur == c1);
    EXPECT(cuCtxDestroy_v2(c2), CUDA_SUCCESS);
    EXPECT(cuCtxDestroy_v2(c1), CUDA_SUCCESS);
    EXPECT(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
    CHECK(cur == nullptr);

    if (failures) {
        std::fprintf(stderr, "driver_emu_test: %d FAILED\n", failures);
        return 1;
    }
    std::fprintf(stderr, "driver_emu_test: the emulated CUDA driver behaves (memory, modules, launches, handles)\n");
    return 0;
}
