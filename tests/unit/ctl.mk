# tests/unit/ctl.mk - vgpuctl's and the partition codec's cmocka tests (included by tests/build.mk)
#   test_partition_wire  the bodies of ops 57-61 (common/partition_wire.c): round trips,
#                        the name rule, truncated / trailing / over-long / out-of-range input
#   test_vgpuctl         vgpuctl's command line (sizes, percentages, names, options) and
#                        table; then build/bin/vgpuctl against a spawned vgpu-server (sim):
#                        create, list, resize, split (and its rollback), delete, the errors,
#                        a partition a session holds memory of (resize/split/delete refused)
CTL_TESTS := $(BUILD)/tests/test_partition_wire $(BUILD)/tests/test_vgpuctl

$(BUILD)/tests/unit/test_vgpuctl.o: CFLAGS += -DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'

$(BUILD)/tests/test_partition_wire: $(BUILD)/tests/unit/test_partition_wire.o $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

$(BUILD)/tests/test_vgpuctl: $(BUILD)/tests/unit/test_vgpuctl.o $(BUILD)/tests/unit/spawn_server.o \
			     $(LIBVGPUCTL) $(LIBVGPUCOMMON) | $(VGPUCTL) $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CMOCKA_LIBS)

UNIT_TESTS += $(CTL_TESTS)

.PHONY: ctl-unit
ctl-unit: $(CTL_TESTS)
	@fail=0; for t in $(CTL_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail
