# Modelled on nbdev 2.4.14's own setup.py (no `pkg_resources`, which current setuptools no longer ships).
# All settings are in settings.ini; edit there, not here.
import re, shlex, shutil
from configparser import ConfigParser
from pathlib import Path

import setuptools
from setuptools.command.build_py import build_py

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + 'lib_name repo user branch license status min_python audience language'.split()
for o in expected: assert o in cfg, f'missing expected setting: {o}'
setup_cfg = {o: cfg[o] for o in cfg_keys}

licenses = {'apache2': 'Apache-2.0', 'mit': 'MIT', 'bsd3': 'BSD-3-Clause'}   # SPDX expressions (License :: classifiers are deprecated)
statuses = ['0 - Pre-Planning', '1 - Planning', '2 - Pre-Alpha', '3 - Alpha',
            '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = ['packaging'] + shlex.split(cfg.get('requirements', ''))
if cfg.get('pip_requirements'): requirements += shlex.split(cfg.get('pip_requirements', ''))
min_python = cfg['min_python']
dev_requirements = shlex.split(cfg.get('dev_requirements') or '')
project_urls = {}
if cfg.get('doc_host'): project_urls['Documentation'] = cfg['doc_host'] + cfg.get('doc_baseurl', '')
project_urls['Changelog'] = f"{cfg['git_url']}/blob/{cfg['branch']}/CHANGELOG.md"

# The real samples (about 5 MB, with their licences) ship inside the package as `mani_nbdev/real/`, so a pip user
# runs the README's main job offline; `data.real_data_root()` finds them there. They live in `nbs/data/real`
# (the notebooks read them from the checkout), and MANIFEST.in carries them into the sdist.
REAL_SAMPLES = Path('nbs')/'data'/'real'

class BuildPyWithSamples(build_py):
    "`build_py` that also copies `nbs/data/real` into the built package as `<lib_path>/real` (not in editable installs)."
    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False): return      # an editable install reads the checkout's nbs/data/real
        if not REAL_SAMPLES.is_dir(): raise FileNotFoundError(f"{REAL_SAMPLES} is missing: the wheel would have no real samples")
        dest = Path(self.build_lib)/cfg['lib_path']/'real'
        shutil.copytree(REAL_SAMPLES, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns('.*', '__pycache__'))
        shutil.copyfile(REAL_SAMPLES.parent/'README.md', dest/'README.md')     # where each sample comes from, its licence

def pypi_readme(text: str) -> str:
    "README.md with its relative links made absolute (images from raw.githubusercontent.com, other files on GitHub), as PyPI needs."
    raw = f"https://raw.githubusercontent.com/{cfg['user']}/{cfg['repo']}/{cfg['branch']}/"
    blob = f"{cfg['git_url']}/blob/{cfg['branch']}/"
    is_img = lambda u: u.lower().endswith(('.png', '.jpg', '.jpeg', '.gif', '.svg'))
    absolute = lambda u: u if re.match(r'^([a-z][a-z0-9+.-]*:|#|/)', u) else (raw if is_img(u) else blob) + u.removeprefix('./')
    text = re.sub(r'(!?\[[^\]]*\])\(([^)\s]+)\)', lambda m: f"{m.group(1)}({absolute(m.group(2))})", text)
    return re.sub(r'(<img\b[^>]*\bsrc=")([^"]+)"', lambda m: f'{m.group(1)}{absolute(m.group(2))}"', text)

setuptools.setup(
    name=cfg['repo'],
    license=licenses.get(cfg['license'].lower(), cfg['license']),
    license_files=['LICENSE'],
    classifiers=[
        'Development Status :: ' + statuses[int(cfg['status'])],
        'Intended Audience :: ' + cfg['audience'].title(),
        'Natural Language :: ' + cfg['language'].title(),
    ] + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']),
    include_package_data=True,
    install_requires=requirements,
    extras_require={'dev': dev_requirements},
    python_requires='>=' + cfg['min_python'],
    long_description=pypi_readme(open('README.md', encoding='utf8').read()),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
    project_urls=project_urls,
    cmdclass={'build_py': BuildPyWithSamples},
    **setup_cfg)
