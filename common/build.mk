# common/build.mk: rules of this component (see top Makefile)
# The protocol codec, linked into vgpud, vgpu-server, the tools and lib/.
COMMON_SRCS := common/wire.c common/netio.c common/log.c common/partition_wire.c \
	       common/texture_wire.c \
	       common/ini_lines.c
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
# lib/ is a shared object: it needs position-independent copies.
COMMON_PIC_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/pic/%.o)
LIBVGPUCOMMON := $(BUILD)/common/libvgpucommon.a
LIBVGPUCOMMON_PIC := $(BUILD)/common/libvgpucommon_pic.a

$(LIBVGPUCOMMON): $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBVGPUCOMMON_PIC): $(COMMON_PIC_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

LIBRARIES += $(LIBVGPUCOMMON) $(LIBVGPUCOMMON_PIC)
