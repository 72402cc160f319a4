# tests/unit/lib.mk - lib/'s cmocka tests (included by tests/build.mk)
#   test_lib          libcuda.so.1 against an in-process server over TCP: init,
#                     devices, contexts, memory (chunked copies), streams, events,
#                     modules, launches, bad handles and pointers, lost server
#   test_lib_entries  exports (all 637 stub names), NOT_SUPPORTED stubs,
#                     cuGetProcAddress mapping, error names, image-size parser
#   test_lib_export   what the CUDA runtime needs beyond the public API: export
#                     tables and the integrity hash, context-local storage,
#                     cuLibrary*/CUkernel, attributes, occupancy, cuLaunchKernelEx
#   test_lib_runtime  the runtime's other calls: pinned memory, pointer attributes,
#                     unified and pitched copies, stream waits, host functions,
#                     stream-ordered allocation, context limits, device queries
#   test_lib_launch   cooperative and cluster launches (cuLaunchCooperativeKernel,
#                     cuLaunchKernelEx attributes), checked by the sim's model
#   test_lib_post     posted launches (not waited for): order, a posted failure
#                     reported by the next call, limits still checked at once
#   test_lib_graph    graphs and stream capture: capture and replay, fork/join
#                     across streams, invalidation, hand-built graphs, updates
#   test_lib_vmm      virtual memory management (chunks, reservations, mappings,
#                     access) and memory pools (attributes, trim, destroy)
#   test_lib_progs    tests/progs programs against a spawned vgpu-server (sim;
#                     spawn_server.c, shared with test_nvml)
#   test_lib_ring     the /dev/vgpuN ring transport against a fake module and
#                     daemon (syscalls wrapped with ld --wrap), whole library
#   test_lib_partition  VGPU_PARTITION against a spawned vgpu-server (sim): attach after
#                     HELLO, cuInit failing with the server's CUresult, the partition's
#                     limit in cuMemGetInfo / cuDeviceTotalMem / cuMemAlloc, shared by two
#                     processes, given back when a process is killed
#   test_lib_multi    devices of two spawned vgpu-servers in one process: routing by
#                     address, relayed copies, allocations kept apart, a lost server
#   test_lib_texture  texture objects over device memory: made, answered back,
#                     destroyed; every field the server checks; no arrays
LIB_TESTS := $(BUILD)/tests/test_lib $(BUILD)/tests/test_lib_entries $(BUILD)/tests/test_lib_export \
	     $(BUILD)/tests/test_lib_runtime $(BUILD)/tests/test_lib_graph \
	     $(BUILD)/tests/test_lib_launch $(BUILD)/tests/test_lib_post \
	     $(BUILD)/tests/test_lib_vmm \
	     $(BUILD)/tests/test_lib_progs $(BUILD)/tests/test_lib_ring \
	     $(BUILD)/tests/test_lib_partition $(BUILD)/tests/test_lib_multi \
	     $(BUILD)/tests/test_lib_texture

LIB_TEST_RPATH := -Wl,-rpath,$(abspath $(BUILD)/lib)

$(BUILD)/tests/unit/test_lib.o $(BUILD)/tests/unit/test_lib_entries.o \
$(BUILD)/tests/unit/test_lib_export.o $(BUILD)/tests/unit/test_lib_ring.o \
$(BUILD)/tests/unit/test_lib_runtime.o $(BUILD)/tests/unit/lib_server.o \
$(BUILD)/tests/unit/test_lib_graph.o $(BUILD)/tests/unit/test_lib_vmm.o \
$(BUILD)/tests/unit/test_lib_launch.o $(BUILD)/tests/unit/test_lib_post.o \
$(BUILD)/tests/unit/test_lib_texture.o: CFLAGS += -I$(CUDA_INC)
$(BUILD)/tests/unit/test_lib_entries.o: CFLAGS += -DVGPU_LIBCUDA='"$(abspath $(LIBCUDA))"' \
	-DVGPU_STUB_LIST='"$(abspath $(LIBCUDA_STUB_LIST))"' \
	-DVGPU_UNIMPL_LIST='"$(abspath $(LIBCUDA_UNIMPL_LIST))"'
$(BUILD)/tests/unit/test_lib_progs.o: CFLAGS += -DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'

$(BUILD)/tests/test_lib: $(BUILD)/tests/unit/test_lib.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
			 $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

# the integrity hash is compiled into the test (it is hidden in the library)
$(BUILD)/tests/test_lib_export: $(BUILD)/tests/unit/test_lib_export.o $(BUILD)/lib/integrity.o \
				$(BUILD)/tests/unit/lib_server.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
				$(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_lib_runtime: $(BUILD)/tests/unit/test_lib_runtime.o \
				 $(BUILD)/tests/unit/lib_server.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
				 $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_lib_texture: $(BUILD)/tests/unit/test_lib_texture.o \
				 $(BUILD)/tests/unit/lib_server.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
				 $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_lib_graph: $(BUILD)/tests/unit/test_lib_graph.o \
			       $(BUILD)/tests/unit/lib_server.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
			       $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_lib_launch: $(BUILD)/tests/unit/test_lib_launch.o \
				$(BUILD)/tests/unit/lib_server.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
				$(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

# lib/'s objects linked in: the test posts a request of its own through vgpu_rpc_post
$(BUILD)/tests/test_lib_post: $(BUILD)/tests/unit/test_lib_post.o $(BUILD)/tests/unit/lib_server.o \
			      $(LIB_OBJS) $(LIB_GEN_OBJS) $(LIBVGPUSERVER) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_lib_vmm: $(BUILD)/tests/unit/test_lib_vmm.o \
			     $(BUILD)/tests/unit/lib_server.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON) \
			     $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

# the image parser (and the debug output it uses) is compiled into the test (hidden in the library)
$(BUILD)/tests/test_lib_entries: $(BUILD)/tests/unit/test_lib_entries.o $(BUILD)/lib/image.o $(BUILD)/lib/debug.o \
				 $(LIBCUDA_LINK) $(LIBCUDA_STUB_LIST)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl

# (tests/progs/build.mk is read after this file: name the programs here)
LIB_TEST_PROGS := $(addprefix $(BUILD)/tests/progs/,saxpy_drv reduce_drv api_drv spin_alloc)
$(BUILD)/tests/test_lib_progs: $(BUILD)/tests/unit/test_lib_progs.o \
			       $(BUILD)/tests/unit/spawn_server.o | $(LIB_TEST_PROGS) \
			       $(VGPU_SERVER) $(VGPU_STAT)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(CMOCKA_LIBS)

$(BUILD)/tests/unit/test_lib_partition.o: CFLAGS += -I$(CUDA_INC) \
	-DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'
$(BUILD)/tests/test_lib_partition: $(BUILD)/tests/unit/test_lib_partition.o \
				   $(BUILD)/tests/unit/spawn_server.o $(LIBVGPUCOMMON) \
				   $(LIBCUDA_LINK) | $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/unit/test_lib_multi.o: CFLAGS += -I$(CUDA_INC) \
	-DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'
$(BUILD)/tests/test_lib_multi: $(BUILD)/tests/unit/test_lib_multi.o \
			       $(BUILD)/tests/unit/spawn_server.o $(LIBVGPUCOMMON) \
			       $(LIBCUDA_LINK) | $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) -L$(BUILD)/lib -lcuda $(LIB_TEST_RPATH) \
		$(CMOCKA_LIBS) -ldl -lpthread

# the library's objects linked in statically, so --wrap reaches its syscalls
RING_WRAP := -Wl,--wrap=open,--wrap=ioctl,--wrap=mmap,--wrap=munmap,--wrap=poll
$(BUILD)/tests/test_lib_ring: $(BUILD)/tests/unit/test_lib_ring.o $(LIB_OBJS) $(LIB_GEN_OBJS) \
			      $(LIBVGPUSERVER) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(RING_WRAP) $(CMOCKA_LIBS) -ldl -lpthread

UNIT_TESTS += $(LIB_TESTS)

.PHONY: lib-unit
lib-unit: $(LIB_TESTS)
	@fail=0; for t in $(LIB_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail
