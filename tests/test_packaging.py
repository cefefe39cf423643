"""Packaging: metadata from settings.ini, the console script, what the sdist and the wheel built FROM it carry,
that the wheel finds its real samples outside the checkout, that every import is a declared dependency, and the
docs site's nbdev/Quarto config and the GitHub workflows (neither can run here, so their YAML is checked)."""
import ast, configparser, hashlib, os, re, shlex, subprocess, sys, tarfile, zipfile
from importlib.metadata import distribution, packages_distributions, PackageNotFoundError
from importlib.util import find_spec
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); cfg = cfg['DEFAULT']
MODULES = sorted(p.name for p in (ROOT/'mani_nbdev').glob('*.py'))
REAL = ROOT/'nbs'/'data'/'real'
REAL_FILES = sorted(p.relative_to(REAL).as_posix() for p in REAL.rglob('*') if p.is_file())

def test_installed_metadata_matches_settings():
    d = distribution('mani-nbdev')
    assert d.version == cfg['version']
    import mani_nbdev; assert mani_nbdev.__version__ == cfg['version']
    reqs = ' '.join(d.requires or [])
    assert 'fastai>=2.8.6' in reqs and '<2.8.8' not in reqs.split('extra ==')[0]     # runtime fastai is not capped
    assert any(ep.name == 'mani-nbdev' for ep in d.entry_points if ep.group == 'console_scripts')

def test_tst_flags_space_separated():
    assert cfg['tst_flags'].split() == ['slow', 'cuda']

# ---- sdist, then the wheel built from the sdist (as `python -m build` and `pip install mani_nbdev-*.tar.gz` do) ----
@pytest.fixture(scope='module')
def dists(tmp_path_factory):
    "(sdist, wheel): `python -m build` builds the sdist from the tree, then the wheel from the unpacked sdist."
    pytest.importorskip('build')
    out = tmp_path_factory.mktemp('dist')
    iso = [] if find_spec('setuptools') is None else ['--no-isolation']      # offline where setuptools is at hand
    r = subprocess.run([sys.executable, '-m', 'build', *iso, '--outdir', str(out), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert 'Building wheel from sdist' in r.stdout + r.stderr
    return next(out.glob('mani_nbdev-*.tar.gz')), next(out.glob('mani_nbdev-*.whl'))

def test_sdist_carries_what_the_build_needs(dists):
    with tarfile.open(dists[0]) as t: names = {n.split('/', 1)[1] for n in t.getnames() if '/' in n}
    for f in ('settings.ini', 'setup.py', 'README.md', 'LICENSE', 'MANIFEST.in', 'CHANGELOG.md', 'nbs/data/README.md'): assert f in names, f
    for m in MODULES: assert f'mani_nbdev/{m}' in names, m
    for f in REAL_FILES: assert f'nbs/data/real/{f}' in names, f
    assert any(f.startswith('licenses/') for f in REAL_FILES)

def test_wheel_carries_modules_and_real_samples(dists):
    from mani_nbdev.data import REAL_SAMPLES
    z = zipfile.ZipFile(dists[1]); names = set(z.namelist())
    for m in MODULES: assert f'mani_nbdev/{m}' in names, m
    for f in REAL_FILES + ['README.md']: assert f'mani_nbdev/real/{f}' in names, f
    for name, spec in REAL_SAMPLES.items():                                 # the pinned bytes, not just the names
        for rel, sha in spec['file_sha256'].items(): assert hashlib.sha256(z.read(f'mani_nbdev/real/{name}/{rel}')).hexdigest() == sha, rel
    assert not any(n.startswith(('nbs/', 'tests/')) for n in names)
    assert 4e6 < sum(i.file_size for i in z.infolist() if '/real/' in i.filename) < 10e6     # about 5 MB of samples

def test_wheel_finds_its_samples_outside_the_checkout(dists, tmp_path):
    "Unpacked wheel on PYTHONPATH, run from an empty folder with an empty HOME: `real_data_root()` is the package's `real/`."
    site = tmp_path/'site'; zipfile.ZipFile(dists[1]).extractall(site)
    code = ("import mani_nbdev, pathlib; from mani_nbdev.data import real_data_root, check_real_samples, read_real\n"
            "assert pathlib.Path(mani_nbdev.__file__).parent.parent == pathlib.Path(r'%s'), mani_nbdev.__file__\n"
            "assert real_data_root() == pathlib.Path(mani_nbdev.__file__).parent/'real', real_data_root()\n"
            "assert check_real_samples() == [], check_real_samples()\n"
            "print(len(read_real('consep_fixture')))" % site)
    env = {k: v for k, v in os.environ.items() if k not in ('MANI_NBDEV_DATA', 'PYTHONPATH')}
    (tmp_path/'home').mkdir(); (tmp_path/'run').mkdir()
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path/'run',
                       env={**env, 'PYTHONPATH': str(site), 'HOME': str(tmp_path/'home')})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == '3'

def test_pypi_description_links_are_absolute(dists):
    meta = zipfile.ZipFile(dists[1]).read(f"mani_nbdev-{cfg['version']}.dist-info/METADATA").decode()
    desc = meta.split('\n\n', 1)[1]
    links = re.findall(r'\]\(([^)\s]+)\)', desc) + re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', desc)
    assert links and all(re.match(r'(https?:|#)', u) for u in links), [u for u in links if not re.match(r'(https?:|#)', u)]
    imgs = [u for u in links if u.lower().endswith(('.png', '.jpg', '.svg'))]
    raw = f"https://raw.githubusercontent.com/{cfg['user']}/{cfg['repo']}/{cfg['branch']}/"
    assert all(u.startswith(raw) and (ROOT/u[len(raw):]).is_file() for u in imgs if 'githubusercontent' in u), imgs
    assert f"pip install {cfg['repo']}" in desc

def test_pypi_readme_rewrites_relative_links():
    "setup.py's `pypi_readme` on hand-made markdown: images to raw.githubusercontent.com, files to GitHub, the rest untouched."
    src = (ROOT/'setup.py').read_text()
    ns = {}; exec(compile(ast.Module([n for n in ast.parse(src).body if isinstance(n, (ast.Import, ast.ImportFrom))
                                       or (isinstance(n, ast.FunctionDef) and n.name == 'pypi_readme')], []), 'setup.py', 'exec'), ns)
    ns['cfg'] = cfg
    out = ns['pypi_readme']('![](nbs/images/a.png) [nb](./nbs/00_data.ipynb) [x](https://e.org/b.png) [s](#top) <img src="nbs/i.svg" width=3>')
    raw, blob = f"https://raw.githubusercontent.com/{cfg['user']}/{cfg['repo']}/{cfg['branch']}/", f"{cfg['git_url']}/blob/{cfg['branch']}/"
    assert out == f'![]({raw}nbs/images/a.png) [nb]({blob}nbs/00_data.ipynb) [x](https://e.org/b.png) [s](#top) <img src="{raw}nbs/i.svg" width=3>'

# ---- every third-party import of the library is a declared dependency (directly or through one) ----------------
OPTIONAL = {'distributed': 'run_jobs(backend="dask")', 'ray': 'run_jobs(backend="ray")'}      # imported only when asked for

def _norm(n: str) -> str: return re.sub(r'[-_.]+', '-', n).lower()

def _closure(reqs) -> set:
    "Normalised names of the distributions `reqs` need, transitively (extras ignored)."
    seen, todo = set(), [re.split(r'[\s<>=!~;\[(]', r, maxsplit=1)[0] for r in reqs]
    while todo:
        n = _norm(todo.pop())
        if n in seen: continue
        seen.add(n)
        try: sub = distribution(n).requires or []
        except PackageNotFoundError: continue
        todo += [re.split(r'[\s<>=!~;\[(]', r, maxsplit=1)[0] for r in sub if 'extra ==' not in r]
    return seen

def _imports() -> dict:
    "Top-level modules imported anywhere in the library (inside functions too), with one file that imports each."
    out = {}
    for f in sorted((ROOT/'mani_nbdev').glob('*.py')):
        for n in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else [n.module] if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module else []
            for m in names: out.setdefault(m.split('.')[0], f.name)
    return {m: f for m, f in out.items() if m not in sys.stdlib_module_names and m != 'mani_nbdev'}

def test_every_import_is_a_declared_dependency():
    need = _closure(shlex.split(cfg['requirements']))
    providers = packages_distributions()
    missing = {m: f for m, f in _imports().items()
               if m not in OPTIONAL and not any(_norm(d) in need for d in providers.get(m, [m]))}
    assert not missing, f"imported but not in settings.ini `requirements` (nor needed by one): {missing}"

# ---- docs site (nbdev 2 + Quarto) and GitHub workflows: YAML that cannot be run here ------------------------------
def _yaml(p: Path):
    yaml = pytest.importorskip('yaml')
    return yaml.safe_load(p.read_text())

def test_quarto_config_has_what_nbdev_docs_needs():
    q, n = _yaml(ROOT/'nbs'/'_quarto.yml'), _yaml(ROOT/'nbs'/'nbdev.yml')
    assert q['project']['type'] == 'website'
    assert {'nbdev.yml', 'sidebar.yml'} <= set(q['metadata-files'])           # nbdev_docs writes sidebar.yml
    html = q['format']['html']
    assert (ROOT/'nbs'/html['css']).is_file() and html['keep-md'] is True
    assert 'sidebar' in q['website'] and 'navbar' in q['website']
    # nbdev.yml is what nbdev's refresh_quarto_yml writes from settings.ini: keep the two in step
    assert n['project']['output-dir'] == cfg['doc_path']
    w = n['website']
    assert (w['title'], w['site-url'], w['repo-url'], w['repo-branch']) == (cfg['title'], cfg['doc_host'] + cfg['doc_baseurl'], cfg['git_url'], cfg['branch'])
    assert w['description'] == cfg['description']

def test_nbdev_generates_the_same_nbdev_yml_and_a_sidebar(tmp_path):
    "nbdev's own template, filled from settings.ini, parses to the committed nbdev.yml; its sidebar lists every notebook."
    q = pytest.importorskip('nbdev.quarto')
    from nbdev.config import get_config
    c = get_config(path=ROOT)
    vals = {k: c[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    import yaml
    assert yaml.safe_load(q._nbdev_yml.format(**vals, doc_path=c.doc_path.name)) == _yaml(ROOT/'nbs'/'nbdev.yml')
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev_sidebar'), '--printit', '--force'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    side = yaml.safe_load(r.stdout)['website']['sidebar']['contents']
    listed = str(side)
    for nb in (ROOT/'nbs').glob('[0-9]*.ipynb'): assert nb.name in listed, nb.name

def test_workflows_test_the_claimed_pythons_and_deploy_docs():
    test, docs = _yaml(ROOT/'.github'/'workflows'/'test.yaml'), _yaml(ROOT/'.github'/'workflows'/'docs.yaml')
    job = test['jobs']['test']
    pys = [str(v) for v in job['strategy']['matrix']['python-version']]
    assert pys[0] == cfg['min_python'] and '3.13' in pys                  # oldest and newest of the classifiers
    steps = {s.get('uses', '').split('@')[0]: s for s in job['steps']}
    assert steps['actions/setup-python']['with']['cache'] == 'pip'
    assert any('.ci/run' in s.get('run', '') for s in job['steps'])
    on = docs.get('on', docs.get(True))                                    # YAML 1.1 reads a bare `on:` as True
    assert 'push' in on
    dsteps = [s for j in docs['jobs'].values() for s in j['steps']]
    assert any('nbdev_docs' in s.get('run', '') for s in dsteps)
    assert any(s.get('uses', '').startswith('actions/deploy-pages') for s in dsteps)
    assert any(s.get('uses', '').startswith('quarto-dev/quarto-actions/setup') for s in dsteps)
