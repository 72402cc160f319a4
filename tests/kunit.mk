# tests/kunit.mk - KUnit suites of vgpu.ko and the module ABI test (modtest),
# in a QEMU guest running a KUnit-enabled kernel built from linux-source-6.1.
.PHONY: kunit
kunit: setup
	$(MAKE) modtest
	tests/kunit/run.sh $(BUILD)
