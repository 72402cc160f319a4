# vgpu - top-level build.
#
#   make            user-space programs and libraries (build/)
#   make modules    vgpu.ko against KDIR (default: newest installed headers)
#   make check      every test: cmocka units, KUnit in a guest, VM-guest tests
#   make demo       boot a guest, run a driver-API program through /dev/vgpu0
#
# Each component adds its own rules in <dir>/build.mk; this file only holds
# what they share.

BUILD	?= build
CC	?= gcc
CUDA_HOME ?= $(firstword $(wildcard /usr/local/cuda /usr/local/cuda-13.0 /usr/local/cuda-12*))
CUDA_INC ?= $(CUDA_HOME)/include
KDIR	?= $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)

CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	   -fno-strict-aliasing -D_GNU_SOURCE -I. -MMD -MP
LDFLAGS	?=

# Filled in by the fragments.
PROGRAMS :=
LIBRARIES :=
UNIT_TESTS :=
CLEAN_EXTRA :=

.PHONY: all modules check unit kunit vmtest demo setup clean gpu-test
all:

include common/build.mk
include server/build.mk
include lib/build.mk
include nvml/build.mk
include userd/build.mk
include ctl/build.mk
include tests/build.mk
-include bench/build.mk

all: $(PROGRAMS) $(LIBRARIES)

setup:
	@scripts/setup.sh

# Object rule shared by every component: build/<path>.o from <path>.c.
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_$(<D)) -c -o $@ $<

modules: setup
	@test -n "$(KDIR)" || { echo "no kernel headers: set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

unit: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

check: setup
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) dkmstest
	$(MAKE) kunit
	$(MAKE) vmtest

clean:
	rm -rf $(BUILD) $(CLEAN_EXTRA)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null 2>&1

-include $(shell find $(BUILD) -path $(BUILD)/kunit -prune -o -name '*.d' -type f -print 2>/dev/null)
