#!/usr/bin/env python3
"""Mutation testing by hand-rolled single-point mutants (Debian packages no C
mutation tool: no mull, no dextool). Not run by `make check`.

    tests/mutate.py [-n N] [--seed S] [--asan] [--tests "test_train ..."] [FILE...]
    tests/mutate.py --named [--tests ...]
    tests/mutate.py --only 4,17 [--asan]     (some of the sample again, by place)

--named runs the hand-written bugs in NAMED instead: the ones issue 11 quotes
(no reshuffle, dropout at evaluation, --augment ignored, a momentum bug) and
their kin; each must be killed (exit 1 when one survives). `make
check-mutants` runs both; docs/testing.md records the last rates.

Copies the checkout to a temporary directory, generates every single-point
mutant of FILE... (default: every .c file of src/train, src/nn and src/data)
-- a comparison flipped (< <= > >= == !=), an arithmetic operator swapped
(+ - * /, += -=), && <-> ||, a ternary's branches swapped, an integer
constant changed (0 -> 1, n -> n+1), a statement dropped; never inside a
string or character literal -- samples N of them with a fixed seed (all with
-n 0), and for each: applies it, rebuilds (the one object, the library, the
links), runs the test binaries (default: the unit suites and the cheap ones
that cover the rest of those directories: test_deskew, test_classes,
test_limits), the cheapest first, and records KILLED (a test failed, crashed
or passed its limit), SURVIVED, or UNVIABLE (did not compile). Each suite's
limits come from its unmutated run: CPU time (RLIMIT_CPU, which a loaded
machine does not stretch) and, for a mutant that sleeps, wall time. --asan
builds as `make asan` does, so a mutant that only reads or writes out of
bounds is killed too. Prints one line per mutant, then the kill rate =
killed / (killed + survived). The checkout itself is never modified.
"""
import argparse
import glob
import hashlib
import math
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# the suites a mutant may meet (run the cheapest first, by their unmutated
# CPU time): the unit suites, then the cheap ones that cover the rest of
# src/train, src/nn and src/data (deskew.c; outstats.c through compare;
# budget.c and the trainer's limits through ./train; par.c's team and its
# start-up environment through test_machine; the kept best epoch through
# test_patience)
UNIT = ("test_stats test_task test_head test_train test_nn test_config test_dense test_data "
        "test_distort test_deskew test_classes test_limits test_machine test_patience")
FLIPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
ARITH = {" + ": " - ", " - ": " + ", " * ": " / ", " / ": " * ", "+=": "-=", "-=": "+=",
         "&&": "||", "||": "&&"}
CMP = re.compile(r"(?<![<>=!-])(<=|>=|==|!=|<|>)(?![<>=])")
NUM = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
TERNARY = re.compile(r"\?\s*([^:?;]+?)\s*:\s*([^;,)]+)")
DECL = re.compile(r"^\s*(const\s+)?(static\s+)?(struct\s+\w+|enum\s+\w+|int|float|double|"
                  r"size_t|uint\d+_t|long long|unsigned|char|void)\b")


# (what, file, text, replacement): bugs a careless edit of the loop would make
NAMED = [
    ("no reshuffle after epoch 1", "src/train/train.c",
     "if (p->next == 0)\n", "if (p->next == 0 && p->epoch == 0)\n"),
    ("dropout on at evaluation", "src/train/train.c",
     "mlp_forward(m, nb, NULL)", "mlp_forward(m, nb, &t->dropout)"),
    ("--augment ignored", "src/train/train.c",
     "t->distort, &t->augment);", "NULL, &t->augment);"),
    ("augmentation at evaluation", "src/train/train.c",
     "t->targets, NULL, NULL);", "t->targets, t->distort, &t->augment);"),
    ("momentum velocity not kept", "src/nn/optim.c",
     "*beta = fused(o) ? o->momentum : 0.0f;", "*beta = 0.0f;"),
    ("momentum coefficient ignored", "src/nn/optim.c",
     "*beta = fused(o) ? o->momentum : 0.0f;", "*beta = fused(o) ? 1.0f : 0.0f;"),
    ("schedule not applied", "src/train/train.c",
     "(float)s->lr))", "(float)t->cfg->lr))"),
    ("partial last batch dropped", "src/train/train.c",
     "while (p->next < n) {", "while (p->next + (uint32_t)B <= n) {"),
    ("validation taken from training rows", "src/train/train.c",
     "dataset_slice(train, n - (uint32_t)c->val, (uint32_t)c->val)",
     "dataset_slice(train, 0, (uint32_t)c->val)"),
    ("evaluation stops after its first batch", "src/train/train.c",
     "from < s->n; from += step)", "from < s->n; from -= step)"),
    ("outputs not kept for --report", "src/train/train.c",
     "        if (probs)\n            memcpy", "        if (0 && probs)\n            memcpy"),
    ("train_loss averaged over batches", "src/train/train.c",
     "s->train_loss = p->loss / n;", "s->train_loss = p->loss / ((n + B - 1) / B) / B;"),
    ("train accuracy of the last batch", "src/train/train.c",
     "p->correct += score.correct;", "p->correct = score.correct;"),
    ("gradient summed, not averaged, over the batch", "src/nn/head.c",
     "float scale = 1.0f / ((float)B * div);", "float scale = 1.0f / div;"),
    ("seed not reaching init", "src/train/train.c",
     "mlp_init(t->model, seed);", "mlp_init(t->model, 1);"),
    ("seed not reaching the order", "src/train/train.c",
     "rng_seed(&t->shuffle, seed,", "rng_seed(&t->shuffle, 1,"),
    ("seed not reaching dropout", "src/train/train.c",
     "rng_seed(&t->dropout, seed,", "rng_seed(&t->dropout, 1,"),
    ("seed not reaching augmentation", "src/train/train.c",
     "rng_seed(&t->augment, seed,", "rng_seed(&t->augment, 1,"),
    ("seed not reaching pairs", "src/train/train.c",
     "task_set_init(&t->train, &t->task, train, seed,", "task_set_init(&t->train, &t->task, train, 1,"),
    ("weight decay on the biases too", "src/nn/mlp.c",
     "m->n_weights, m->n_params, 0, NULL);", "m->n_weights, m->n_params, 1, NULL);"),
    ("evaluation fed through the dropout buffer", "src/nn/mlp.c",
     "return training ? m->a[l] : m->h[l];", "return m->a[l];"),
    ("dropout not reaching the next layer", "src/nn/mlp.c",
     "return training ? m->a[l] : m->h[l];", "return m->h[l];"),
    ("every warp the same", "src/data/distort_lanes.c",
     "key[b] = rng_next(r);", "key[b] = 1;"),
    ("elastic field not smoothed", "src/data/smooth.c",
     "        smooth_dense(w, out, in, scale);", "        memcpy(out, in, sizeof(float) * (size_t)w->rows * (size_t)w->cols);"),
    ("augmentation draws depend on the thread", "src/data/distort_lanes.c",
     "in[c0 + b], key[b], labels", "in[c0 + b], key[b] + (uint64_t)omp_get_thread_num(), labels"),
    ("sigmoid head told the count", "src/nn/head.c",
     "if (h->kind == HEAD_SOFTMAX)\n        return top_k(z, n, k);", "return top_k(z, n, k);"),
]


def named_mutants(root):
    for what, f, old, new in NAMED:
        text = open(os.path.join(root, f)).read()
        if old not in text:
            sys.exit(f"mutate: {f}: no '{old}' for '{what}' (update NAMED)")
        i = text.index(old)
        no = text.count("\n", 0, i) + 1
        lines = text.split("\n")
        end = no + old.count("\n")
        before = "\n".join(lines[no - 1:end])
        yield f, no, before, before.replace(old, new, 1), what


def code_lines(path):
    """(line number, text) of the lines worth mutating: no comments, no
    preprocessor, not inside a block comment"""
    out, in_comment = [], False
    for no, line in enumerate(open(path).read().split("\n"), 1):
        s = line.strip()
        if in_comment:
            in_comment = "*/" not in s
            continue
        if s.startswith("/*"):
            in_comment = "*/" not in s
            continue
        if not s or s.startswith(("#", "//", "*")):
            continue
        out.append((no, line))
    return out


LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


def mutants_of(path):
    for no, line in code_lines(path):
        code = line.split("/*")[0]
        # a string's or a character's contents are text, not code: blanked,
        # so no mutant edits a message
        code = LITERAL.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1],
                           code)
        masked = code.replace("->", "  ")
        for m in CMP.finditer(masked):
            if m.group(1) in ("<", ">") and re.search(r"\w<\w+>", code):
                continue
            yield no, line, line[:m.start()] + FLIPS[m.group(1)] + line[m.end():], \
                f"{m.group(1)} -> {FLIPS[m.group(1)]}"
        for a, b in ARITH.items():
            start = 0
            while (i := code.find(a, start)) >= 0:
                start = i + 1
                if a in ("+=", "-=") and i > 0 and code[i - 1] in "+-":
                    continue
                yield no, line, line[:i] + b + line[i + len(a):], f"'{a.strip()}' -> '{b.strip()}'"
        for m in TERNARY.finditer(code):
            a, b = line[m.start(1):m.end(1)], line[m.start(2):m.end(2)]
            yield no, line, line[:m.start()] + f"? {b} : {a}" + line[m.end():], "swap ?: branches"
        for m in NUM.finditer(masked):
            if re.search(r"\[\s*" + m.group(1) + r"\s*\]", code) and DECL.match(code):
                continue   # array sizes in declarations
            n = int(m.group(1))
            r = "1" if n == 0 else ("0" if n == 1 else str(n + 1))
            yield no, line, line[:m.start()] + r + line[m.end():], f"{n} -> {r}"
        s = code.strip()
        if s.endswith(";") and not DECL.match(code) and not s.startswith(("return", "break",
                                                                           "continue", "}")):
            indent = line[:len(line) - len(line.lstrip())]
            yield no, line, indent + ";", "drop statement"


def sh(cmd, cwd, timeout=None, env=None):
    try:
        return subprocess.run(cmd, cwd=cwd, shell=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=timeout, env=env).returncode
    except subprocess.TimeoutExpired:
        return "timeout"


def suite(binary, cwd, env, cpu=None, wall=None):
    """Run one test binary: (exit status or "timeout", wall seconds, CPU
    seconds of it and its children, the tests that failed). cpu limits each process's CPU time
    (RLIMIT_CPU, which a loaded machine does not stretch: a mutant that loops
    is stopped by it whatever the load); wall is the limit for one that
    sleeps. The binary runs in a session of its own, so a timeout ends
    everything it started."""
    def limit():
        if cpu:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    log = open(os.path.join(cwd, "suite.log"), "w+")
    p = subprocess.Popen([binary], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=limit, start_new_session=True)
    try:
        rc = p.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        rc = "timeout"
    # whatever the verdict, nothing it started outlives it
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    log.seek(0)
    # the tests that failed, as cmocka names them: a kill says which test saw it
    failed = sorted(set(re.findall(r"^\[  FAILED  \] ([A-Za-z_]\w*)$", log.read(), re.M)))
    log.close()
    return rc, time.monotonic() - t0, used, failed


def needs(work, t):
    """what suite t runs: its binary, and ./train, compare and gendoc when its
    source calls them (through tests/support)"""
    src = open(os.path.join(work, "tests", t + ".c")).read()
    out = [f"build/tests/{t}"]
    if re.search(r"run_train|train_bin|test_bins", src):
        out.append("train")     # the link the suites run, ./train
    if re.search(r"\bcompare\b|COMPARE_BIN|test_bins", src):
        out.append("build/bin/compare")
    if re.search(r"gendoc|test_bins", src):
        out.append("build/bin/gendoc")
    return out


def digest(work, paths):
    h = hashlib.sha256()
    for p in paths:
        with open(os.path.join(work, p), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def obj_of(work, f):
    """the object make builds from source f (None for a header)"""
    if not (f.startswith("src/") and f.endswith(".c")):
        return None
    return os.path.join(work, "build", f[len("src/"):-2] + ".o")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=150, help="mutants to sample (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tests", default=UNIT, help="test binaries to run, by name")
    ap.add_argument("--cpu-factor", type=float, default=10,
                    help="a suite's CPU-time limit, in multiples of its unmutated run's "
                         "(at least 20 s)")
    ap.add_argument("--timeout", type=int, default=0,
                    help="seconds of wall time per test binary (default: 50 times its "
                         "unmutated run's, at least 600 s: only for a mutant that sleeps, "
                         "generous, as the load may rise)")
    ap.add_argument("-j", type=int, default=2, help="make's jobs for each rebuild")
    ap.add_argument("--asan", action="store_true",
                    help="build with AddressSanitizer and UBSan (as make asan does): "
                         "a mutant that reads or writes out of bounds is killed")
    ap.add_argument("--named", action="store_true", help="run the NAMED bugs")
    ap.add_argument("--all-killers", action="store_true",
                    help="run every suite on each mutant, to say which ones catch it")
    ap.add_argument("--new", default="",
                    help="suites also left out for a 'without' kill rate (run last)")
    ap.add_argument("--only", default="",
                    help="run only the chosen mutants at these 1-based places of the "
                         "printed list (e.g. 3,17: a survivor again)")
    ap.add_argument("--list", action="store_true",
                    help="print the chosen mutants and stop (no build)")
    ap.add_argument("--skip-baseline", action="store_true",
                    help="do not time the unmutated tree's suites (a rerun, or shards "
                         "of one sample run side by side): fixed limits, 30 s CPU (at "
                         "--cpu-factor 10: 6 times test_limits's) and --timeout or 3600 s wall")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # the training loop, the network and the data, every file of them
    # (checkpoint.c and the config are the CLI suites' business: test_model,
    # test_cli, too slow to run per mutant)
    files = a.files or sorted(glob.glob(os.path.join(root, "src/train/*.c")) +
                              glob.glob(os.path.join(root, "src/nn/*.c")) +
                              glob.glob(os.path.join(root, "src/data/*.c")))
    files = [os.path.relpath(os.path.abspath(f), root) for f in files]
    if a.named:
        all_mutants = chosen = list(named_mutants(root))
        files = sorted({m[0] for m in chosen})
    else:
        all_mutants = [(f, *m) for f in files for m in mutants_of(os.path.join(root, f))]
        random.Random(a.seed).shuffle(all_mutants)
        chosen = all_mutants if a.n == 0 else all_mutants[:a.n]
        chosen.sort(key=lambda m: (m[0], m[1]))
    places = list(range(1, len(chosen) + 1))
    if a.only:
        want = {int(x) for x in a.only.split(",")}
        places = [i for i in places if i in want]
    if a.list:
        for i in places:
            f, no, _, new, what = chosen[i - 1]
            print(f"{i:4} {f}:{no}: {what}: {' '.join(new.split())}")
        return
    tests = a.tests.split()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # still clean up
    work = tempfile.mkdtemp(prefix="train-mutate.")
    env = dict(os.environ)
    # a test's OpenMP threads sleep at a barrier instead of spinning, so CPU
    # time measures work, not waiting (as tests/run-tests.sh runs them)
    env.setdefault("OMP_WAIT_POLICY", "passive")
    env.setdefault("MNIST_DIR", os.path.join(root, "data"))
    flags = "-O1 -g0"
    if a.asan:
        flags += " -fsanitize=address,undefined -fno-sanitize-recover=all"
        env.update(ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    counts = {}
    try:
        for d in ("src", "tests", "bench", "configs"):
            shutil.copytree(os.path.join(root, d), os.path.join(work, d))
        for f in ("Makefile", "README.md"):
            shutil.copy(os.path.join(root, f), work)
        # the checkout's build tree too, times kept: where it was built with
        # these flags (build/cflags says), the first build has little to do
        if os.path.isdir(os.path.join(root, "build")):
            shutil.copytree(os.path.join(root, "build"), os.path.join(work, "build"),
                            symlinks=True, ignore=shutil.ignore_patterns("asan", "plain", "dev"))
        # A mutant's rebuild is its one object and the library; each suite's
        # binaries are linked only when it is about to run, so a mutant the
        # first suite kills costs one link. A suite whose binaries come out
        # the same bytes as the unmutated tree's (the mutated object is not
        # in them) cannot see the mutant and is not run.
        make = f"make -s -j{a.j} CFLAGS='{flags}'"
        need = {t: needs(work, t) for t in tests}
        if sh(f"{make} {' '.join(sorted({p for t in tests for p in need[t]}))}", work) != 0:
            sys.exit("mutate: the unmutated tree does not build")
        same = {t: digest(work, need[t]) for t in tests}   # (opens each: all are there)
        # each suite's limits from its unmutated run, here, under this load
        limits, cost = {}, {}
        for t in tests:
            if a.skip_baseline:
                limits[t] = (math.ceil(30 * a.cpu_factor / 10), a.timeout or 3600)
                continue
            rc, wall, cpu, _ = suite(f"build/tests/{t}", work, env)
            if rc != 0:
                sys.exit(f"mutate: the unmutated tree fails {t} (exit {rc})")
            cost[t] = cpu
            limits[t] = (max(20, math.ceil(a.cpu_factor * cpu)), a.timeout or max(600, math.ceil(50 * wall)))
            print(f"{t}: {wall:.1f} s, {cpu:.1f} s CPU unmutated: limits {limits[t][0]} s CPU, "
                  f"{limits[t][1]} s wall", flush=True)
        # the cheapest first: a mutant stops at the first suite that kills it
        if not a.skip_baseline:
            tests.sort(key=lambda t: cost[t])
        print(f"{len(places)} of {len(all_mutants)} mutants of {' '.join(files)}; "
              f"tests: {' '.join(tests)}{' (ASan, UBSan)' if a.asan else ''}", flush=True)
        new_tests = [t for t in tests if t in a.new.split()]
        old_tests = [t for t in tests if t not in new_tests]
        counts.update({"KILLED": 0, "SURVIVED": 0, "UNVIABLE": 0})
        killed_without = 0
        pristine = os.path.join(work, "pristine.o")
        for place in places:
            f, no, old, new, what = chosen[place - 1]
            path = os.path.join(work, f)
            text = open(path).read()
            st = os.stat(path)
            obj = obj_of(work, f)
            if obj and os.path.exists(obj):
                shutil.copy2(obj, pristine)
            lines = text.split("\n")
            span = old.count("\n") + 1
            assert "\n".join(lines[no - 1:no - 1 + span]) == old
            lines[no - 1:no - 1 + span] = [new]
            open(path, "w").write("\n".join(lines))
            killers = []
            how = ""
            blind = 0      # suites whose binaries do not hold the mutant
            verdict = None
            if sh(f"{make} build/libtrain.a", work) != 0:
                verdict = "UNVIABLE"
            else:
                # the older suites first: a mutant they kill needs no newer one
                # (--all-killers runs them all, to say which suites catch it)
                for group in (old_tests, new_tests):
                    if verdict or (killers and not a.all_killers):
                        break
                    for t in group:
                        if sh(f"{make} {' '.join(need[t])}", work) != 0:
                            verdict = "UNVIABLE"   # compiles, does not link
                            break
                        if digest(work, need[t]) == same[t]:
                            blind += 1
                            continue
                        rc, wall, _, failed = suite(f"build/tests/{t}", work, env, *limits[t])
                        if rc != 0:
                            killers.append(t)
                            how = how or ("timeout" if rc == "timeout" else
                                          f"signal {-rc}" if rc < 0 else
                                          f"exit {rc}: {' '.join(failed[:3])}")
                            if not a.all_killers:
                                break
                if not verdict:
                    verdict = "KILLED" if killers else "SURVIVED"
                    killed_without += any(t in old_tests for t in killers)
            # the source and its object back as they were (their old times):
            # the next rebuild compiles only the next mutant's file
            open(path, "w").write(text)
            if obj and os.path.exists(pristine):
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
                shutil.copy2(pristine, obj)
            else:
                os.utime(path, None)
            counts[verdict] += 1
            shown = " ".join(new.split())
            print(f"{verdict:8} {place:3} {f}:{no}: {what}: {shown}"
                  f"{'  [' + ' '.join(killers) + ', ' + how + ']' if killers else ''}"
                  f"{f'  ({blind} suites without it)' if verdict == 'SURVIVED' and blind else ''}",
                  flush=True)
        k, s = counts["KILLED"], counts["SURVIVED"]
        print(f"killed {k}, survived {s}, unviable {counts['UNVIABLE']}: "
              f"kill rate {100.0 * k / max(1, k + s):.1f}%")
        if new_tests and old_tests:
            print(f"without {' '.join(new_tests)}: killed {killed_without}: "
                  f"kill rate {100.0 * killed_without / max(1, k + s):.1f}%")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # a named bug is one the suites must catch
    if a.named and counts["SURVIVED"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
