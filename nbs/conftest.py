"""pytest + nbval configuration for running the notebooks without nbdev (the current-fastai CI stack).

nbval knows nothing of nbdev's cell directives, so this skips, per cell, what `nbdev_test` skips:
cells flagged with any of settings.ini's `tst_flags` (`#| slow`, `#| cuda`), `#| eval: false` cells,
the `nbdev_export()` cell, and the documentation-only cells (`from nbdev...` imports, `show_doc(...)`),
since nbdev 3 (the only nbdev that installs beside fastcore 2) refuses a settings.ini project.
Notebooks with `skip_exec: true` front matter are not collected. Skipping a cell keeps the kernel state,
so later cells still run.
"""
import configparser, json, re
from pathlib import Path
import pytest

_cfg = configparser.ConfigParser(delimiters=['='])
_cfg.read(Path(__file__).parent.parent/'settings.ini')
SKIP_FLAGS = set(_cfg['DEFAULT'].get('tst_flags', '').split())
_directive = re.compile(r'^\s*#\s*\|\s*([\w-]+):?\s*(.*)$')
_doc_only = re.compile(r'^\s*(from\s+nbdev[\w.]*\s+import\s.*|import\s+nbdev.*|show_doc\(.*\)\s*;?)\s*$')

def nbdev_skip(src: str) -> str|None:
    "Why nbdev_test would not run this cell (or it only builds docs), else None."
    code = []
    for line in src.splitlines():
        m = _directive.match(line)
        if m:
            k, v = m.group(1), m.group(2).strip().lower()
            if k == 'eval' and v.startswith('false'): return 'eval: false'
            if k in SKIP_FLAGS: return f'flag {k}'
            continue
        if line.strip() and not line.strip().startswith('#'): code.append(line)
    if 'nbdev_export(' in src: return 'nbdev_export'
    if code and all(_doc_only.match(l) for l in code): return 'documentation only (nbdev)'
    return None

def pytest_ignore_collect(collection_path, config):
    p = Path(collection_path)
    if p.suffix == '.ipynb':
        if p.name.startswith(('_', '.')): return True
        try: nb = json.loads(p.read_text())
        except Exception: return None
        for c in nb.get('cells', [])[:2]:
            if c.get('cell_type') == 'raw' and re.search(r'skip_exec:\s*true', ''.join(c.get('source', ''))): return True
    return None

def pytest_collection_modifyitems(config, items):
    for it in items:
        cell = getattr(it, 'cell', None)          # nbval's IPyNbCell
        if cell is None: continue
        why = nbdev_skip(cell.source)
        if why: it.add_marker(pytest.mark.skip(reason=f'nbdev: {why}'))
        # nbdev_clean keeps outputs (figures for readers) but drops execution counts; nbval then calls such a
        # cell an "unrun reference cell with outputs" and fails it. Under --nbval-lax outputs are not compared,
        # so mark stored cells as run.
        if cell.get('outputs') and cell.get('execution_count') is None: cell.execution_count = 1
