# tests/unit/server.mk - the server component's cmocka tests (included by tests/build.mk)
#   test_wire     the protocol codec in common/ (header, body reader/writer, HELLO, frame I/O)
#   test_sim      the sim backend, alloc table and handle table, called directly
#   test_session  vgpu_session_serve over socketpairs in threads: handshake, refusals,
#                 garbage/truncated frames close and free, EOF mid-frame
#   test_session_flow  a driver program's ops through such a session: saxpy,
#                 bad handles, device info, cross-session pointers, NOREPLY, sticky faults
#   test_session_server  vgpu-server itself: a process per session, stats and
#                 vgpu-stat, a SIGKILLed session shows freed, SIGTERM
#                 (the three share session_client.[ch])
#   test_session_ops  the ops the CUDA runtime needs (attributes, occupancy,
#                 stream waits and queries) through a session, sim backend
#   test_session_vmm  the VMM and pool ops at the wire: checks, accounting,
#                 malformed bodies, cleanup at session end (also a spawned vgpu-server)
#   test_session_partition  partitions (ops 57-61) at the wire: administration,
#                 attach rules, limits across sessions, live resize, who may administer
#   test_partition_server  partitions with processes: the shared table's accounting
#                 from several processes, a killed session of a spawned vgpu-server,
#                 --partitions files
#   test_sched    the compute scheduler: its window and policy, and sim sessions
#                 of partitions at 25% and 75% launching kernels (ratio, alone,
#                 resize), in threads and as a spawned vgpu-server's processes
CMOCKA_LIBS ?= $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

SERVER_TESTS := $(BUILD)/tests/test_wire $(BUILD)/tests/test_sim $(BUILD)/tests/test_session \
		$(BUILD)/tests/test_session_flow $(BUILD)/tests/test_session_server \
		$(BUILD)/tests/test_session_ops $(BUILD)/tests/test_session_vmm \
		$(BUILD)/tests/test_session_partition $(BUILD)/tests/test_partition_server \
		$(BUILD)/tests/test_sched

# target-specific so other fragments of tests/unit keep their own flags
$(BUILD)/tests/unit/test_sim.o $(BUILD)/tests/unit/test_session.o \
$(BUILD)/tests/unit/test_session_flow.o $(BUILD)/tests/unit/test_session_server.o \
$(BUILD)/tests/unit/session_client.o \
$(BUILD)/tests/unit/test_session_ops.o: CFLAGS += -I$(CUDA_INC)
$(BUILD)/tests/unit/test_session_vmm.o $(BUILD)/tests/unit/test_session_partition.o \
$(BUILD)/tests/unit/test_partition_server.o $(BUILD)/tests/unit/part_client.o \
$(BUILD)/tests/unit/test_sched.o: \
	CFLAGS += -I$(CUDA_INC) -DVGPU_BUILD_DIR='"$(abspath $(BUILD))"'

$(BUILD)/tests/test_wire: $(BUILD)/tests/unit/test_wire.o $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

$(BUILD)/tests/test_sim: $(BUILD)/tests/unit/test_sim.o $(LIBVGPUSERVER) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -ldl

$(BUILD)/tests/test_session: $(BUILD)/tests/unit/test_session.o \
			     $(BUILD)/tests/unit/session_client.o $(LIBVGPUSERVER) \
			     $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_session_flow: $(BUILD)/tests/unit/test_session_flow.o \
				  $(BUILD)/tests/unit/session_client.o $(LIBVGPUSERVER) \
				  $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -ldl -lpthread

# test_session_server starts build/bin/vgpu-server and build/bin/vgpu-stat
$(BUILD)/tests/test_session_server: $(BUILD)/tests/unit/test_session_server.o \
				    $(BUILD)/tests/unit/session_client.o $(LIBVGPUSERVER) \
				    $(LIBVGPUCOMMON) | $(VGPU_SERVER) $(VGPU_STAT)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_session_ops: $(BUILD)/tests/unit/test_session_ops.o $(LIBVGPUSERVER) \
				 $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_session_vmm: $(BUILD)/tests/unit/test_session_vmm.o \
				 $(BUILD)/tests/unit/spawn_server.o $(LIBVGPUSERVER) \
				 $(LIBVGPUCOMMON) | $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CMOCKA_LIBS) -ldl -lpthread

$(BUILD)/tests/test_session_partition: $(BUILD)/tests/unit/test_session_partition.o \
				       $(BUILD)/tests/unit/part_client.o $(LIBVGPUSERVER) \
				       $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -ldl -lpthread

# also starts build/bin/vgpu-server, with and without --partitions files
$(BUILD)/tests/test_partition_server: $(BUILD)/tests/unit/test_partition_server.o \
				      $(BUILD)/tests/unit/part_client.o \
				      $(BUILD)/tests/unit/spawn_server.o $(LIBVGPUSERVER) \
				      $(LIBVGPUCOMMON) | $(VGPU_SERVER)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CMOCKA_LIBS) -ldl -lpthread

# sessions in threads sharing one partition table, then a spawned
# vgpu-server's session processes (its cuda backend over lib/'s libcuda.so.1
# and a sim server): about 9 s of launching
$(BUILD)/tests/test_sched: $(BUILD)/tests/unit/test_sched.o $(BUILD)/tests/unit/part_client.o \
			   $(BUILD)/tests/unit/spawn_server.o $(LIBVGPUSERVER) \
			   $(LIBVGPUCOMMON) | $(VGPU_SERVER) $(LIBCUDA)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(CMOCKA_LIBS) -ldl -lpthread

UNIT_TESTS += $(SERVER_TESTS)

.PHONY: server-unit
server-unit: $(SERVER_TESTS)
	@fail=0; for t in $(SERVER_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail
