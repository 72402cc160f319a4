# tests/vm/e2e.mk - the VM-guest test of the whole chain, and the demo.
#   make vmtest   tests/vm/e2e-guest.sh in a guest (Debian's kernel), sim server on the host
#   make demo     the same guest, one SAXPY through /dev/vgpu0, result printed

.PHONY: vmtest demo
vmtest: setup
	$(MAKE) all progs modules modtest
	tests/vm/e2e.sh e2e $(BUILD)

demo: setup
	$(MAKE) all progs modules modtest
	tests/vm/e2e.sh demo $(BUILD)
