# tests/unit/ctl.mk - vgpuctl's and the partition codec's cmocka tests (included by tests/build.mk)
#   test_partition_wire  the bodies of ops 57-61 (common/partition_wire.c): round trips,
#                        the name rule, truncated / trailing / over-long / out-of-range input
#   test_vgpuctl         vgpuctl's command line (sizes, percentages, names, options, -p),
#                        table and pool file; then build/bin/vgpuctl against a spawned
#                        vgpu-server (sim): create, list, resize, split (and its rollback),
#                        delete, the errors, a partition a session holds memory of (resize/split/delete refused)
#   test_place           placement of a new partition over a pool (ctl/place.c: policies,
#                        ties, memory and compute, percent vs bytes, unreachable servers,
#                        nothing fits); then build/bin/vgpuctl -p over two spawned
#                        vgpu-servers (sim), one that is down and one that never answers
CTL_TESTS := $(BUILD)/tests/test_partition_wire $(BUILD)/tests/test_vgpuctl \
	     $(BUILD)/tests/test_place

$(BUILD)/tests/unit/test_vgpuctl.o: CFLAGS += -DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'

$(BUILD)/tests/test_partition_wire: $(BUILD)/tests/unit/test_partition_wire.o $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

$(BUILD)/tests/test_vgpuctl: $(BUILD)/tests/unit/test_vgpuctl.o $(BUILD)/tests/unit/spawn_server.o \
			     $(LIBVGPUCTL) $(LIBVGPUCOMMON) | $(VGPUCTL) $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(INIH_LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/unit/test_place.o: CFLAGS += -DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'
$(BUILD)/tests/test_place: $(BUILD)/tests/unit/test_place.o $(BUILD)/tests/unit/spawn_server.o \
			   $(LIBVGPUCTL) $(LIBVGPUCOMMON) | $(VGPUCTL) $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(INIH_LIBS) $(CMOCKA_LIBS)

UNIT_TESTS += $(CTL_TESTS)

.PHONY: ctl-unit
ctl-unit: $(CTL_TESTS)
	@fail=0; for t in $(CTL_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail
