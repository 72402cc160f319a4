# ctl/build.mk: rules of this component (see top Makefile)
# vgpuctl: partitions of a server or a pool of them (list, create, resize, split, delete).
# Everything but main() (vgpuctl.c) is in libvgpuctl.a for the tests: args.c (the
# command line), print.c, ops.c (a session), pool.c (the pool file), place.c
# (placement, pure), pool_cmd.c (commands over a pool).
CTL_LIB_SRCS := ctl/args.c ctl/print.c ctl/ops.c ctl/pool.c ctl/place.c ctl/pool_cmd.c
CTL_LIB_OBJS := $(CTL_LIB_SRCS:%.c=$(BUILD)/%.o)
LIBVGPUCTL := $(BUILD)/ctl/libvgpuctl.a
# cuda.h for the CUresult names only (vgpuctl does not link libcuda)
CFLAGS_ctl := -I$(CUDA_INC)

VGPUCTL := $(BUILD)/bin/vgpuctl

$(LIBVGPUCTL): $(CTL_LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(VGPUCTL): $(BUILD)/ctl/vgpuctl.o $(LIBVGPUCTL) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(STATIC_INIH_LIBS)

PROGRAMS += $(VGPUCTL)
LIBRARIES += $(LIBVGPUCTL)

.PHONY: ctl
ctl: $(VGPUCTL)
