# hunt benchmark driver (bench/hunt.bench).
$(BUILD)/helpers/hunt_bench: bench/hunt_bench.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) $(LIBS_ALL)

bench: $(BUILD)/helpers/hunt_bench
