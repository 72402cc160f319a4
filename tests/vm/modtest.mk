# tests/vm/modtest.mk - the module ABI test (tests/vm/modtest.c), a static
# binary because the guests have no libc of their own.  Run in the KUnit
# guest (make kunit) and the Debian guest (make vmtest).
MODTEST := $(BUILD)/vm/modtest

$(MODTEST): tests/vm/modtest.c uapi/vgpu.h
	@mkdir -p $(@D)
	$(CC) -static -O2 -Wall -Wextra -I. -o $@ $< -luring

.PHONY: modtest
modtest: $(MODTEST)
