# Engine: the synthetic flow writer used by the engine interop tests and bench/query.bench.
$(BUILD)/helpers/flows_write: tests/interop/flows_write.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

TEST_DEPS += $(BUILD)/helpers/flows_write
bench: $(BUILD)/helpers/flows_write

# Engine benchmark driver (bench/query.bench).
$(BUILD)/helpers/query_bench: bench/query_bench.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

bench: $(BUILD)/helpers/query_bench
