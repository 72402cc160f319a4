# server/build.mk: rules of this component (see top Makefile)
# libvgpuserver.a (session loop, backends, tables), vgpu-server, vgpu-stat.
SERVER_LIB_SRCS := server/session.c server/ops_ctx.c server/ops_mem.c server/ops_module.c server/ops_func.c \
		   server/ops_sync.c server/handles.c server/alloc_table.c server/stats.c \
		   server/backend.c server/backend_sim.c server/sim_kernels.c server/sim_func.c \
		   server/backend_cuda.c server/cuda_vmm.c server/ops_vmm.c server/ops_pool.c \
		   server/sim_vmm.c server/partition.c server/ops_partition.c \
		   server/ops_util.c server/cuda_util.c server/sim_util.c server/cuda_func.c server/cuda_ctx.c server/cuda_launch.c server/sched.c \
		   server/backend_cuda_timing.c server/ops_tex.c server/cuda_tex.c
SERVER_LIB_OBJS := $(SERVER_LIB_SRCS:%.c=$(BUILD)/%.o)
LIBVGPUSERVER := $(BUILD)/server/libvgpuserver.a
# the cuda backend is built against the toolkit's cuda.h (types and enum
# values only) and reaches libcuda.so.1 through dlopen at run time
CFLAGS_server := -I$(CUDA_INC)
SERVER_LIBS := -ldl
# --partitions FILE (partition_conf.c, vgpu-server only) is read with libinih,
# linked statically: GPU hosts (other distributions) need not have it, and
# vgpuctl (ctl/build.mk) runs there too
STATIC_INIH_LIBS ?= -Wl,-Bstatic -linih -Wl,-Bdynamic
SERVER_INIH_LIBS ?= $(STATIC_INIH_LIBS)

VGPU_SERVER := $(BUILD)/bin/vgpu-server
VGPU_STAT := $(BUILD)/bin/vgpu-stat
VGPU_SMOKE := $(BUILD)/bin/vgpu-smoke

$(LIBVGPUSERVER): $(SERVER_LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(VGPU_SERVER): $(BUILD)/server/main.o $(BUILD)/server/partition_conf.o $(LIBVGPUSERVER) \
		$(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(SERVER_LIBS) $(SERVER_INIH_LIBS)

$(VGPU_STAT): $(BUILD)/server/stat_main.o $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

# end-to-end check of a running server (sim image or built-in PTX for cuda)
$(VGPU_SMOKE): $(BUILD)/server/smoke_main.o $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^

PROGRAMS += $(VGPU_SERVER) $(VGPU_STAT) $(VGPU_SMOKE)
LIBRARIES += $(LIBVGPUSERVER)

.PHONY: server
server: $(VGPU_SERVER) $(VGPU_STAT) $(VGPU_SMOKE) $(LIBVGPUSERVER)
