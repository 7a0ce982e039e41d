# train: build, test, fetch data, run.  `make run` and `make test` work on a bare
# Debian machine: both first install what is missing (scripts/install-deps.sh).
PKGS     := zlib libcjson
# oneDNN (libdnnl-dev) ships no pkg-config file: its header and -ldnnl directly.
# Debian builds it on OpenMP, the one threading runtime of the whole program.
CC       ?= gcc
# CFLAGS is the user's (optimisation, sanitizers): `make CFLAGS=...` replaces it.
# -march=native: the binary is built where it runs and uses all this CPU has.
# PORTABLE=1: built for x86-64-v2 (SSE4.2: every x86-64 CPU since about 2009,
# the level of oneDNN's own floor, SSE4.1), to be copied to other machines;
# oneDNN picks the products' kernels at run time either way (docs/install.md
# has what it costs).
MARCH    := $(if $(filter-out 0,$(PORTABLE)),x86-64-v2,native)
CFLAGS   ?= -O3 -march=$(MARCH) -g
# Mandatory flags are added to whatever CFLAGS says, on the command line too:
# ISO C mode (-std=c11) keeps -ffp-contract=off, so results do not depend on
# whether FMA is used; -MMD -MP write the header dependencies, so no tree
# (build/asan included) goes stale after a header edit.
override CFLAGS += -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -D_DEFAULT_SOURCE -MMD -MP
# deferred (=): evaluated only inside recipes, after the dependencies are installed
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS)) -fopenmp
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -ldnnl -fopenmp -lm
B        := build
# the installed name (docs/install.md); the build tree keeps ./train
NAME     := mnist-train

SRC      := $(wildcard src/*/*.c)
OBJ      := $(SRC:src/%.c=$(B)/%.o)
TESTS    := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/test_*.c))
TSUPPORT := $(patsubst tests/%.c,$(B)/tests/%.o,$(wildcard tests/support/*.c))
# Two tiers. make test: the engine and the programs (unit suites, train,
# compare, install, limits, ONNX), under a minute on two cores. make test-long:
# the suites that drive the scripts and the documents end to end (sweeps over
# ssh, Slurm arrays, the record tables, every documented command, every script
# under a German locale), a few minutes. make check runs both; CI runs it.
LONG     := $(patsubst %,$(B)/tests/%,test_scripts test_docs test_record test_slurm)
# the suites run in parallel (tests/run-tests.sh): the longest start first
SLOW     := $(LONG) $(patsubst %,$(B)/tests/%,test_onnx test_e2e test_model test_machine test_limits test_install)
TEST_RUN := $(filter $(SLOW),$(TESTS)) $(filter-out $(SLOW),$(TESTS))
QUICK_RUN := $(filter-out $(LONG),$(TEST_RUN))
LONG_RUN := $(filter $(LONG),$(TEST_RUN))
# make test and make asan build with a job per core
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: FORCE all run test test-long check run-suites check-libs check-heads check-layers check-mutants check-portable deps test-deps data \
        clean asan valgrind fuzz sanitized-check install uninstall bench bench-compare bench-scaling \
        bench-wall speedrun bench-speedrun bench-contention
.SECONDARY:
all: check-libs train $(B)/bin/compare $(B)/bin/bench $(B)/bin/gendoc \
     $(B)/share/$(NAME)/configs $(B)/train.bash-completion

# ./train at the top of the checkout is a link to the real binary
train: $(B)/bin/train
	ln -sf $(B)/bin/train train

$(B)/bin/train: $(B)/main.o $(B)/libtrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bin/compare: $(B)/compare.o $(B)/libtrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bin/bench: $(B)/bench/bench.o $(B)/bench/peak.o $(B)/libtrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Isrc -c -o $@ $<

# the peak loops need the instructions whatever -march says; they run only
# where the CPU reports them
$(B)/bench/peak.o: bench/peak.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -mavx512f -mavx512bf16 $(PKG_CFLAGS) -c -o $@ $<

$(B)/libtrain.a: $(OBJ)
	$(AR) rcs $@ $^

# Objects depend on the flags they were built with: `make CFLAGS=...` in a tree
# built with other flags rebuilds it instead of mixing the two.
# (make's own file functions: no shell quoting of the flags)
BUILT_WITH = $(CC) $(CFLAGS)
$(B)/cflags: FORCE
	$(shell mkdir -p $(@D))
	$(if $(subst $(file <$@),,$(BUILT_WITH))$(subst $(BUILT_WITH),,$(file <$@)),$(file >$@,$(BUILT_WITH)))
FORCE:

$(OBJ) $(B)/main.o $(B)/compare.o $(B)/gendoc.o $(B)/bench/bench.o $(TSUPPORT) $(TESTS:=.o): $(B)/cflags

$(B)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Isrc -c -o $@ $<

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags cmocka) -Isrc -c -o $@ $<

$(B)/tests/test_%: $(B)/tests/test_%.o $(TSUPPORT) $(B)/libtrain.a
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka)

# a missing library is named with the package that provides it
check-libs:
	@for p in zlib:zlib1g-dev libcjson:libcjson-dev; do \
	  pkg-config --exists $${p%%:*} || { echo "train: missing library $${p%%:*}:" \
	    "run scripts/install-deps.sh (or apt-get install $${p#*:})" >&2; exit 1; }; done
	@[ -e /usr/include/oneapi/dnnl/dnnl.h ] || { echo "train: missing library oneDNN:" \
	    "run scripts/install-deps.sh (or apt-get install libdnnl-dev)" >&2; exit 1; }

deps:
	@scripts/install-deps.sh

data:
	@scripts/fetch-mnist.sh

# the README's two set-up commands
run: deps
	@$(MAKE) --no-print-directory all data
	./train

# optional needs of some suites (test_onnx: the ONNX checker and runtime;
# test_slurm: a throwaway Slurm cluster);
# where they cannot be had, those tests skip and say why
TEST_DEPS := python3-onnx=py:onnx nodejs=cmd:node npm=cmd:npm npm:onnxruntime-node@1.31.1 \
             slurm-wlm=glob:/usr/sbin/slurmd munge=glob:/usr/sbin/munged
test-deps: deps
	@scripts/install-deps.sh $(TEST_DEPS) || \
	  echo "make: optional test needs not installed; the tests that need them skip" >&2

test: test-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) SUITES="$(QUICK_RUN)" run-suites

test-long: test-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) SUITES="$(LONG_RUN)" run-suites

check: test-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) SUITES="$(TEST_RUN)" run-suites

run-suites: all $(TESTS) check-heads check-layers
	@tests/run-tests.sh $(SUITES)

# the heads differ in src/nn/head.c alone: no other source names one
check-heads:
	@if grep -rnE 'HEAD_(SOFTMAX|SIGMOID)' src bench | grep -v '^src/nn/head\.[ch]:'; then \
	  echo "train: the lines above branch on the head outside src/nn/head.c" >&2; exit 1; fi

# A portable build holds no instruction past x86-64-v2 in our own code: no
# AVX register (ymm, zmm) anywhere in train or compare, which a CPU without
# AVX would fault on. (oneDNN, a shared library, dispatches at run time.)
check-portable: $(B)/bin/train $(B)/bin/compare
	@for f in $^; do if objdump -d --no-show-raw-insn $$f | grep -qE '%[yz]mm'; then \
	  echo "train: $$f uses AVX registers: not built with PORTABLE=1 (x86-64-v2)" >&2; exit 1; fi; done
	@echo "check-portable: $^ use no AVX or AVX-512 instruction"

# Mutation testing (tests/mutate.py; long, not part of make check): every named
# mutant must be killed, then the kill rate of a 150-mutant sample over
# src/nn, src/train and src/data (docs/testing.md records the last one).
# MUTATE=--asan builds the mutants as make asan does.
check-mutants: deps
	@tests/mutate.py --named $(MUTATE) && tests/mutate.py -n 150 $(MUTATE)

# the include graph follows the layers of docs/ARCHITECTURE.md, and oneDNN's
# header stays inside src/nn/ (tests/check-layers.sh says which rule)
check-layers:
	@tests/check-layers.sh $(CC) $(PKG_CFLAGS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (leaks
# included), on binaries built apart in build/asan; TIER=quick runs the quick
# tier alone (what CI runs: the long tier drives the same binaries through
# the scripts, at three times the time under ASan).
ASAN_RUN = $(if $(filter quick,$(TIER)),$(QUICK_RUN),$(TEST_RUN))
ifneq ($(filter-out quick all,$(TIER)),)
$(error TIER=$(TIER): quick or all)
endif
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan: test-deps
	@$(MAKE) --no-print-directory -j$(BUILD_JOBS) B=build/asan CFLAGS="$(ASAN_FLAGS)" sanitized-check

sanitized-check: check-libs $(B)/bin/train $(B)/bin/compare $(B)/bin/bench $(B)/bin/gendoc \
                 $(B)/share/$(NAME)/configs $(TESTS) check-heads check-layers
	@TRAIN_BIN=$(B)/bin/train COMPARE_BIN=$(B)/bin/compare BENCH_BIN=$(B)/bin/bench \
	  GENDOC_BIN=$(B)/bin/gendoc \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  tests/run-tests.sh $(ASAN_RUN)

# A short training under valgrind's memcheck. valgrind cannot decode AVX-512:
# build without -march=native and keep oneDNN's generated kernels on AVX2
# (whose 32-byte over-reads of oneDNN's own buffers tests/valgrind-onednn.supp
# explains and suppresses).
valgrind: deps
	@scripts/install-deps.sh valgrind=cmd:valgrind
	@$(MAKE) --no-print-directory B=build/plain CFLAGS="-O1 -g" build/plain/bin/train
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  ONEDNN_MAX_CPU_ISA=AVX2 valgrind --error-exitcode=99 --suppressions=tests/valgrind-onednn.supp \
	    --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet \
	    build/plain/bin/train --epochs 2 --limit-train 1000 --limit-test 500 --hidden 64 \
	    --dropout 0.2 --augment shift:1 --threads 1 --report --save "$$d/m.bin" && \
	  ONEDNN_MAX_CPU_ISA=AVX2 valgrind --error-exitcode=99 --suppressions=tests/valgrind-onednn.supp \
	    --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet \
	    build/plain/bin/train --load "$$d/m.bin" --epochs 0 --limit-test 500 --threads 1 && \
	  echo "valgrind: no errors, no leaks"

# libFuzzer targets for the parsers (stored: a model file's settings), FUZZ_SECONDS each (default 60),
# with their seed corpora in tests/fuzz/corpus/; new findings land in build/fuzz.
FUZZ_SECONDS ?= 60
FUZZERS := idx config model stored args
fuzz: deps
	@scripts/install-deps.sh clang=cmd:clang libclang-rt-14-dev=glob:/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
	@mkdir -p build/fuzz
	@for f in $(FUZZERS); do \
	  clang -g -O1 -std=c11 -D_DEFAULT_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	    -fsanitize=fuzzer,address,undefined -Isrc \
	    $(PKG_CFLAGS) -o build/fuzz/fuzz_$$f tests/fuzz/fuzz_$$f.c $(SRC) $(PKG_LIBS) || exit 1; \
	  mkdir -p build/fuzz/corpus-$$f build/fuzz/crashes-$$f; \
	  echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
	  build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	    -artifact_prefix=build/fuzz/crashes-$$f/ -print_final_stats=1 \
	    build/fuzz/corpus-$$f tests/fuzz/corpus/$$f > build/fuzz/$$f.log 2>&1; rc=$$?; \
	  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss)" build/fuzz/$$f.log; \
	  if [ $$rc -ne 0 ]; then tail -n 40 build/fuzz/$$f.log; \
	    echo "fuzz_$$f: FAILED, input saved in build/fuzz/crashes-$$f/"; exit 1; fi; \
	done

# Benchmarks (bench/run.sh; results in bench/results/): the training loop
# against its products-only bound and the machine's FP32/BF16 peaks, against
# PyTorch, as width, samples and threads grow, and whole-run wall times.
# Run them on an otherwise idle machine.
BENCH_EPOCHS ?= 3
BENCH_ROUNDS ?= 5
bench: deps
	@$(MAKE) --no-print-directory all data
	@bench/run.sh bench -e $(BENCH_EPOCHS)

bench-compare: deps
	@$(MAKE) --no-print-directory all data
	@bench/run.sh compare -e $(BENCH_EPOCHS) -r $(BENCH_ROUNDS)

bench-scaling: deps
	@$(MAKE) --no-print-directory all data
	@bench/run.sh scaling -e $(BENCH_EPOCHS)

bench-wall: deps
	@$(MAKE) --no-print-directory all data
	@bench/run.sh wall

# configs/fast-*.json, seeds 1-5, both heads, whole processes: fails when a
# run misses 99.0% mean / 98.9% min / 15 s (README, "99% in N seconds")
speedrun: deps
	@$(MAKE) --no-print-directory all data
	@bench/speedrun.sh -o bench/results/speedrun-train.md

# the same recipe against PyTorch (fp32 and bf16 autocast), whole processes,
# SPEEDRUN_ROUNDS alternating rounds of SPEEDRUN_SEEDS
SPEEDRUN_ROUNDS ?= 3
SPEEDRUN_SEEDS ?= 1 2 3 4 5
bench-speedrun: deps
	@$(MAKE) --no-print-directory all data
	@bench/run.sh speedrun -r $(SPEEDRUN_ROUNDS) -s "$(SPEEDRUN_SEEDS)"

# the default run idle, beside one busy process, idle again (issue 22)
bench-contention: deps
	@$(MAKE) --no-print-directory all data
	@bench/contention.sh

# Install like a normal tool: make install PREFIX=/usr/local [DESTDIR=/tmp/stage].
# The installed names carry the product's name, mnist-train: "train" alone is
# too generic for a shared bin/ (docs/install.md). The recipes read DESTDIR and
# PREFIX from the environment as "$$DESTDIR$$PREFIX", so a path with spaces,
# quotes or $(...) is a path, never shell code.
PREFIX ?= /usr/local
# Make itself would expand a $(shell ...) or $(VAR) in them (a command-line
# and an environment variable are make text): each is taken as its raw text,
# a $ other than make's escape $$ is refused, and $$ becomes the $ it spells.
PATH_REF = $(findstring $$,$(subst $$$$,,$(value $1)))
$(foreach v,PREFIX DESTDIR,$(if $(call PATH_REF,$v),$(error $v is a path, never make or \
  shell code: write $$$$ for a $$ in it)))
override PREFIX := $(subst $$$$,$$,$(value PREFIX))
override DESTDIR := $(subst $$$$,$$,$(value DESTDIR))
export DESTDIR PREFIX
# every config under configs/, the Nielsen variants (configs/nielsen/variants/) too
CONFIGS := $(shell find configs -name '*.json' -type f | LC_ALL=C sort)
# what install writes, relative to $(DESTDIR)$(PREFIX); uninstall removes these
INSTALLED := bin/$(NAME) bin/$(NAME)-compare bin/$(NAME)-fetch \
  share/man/man1/$(NAME).1 share/man/man1/$(NAME)-compare.1 share/man/man1/$(NAME)-fetch.1 \
  share/bash-completion/completions/$(NAME) $(CONFIGS:%=share/$(NAME)/%)
INSTALLED_DIRS := $(sort $(dir $(filter share/$(NAME)/%,$(INSTALLED)))) share/$(NAME)/

$(B)/bin/gendoc: $(B)/gendoc.o $(B)/libtrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# the man page and the completions, from the option table (src/config/help.c)
$(B)/man/$(NAME).1: $(B)/bin/gendoc
	@mkdir -p $(dir $@)
	$(B)/bin/gendoc man $(NAME) > $@.tmp && mv $@.tmp $@
$(B)/share/bash-completion/completions/$(NAME): $(B)/bin/gendoc
	@mkdir -p $(dir $@)
	$(B)/bin/gendoc completion $(NAME) > $@.tmp && mv $@.tmp $@
# the source tree's: `source build/train.bash-completion` completes ./train
$(B)/train.bash-completion: $(B)/bin/gendoc
	$(B)/bin/gendoc completion train ./train > $@.tmp && mv $@.tmp $@
# the build tree mirrors the installed layout: build/bin/train finds the
# configs by name as an installed binary does, in ../share/mnist-train/configs
$(B)/share/$(NAME)/configs:
	@mkdir -p $(dir $@)
	ln -sfn "$$(pwd)/configs" $@

install: check-libs $(B)/bin/train $(B)/bin/compare $(B)/man/$(NAME).1 \
         $(B)/share/bash-completion/completions/$(NAME)
	@case "$$PREFIX" in /*) ;; *) echo "train: PREFIX: '$$PREFIX' is not an absolute path" >&2; exit 64;; esac
	@grep -qx 'installed=0' scripts/fetch-mnist.sh || { echo "train: scripts/fetch-mnist.sh has no installed=0 line" >&2; exit 70; }
	@set -e; p="$$DESTDIR$$PREFIX"; \
	  install -D -m 755 $(B)/bin/train "$$p/bin/$(NAME)"; \
	  install -D -m 755 $(B)/bin/compare "$$p/bin/$(NAME)-compare"; \
	  sed 's/^installed=0$$/installed=1/' scripts/fetch-mnist.sh > "$$p/bin/$(NAME)-fetch.tmp"; \
	  chmod 755 "$$p/bin/$(NAME)-fetch.tmp"; mv -f "$$p/bin/$(NAME)-fetch.tmp" "$$p/bin/$(NAME)-fetch"; \
	  install -D -m 644 $(B)/man/$(NAME).1 "$$p/share/man/man1/$(NAME).1"; \
	  install -D -m 644 man/$(NAME)-compare.1 "$$p/share/man/man1/$(NAME)-compare.1"; \
	  install -D -m 644 man/$(NAME)-fetch.1 "$$p/share/man/man1/$(NAME)-fetch.1"; \
	  install -D -m 644 $(B)/share/bash-completion/completions/$(NAME) \
	    "$$p/share/bash-completion/completions/$(NAME)"; \
	  for f in $(CONFIGS); do install -D -m 644 "$$f" "$$p/share/$(NAME)/$$f"; done; \
	  echo "installed $(NAME), $(NAME)-compare, $(NAME)-fetch under $$p (docs/install.md)"

# exactly what install wrote, and the folders of ours it leaves empty
uninstall:
	@p="$$DESTDIR$$PREFIX"; for f in $(INSTALLED); do rm -f "$$p/$$f"; done; \
	  for d in $(INSTALLED_DIRS); do echo "$$d"; done | sort -r | \
	    while read -r d; do rmdir "$$p/$$d" 2>/dev/null || true; done

clean:
	rm -rf $(B) build train

-include $(OBJ:.o=.d) $(B)/main.d $(B)/compare.d $(B)/gendoc.d $(TSUPPORT:.o=.d) $(TESTS:=.d) $(B)/bench/bench.d $(B)/bench/peak.d
