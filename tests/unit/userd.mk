# tests/unit/userd.mk - vgpud's cmocka tests (included by tests/build.mk)
#   test_userd         ring layout/entry checks, and the channel logic (userd/chan.c) on a
#                      ring in plain memory, moved by a poll() loop (test_userd_rig.c) to
#                      the sim session in a thread (also with a partition: attach, its
#                      limit, an unknown name)
#   test_userd_peer    the same channel logic against a fake server scripted frame by frame
#                      (PARTITION_ATTACH after HELLO, its refusals)
#   test_userd_loop    the io_uring loop (connect, send, recv, retry tick, stop) on real
#                      loopback TCP; only FETCH/COMMIT (the kernel's part) are left out
#   test_userd_config  vgpud.conf parsing, and vgpud's exit status on a bad config
#   test_userd_devcfg  what sysfs shows (userd/devcfg.c): DEV_CONFIG at start and reload,
#                      a partition's limits from each attach (also through the loop), with
#                      the module faked by ld --wrap=ioctl
USERD_TESTS := $(BUILD)/tests/test_userd $(BUILD)/tests/test_userd_peer \
	       $(BUILD)/tests/test_userd_loop $(BUILD)/tests/test_userd_config \
	       $(BUILD)/tests/test_userd_devcfg
USERD_TEST_UTIL := $(BUILD)/tests/unit/test_userd_util.o $(BUILD)/tests/unit/test_userd_rig.o

$(BUILD)/tests/unit/test_userd_config.o: CFLAGS += -DVGPUD_BIN='"$(VGPUD)"'
# test_userd reaches into the server's partition table (server/partition.h needs cuda.h)
$(BUILD)/tests/unit/test_userd.o $(BUILD)/tests/unit/test_userd_loop.o \
$(BUILD)/tests/unit/test_userd_devcfg.o: CFLAGS += -I$(CUDA_INC)

# these three link the sim session (libvgpuserver) to talk to
$(BUILD)/tests/test_userd $(BUILD)/tests/test_userd_peer $(BUILD)/tests/test_userd_loop: \
		$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(USERD_TEST_UTIL) $(LIBVGPUD) \
		$(LIBVGPUSERVER) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(USERD_LIBS) $(CMOCKA_LIBS) -ldl -lpthread

# the control device faked: DEV_CONFIG on a made-up fd is recorded
$(BUILD)/tests/test_userd_devcfg: $(BUILD)/tests/unit/test_userd_devcfg.o $(USERD_TEST_UTIL) \
				  $(LIBVGPUD) $(LIBVGPUSERVER) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -Wl,--wrap=ioctl $(USERD_LIBS) $(CMOCKA_LIBS) -ldl -lpthread

# also runs build/bin/vgpud
$(BUILD)/tests/test_userd_config: $(BUILD)/tests/unit/test_userd_config.o $(LIBVGPUD) \
				  $(LIBVGPUCOMMON) | $(VGPUD)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(USERD_LIBS) $(CMOCKA_LIBS)

UNIT_TESTS += $(USERD_TESTS)

.PHONY: userd-unit
userd-unit: $(USERD_TESTS)
	@fail=0; for t in $(USERD_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail
