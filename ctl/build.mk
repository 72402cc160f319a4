# ctl/build.mk: rules of this component (see top Makefile)
# vgpuctl: partitions of a server (list, create, resize, split, delete).
# args.c (the command line) and print.c are in libvgpuctl.a for the tests.
CTL_LIB_SRCS := ctl/args.c ctl/print.c
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
	$(CC) $(LDFLAGS) -o $@ $^

PROGRAMS += $(VGPUCTL)
LIBRARIES += $(LIBVGPUCTL)

.PHONY: ctl
ctl: $(VGPUCTL)
