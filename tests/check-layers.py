#!/usr/bin/env python3
"""The include graph of src/ against the layers of docs/ARCHITECTURE.md.

Dependencies point one way: each directory of src/ includes only from the
directories listed for it in LAYERS. config/ may also take from nn/ and data/
their leaf headers (the enum name lists, the augmentation spec: headers that
include nothing but util/, the C library and other leaf headers), so that no
setting pulls in a module. oneDNN's header is reached, directly or through
other headers, only from src/nn/ (and bench/, which is not checked).
Prints every include that breaks a rule and exits 1. Run from the checkout."""
import os
import re
import sys

LAYERS = {
    'util': {'util'},
    'stats': {'stats', 'util'},
    'data': {'data', 'util'},
    'nn': {'nn', 'util'},
    'config': {'config', 'util'},
    'train': {'train', 'config', 'data', 'nn', 'util'},
    'report': {'report', 'train', 'config', 'data', 'nn', 'util'},
    'model': {'model', 'report', 'train', 'config', 'data', 'nn', 'util'},
}
LEAF_FROM = {'config': {'nn', 'data'}}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
LIBRARY = re.compile(r'dnnl|cjson|zlib|cmocka|omp\.h', re.I)


def includes(path):
    """(kind, name) of each #include; a quoted name as a path from the checkout"""
    with open(path, encoding='utf-8') as f:
        found = INCLUDE.findall(f.read())
    return [(k, os.path.normpath(os.path.join(os.path.dirname(path), n)) if k == '"' else n)
            for k, n in found]


def reaches(path, seen):
    """every name path reaches through its includes, into seen"""
    for kind, name in includes(path):
        if name not in seen:
            seen.add(name)
            if kind == '"' and os.path.exists(name):
                reaches(name, seen)
    return seen


def leaf(header):
    """includes nothing but util/, the C library and other leaf headers"""
    return all(not LIBRARY.search(name) if kind == '<' else
               name.startswith('src/util/') or leaf(name) for kind, name in includes(header))


def main():
    bad = []
    for d, _, names in sorted(os.walk('src')):
        for path in sorted(os.path.join(d, n) for n in names if n.endswith(('.c', '.h'))):
            parts = path.split('/')
            layer = parts[1] if len(parts) > 2 else None   # None: src/main.c and the like
            if layer != 'nn':
                dnnl = [n for n in reaches(path, set()) if 'dnnl' in n]
                if dnnl:
                    bad.append(f'{path}: reaches {dnnl[0]}, which is private to src/nn/')
            if layer is None:
                continue
            for kind, name in includes(path):
                if kind != '"':
                    continue
                to = name.split('/')[1] if name.startswith('src/') else None
                if to in LAYERS.get(layer, set()):
                    continue
                if to in LEAF_FROM.get(layer, set()) and leaf(name):
                    continue
                bad.append(f'{path}: {layer}/ includes {name}')
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        print('train: the includes above break the layers of docs/ARCHITECTURE.md',
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
