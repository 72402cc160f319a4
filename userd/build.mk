# userd/build.mk: rules of this component (see top Makefile)
# vgpud: the guest daemon.  libvgpud.a holds everything but main() so the
# unit tests link the same objects.
USERD_LIB_SRCS := userd/config.c userd/ring.c userd/chan.c userd/handshake.c userd/conn.c \
		  userd/ctrl.c userd/devcfg.c userd/loop.c userd/loop_conn.c
USERD_LIB_OBJS := $(USERD_LIB_SRCS:%.c=$(BUILD)/%.o)
LIBVGPUD := $(BUILD)/userd/libvgpud.a
INIH_LIBS ?= $(shell pkg-config --libs inih 2>/dev/null || echo -linih)
USERD_LIBS := -luring $(INIH_LIBS)

VGPUD := $(BUILD)/bin/vgpud

$(LIBVGPUD): $(USERD_LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(VGPUD): $(BUILD)/userd/main.o $(LIBVGPUD) $(LIBVGPUCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(USERD_LIBS)

PROGRAMS += $(VGPUD)
LIBRARIES += $(LIBVGPUD)

.PHONY: userd
userd: $(VGPUD)
