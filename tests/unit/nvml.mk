# tests/unit/nvml.mk - nvml/'s cmocka test (included by tests/build.mk)
#   test_nvml   libnvidia-ml.so.1 over lib/'s libcuda.so.1 and a spawned
#               vgpu-server (sim): init failures (no libcuda, not a driver,
#               server unreachable, no device), count, handles by index/UUID/
#               PCI bus id, name, UUID, PCI info, memory against cuMemAlloc,
#               bad arguments, threads, NOT_SUPPORTED stubs, every export, refcounted
#               init, a lost server
ifneq ($(LIBNVML),)
NVML_TESTS := $(BUILD)/tests/test_nvml

NVML_TEST_RPATH := -Wl,-rpath,$(abspath $(BUILD)/nvml) -Wl,-rpath,$(abspath $(BUILD)/lib)

$(BUILD)/tests/unit/test_nvml.o: CFLAGS += -I$(CUDA_INC) $(if $(NVML_H),-DVGPU_HAVE_NVML_H) \
	-DVGPU_BUILD_DIR='"$(abspath $(BUILD))"' \
	-DVGPU_NVML_SYMBOLS='"$(abspath $(LIBNVML_SYMBOLS))"'

$(BUILD)/tests/test_nvml: $(BUILD)/tests/unit/test_nvml.o $(BUILD)/tests/unit/spawn_server.o \
			  $(LIBNVML_LINK) $(LIBCUDA_LINK) \
			  $(LIBNVML_SYMBOLS) | $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD)/nvml -lnvidia-ml -L$(BUILD)/lib -lcuda \
		$(NVML_TEST_RPATH) $(CMOCKA_LIBS) -ldl -lpthread

UNIT_TESTS += $(NVML_TESTS)

.PHONY: nvml-unit
nvml-unit: $(NVML_TESTS)
	@fail=0; for t in $(NVML_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail
endif
