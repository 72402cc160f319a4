# bench/build.mk - benchmarks (built with `make bench`, not part of `all`).
#   callcost   per-call latency and copy bandwidth of whichever libcuda.so.1 it runs on
CALLCOST := $(BUILD)/bench/callcost
CFLAGS_bench := -I$(CUDA_INC)
$(CALLCOST): $(BUILD)/bench/callcost.o $(BUILD)/tests/progs/prog.o $(LIBCUDA_LINK)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD)/lib -lcuda

.PHONY: bench
bench: $(CALLCOST)
