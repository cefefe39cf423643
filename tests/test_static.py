"Static checks notebooks cannot make: every exported module has its own imports (a name that only a notebook's test cell imported works in the notebook and fails for users)."
import subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def test_no_undefined_names_in_library():
    pytest.importorskip('pyflakes')
    r = subprocess.run([sys.executable, '-m', 'pyflakes', *map(str, sorted((ROOT/'mani_nbdev').glob('*.py')))], capture_output=True, text=True)
    bad = [l for l in r.stdout.splitlines() if 'undefined name' in l]
    assert not bad, '\n'.join(bad)
