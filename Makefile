# train: build, test, fetch data, run.  `make run` and `make test` work on a bare
# Debian machine: both first install what is missing (scripts/install-deps.sh).
PKGS     := zlib libcjson openblas
CC       ?= gcc
# -march=native: the binary is built where it runs; ISO C mode (-std=c11) keeps
# -ffp-contract=off, so results do not depend on whether FMA is used
CFLAGS   ?= -O3 -march=native -g
CFLAGS   += -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -D_DEFAULT_SOURCE -MMD -MP
# deferred (=): evaluated only inside recipes, after the dependencies are installed
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lm
B        := build

SRC      := $(wildcard src/*/*.c)
OBJ      := $(SRC:src/%.c=$(B)/%.o)
TESTS    := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/test_*.c))
TSUPPORT := $(patsubst tests/%.c,$(B)/tests/%.o,$(wildcard tests/support/*.c))

.PHONY: all run test check check-libs deps data clean
.SECONDARY:
all: check-libs train $(B)/bin/compare

# ./train at the top of the checkout is a link to the real binary
train: $(B)/bin/train
	ln -sf $(B)/bin/train train

$(B)/bin/train: $(B)/main.o $(B)/libtrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bin/compare: $(B)/compare.o $(B)/libtrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/libtrain.a: $(OBJ)
	$(AR) rcs $@ $^

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
	@for p in zlib:zlib1g-dev libcjson:libcjson-dev openblas:libopenblas-dev; do \
	  pkg-config --exists $${p%%:*} || { echo "train: missing library $${p%%:*}:" \
	    "run scripts/install-deps.sh (or apt-get install $${p#*:})" >&2; exit 1; }; done

deps:
	@scripts/install-deps.sh

data:
	@scripts/fetch-mnist.sh

# the README's two set-up commands
run: deps
	@$(MAKE) --no-print-directory all data
	./train

test: deps
	@$(MAKE) --no-print-directory check

check: all $(TESTS)
	@tests/run-tests.sh $(TESTS)

clean:
	rm -rf $(B) train

-include $(OBJ:.o=.d) $(B)/main.d $(B)/compare.d $(TSUPPORT:.o=.d) $(TESTS:=.d)
