# tests/build.mk - every test fragment, and the targets that run them.
# Unit tests (cmocka) add themselves to UNIT_TESTS; guest tests define
# their own targets (kunit, modtest) and vmtest runs the end-to-end
# guest test of the whole chain.
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

-include tests/unit/server.mk
-include tests/unit/lib.mk
-include tests/unit/nvml.mk
-include tests/unit/userd.mk
-include tests/unit/ctl.mk
-include tests/progs/build.mk
-include tests/cuda/build.mk
-include tests/kunit.mk
-include tests/vm/modtest.mk
-include tests/vm/e2e.mk
-include tests/dkms.mk
