# lib/build.mk: rules of this component (see top Makefile)
# The user driver: $(BUILD)/lib/libcuda.so.1 (+ libcuda.so), a drop-in
# libcuda that forwards the driver API to vgpu-server through /dev/vgpuN or
# a direct TCP connection.  Every symbol of the toolkit's stub libcuda.so is
# exported; those not implemented here are generated stubs that return
# CUDA_ERROR_NOT_SUPPORTED (lib/gen_entries.py, which also builds the
# cuGetProcAddress table from cudaTypedefs.h and the error names from cuda.h).
LIB_SRCS := lib/transport.c lib/transport_tcp.c lib/transport_ring.c lib/debug.c \
	    lib/objects.c lib/rpc.c lib/init.c lib/context.c lib/memory.c lib/stream.c \
	    lib/module.c lib/library.c lib/launch.c lib/image.c lib/procaddr.c \
	    lib/export.c lib/integrity.c lib/ctx_local.c \
	    lib/graph.c lib/graph_exec.c lib/graph_variants.c lib/capture.c \
	    lib/ranges.c lib/hostmem.c lib/copy2d.c lib/funcattr.c lib/ctx_query.c lib/errors.c lib/variants.c \
	    lib/utilization.c \
	    lib/vmm.c lib/mempool.c lib/multidev.c lib/texture.c lib/stream_attr.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_GEN_OBJS := $(BUILD)/lib/entries_gen.o $(BUILD)/lib/errors_gen.o $(BUILD)/lib/trace_gen.o
LIBCUDA := $(BUILD)/lib/libcuda.so.1
LIBCUDA_LINK := $(BUILD)/lib/libcuda.so
# stub symbol list and the unimplemented ones, for tests/unit/test_lib
LIBCUDA_STUB_LIST := $(BUILD)/lib/stub_symbols.txt
LIBCUDA_UNIMPL_LIST := $(BUILD)/lib/unimplemented.txt

CUDA_STUB ?= $(CUDA_HOME)/lib64/stubs/libcuda.so
CUDA_TYPEDEFS := $(CUDA_INC)/cudaTypedefs.h $(wildcard $(CUDA_INC)/cudaProfilerTypedefs.h)
PYTHON ?= python3

CFLAGS_lib := -I$(CUDA_INC) -fPIC

$(BUILD)/lib/entries_gen.c: lib/gen_entries.py $(LIB_OBJS) $(CUDA_STUB) $(CUDA_TYPEDEFS)
	@mkdir -p $(@D)
	$(PYTHON) lib/gen_entries.py entries --stub $(CUDA_STUB) \
		$(addprefix --typedefs ,$(CUDA_TYPEDEFS)) --out $@ \
		--list-stub $(LIBCUDA_STUB_LIST) --list-unimplemented $(LIBCUDA_UNIMPL_LIST) \
		--trace-out $(BUILD)/lib/trace_gen.c \
		$(LIB_OBJS)

$(BUILD)/lib/errors_gen.c: lib/gen_entries.py $(CUDA_INC)/cuda.h
	@mkdir -p $(@D)
	$(PYTHON) lib/gen_entries.py errors --cuda-h $(CUDA_INC)/cuda.h --out $@

$(LIBCUDA_STUB_LIST) $(LIBCUDA_UNIMPL_LIST) $(BUILD)/lib/trace_gen.c: $(BUILD)/lib/entries_gen.c

$(LIB_GEN_OBJS): %.o: %.c lib/entries.h
	$(CC) $(CFLAGS) -fPIC -c -o $@ $<

# the trace wrappers are typed from cudaTypedefs.h
$(BUILD)/lib/trace_gen.o: CFLAGS += -I$(CUDA_INC)

$(LIBCUDA): $(LIB_OBJS) $(LIB_GEN_OBJS) $(LIBVGPUCOMMON_PIC) lib/libcuda.map
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libcuda.so.1 -Wl,--version-script=lib/libcuda.map \
		-Wl,-Bsymbolic-functions -Wl,-z,defs -o $@ \
		$(LIB_OBJS) $(LIB_GEN_OBJS) $(LIBVGPUCOMMON_PIC) -lpthread

$(LIBCUDA_LINK): $(LIBCUDA)
	ln -sf libcuda.so.1 $@

LIBRARIES += $(LIBCUDA) $(LIBCUDA_LINK)

.PHONY: lib
lib: $(LIBCUDA) $(LIBCUDA_LINK)
