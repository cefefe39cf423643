#!/usr/bin/env python
"""Execute a notebook top to bottom and store its outputs in place (for chapters whose pictures and tables are
read from the notebook itself, e.g. the `#| slow` benchmark). Honours nbdev's `#| eval: false` and the
`tst_flags` directives like `nbdev_test` does: a flagged cell runs only when its flag is passed (`--slow`).
Stops at the first failing cell and leaves the notebook untouched then. Usage:
    python .ci/run_store.py nbs/90_bench_mi.ipynb [--slow] [--cuda]
"""
import os, re, sys
# library deprecation notices (fastai importing torch.jit.script under torch 2.14) are not results: keep them out of stored outputs
os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")          # for the worker processes notebooks start
import warnings; warnings.filterwarnings("ignore", category=FutureWarning)   # for this process, where the cells run
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def _directives(src: str) -> dict:
    "nbdev-style `#| key: value` / `#| flag` lines at the top of a cell."
    out = {}
    for line in src.splitlines():
        m = re.match(r'\s*#\|\s*([\w-]+)\s*:?\s*(.*)', line)
        if not m: continue
        out[m.group(1).lower()] = m.group(2).strip()
    return out

def main(path: str, *flags: str):
    path = Path(path).resolve()
    on = {f.lstrip('-') for f in flags}
    nb = read_nb(path)
    def skip(cell) -> bool:
        if cell.cell_type != 'code': return True
        d = _directives(cell.source)
        if d.get('eval', '').lower() == 'false': return True
        return any(f in d and f not in on for f in ('slow', 'cuda'))
    os.chdir(path.parent)
    sh = CaptureShell(path)
    for i, cell in enumerate(nb.cells):
        if skip(cell): continue
        print(f'[run_store] cell {i}: {cell.source.splitlines()[0][:70] if cell.source else ""}', flush=True)
        cell.outputs = []                          # a cell that now prints nothing must not keep its old outputs
        sh.cell(cell)
        if sh.exc:
            print(cell.source, file=sys.stderr)
            raise sh.exc
    write_nb(nb, path)
    print(f'[run_store] {path.name}: all cells passed, outputs stored')

if __name__ == '__main__': main(*sys.argv[1:])
