#!/usr/bin/env python3
"""Shape of nbdev notebooks: prose/code ratio, test density, documentation coverage, cell length.
Usage: nbshape.py NBS_DIR_OR_NOTEBOOKS...  (prints one row per notebook).

Columns: `md`/`code` cells; `prose_code` = markdown chars / code chars; `test_frac` = share of code cells that
call a `fastcore.test` function (`test_eq(` ...) or `assert`; `exports` = `#| export` cells; `public` = exported
public symbols: top-level `def`/`class` names, `@patch`ed methods (as `Class.name`) and UPPER_CASE constants;
`test_frac_code` = the same share among code cells that are code, not documentation directives (cells holding
only `show_doc(...)` calls, `#| hide` import cells and the `nbdev_export()` cell); `show_doc` = how many of those are documented: functions, classes and methods by a `show_doc(name)` call,
constants (which `show_doc` cannot render: it prints the docstring of `tuple`/`dict`) by being named in
backticks in a markdown cell; `consts` = the constants among `public`; `median_lines`/`max_lines` = non-blank
lines per code cell, `#|` directives not counted.

Changed from the first version (../shared/tools/nbshape.py), which counted only `def`/`class` names as public
symbols and matched `show_doc(` only up to a dot: `@patch`ed methods and constants were invisible, and
`show_doc(Class.method)` counted as documenting `Class`.
"""
import json, re, sys, statistics as st
from pathlib import Path

PATCH = re.compile(r'^@patch\w*(?:\([^)]*\))?\s*\n\s*def\s+(\w+)\s*\(\s*\w+\s*:\s*([\w|. ]+?)\s*[,)=]', re.M)

def public_symbols(src: str) -> tuple:
    "Public (def/class/@patch) names and UPPER_CASE constants defined at the top level of an exported cell."
    patched = {f"{c.split('|')[0].strip()}.{n}" for n, c in PATCH.findall(src) if not n.startswith('_')}
    patched_names = {p.split('.')[1] for p in patched}
    names = set(re.findall(r'^(?:def|class)\s+([A-Za-z]\w*)', src, re.M)) - patched_names
    consts = set(re.findall(r'^([A-Z][A-Z0-9_]*)\s*(?::[^=\n]+)?=(?!=)', src, re.M))
    return names | patched, consts

_DOC = re.compile(r'^\s*(show_doc\(.*\)\s*;?|from\s+\S+\s+import\s.*|import\s.*|nbdev\.nbdev_export\(\).*)\s*$')

def is_doc_cell(src: str) -> bool:
    "A cell of documentation directives only: `show_doc` calls, a `#| hide` cell of imports, or the `nbdev_export()` cell."
    lines = [l for l in src.splitlines() if l.strip() and not l.lstrip().startswith('#')]
    hide = re.search(r'^#\|\s*hide', src, re.M) is not None
    return bool(lines) and all(_DOC.match(l) and (l.lstrip().startswith('show_doc') or hide) for l in lines)

def shape(p):
    nb = json.loads(Path(p).read_text())
    md = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown']
    code = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
    exp = [c for c in code if re.search(r'^#\|\s*export', c, re.M)]
    tests = [c for c in code if re.search(r'\btest_\w+\(|\bassert\b', c)]
    real = [c for c in code if not is_doc_cell(c)]
    names, consts = set(), set()
    for c in exp:
        n, k = public_symbols(c); names |= n; consts |= k
    shown = set(re.findall(r'show_doc\(\s*([\w.]+)', '\n'.join(code)))
    in_prose = set(re.findall(r'`([A-Z][A-Z0-9_]*)`', '\n'.join(md)))
    lines = [len([l for l in c.splitlines() if l.strip() and not l.lstrip().startswith('#|')]) for c in code] or [0]
    mdc, cc = sum(map(len, md)), max(1, sum(map(len, code)))
    return dict(nb=Path(p).name, md=len(md), code=len(code), prose_code=round(mdc/cc, 2),
                test_frac=round(len(tests)/max(1, len(code)), 2), test_frac_code=round(len(tests)/max(1, len(real)), 2), exports=len(exp),
                public=len(names) + len(consts), show_doc=len(names & shown) + len(consts & in_prose),
                consts=len(consts), median_lines=st.median(lines), max_lines=max(lines))

def notebooks(args):
    for a in args:
        p = Path(a)
        yield from (sorted(p.glob('*.ipynb')) if p.is_dir() else [p])

if __name__ == '__main__':
    rows = [shape(p) for p in notebooks(sys.argv[1:] or ['nbs'])]
    keys = list(rows[0]) if rows else []
    print('\t'.join(keys))
    for r in rows: print('\t'.join(str(r[k]) for k in keys))
