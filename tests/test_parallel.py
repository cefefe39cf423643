"Multi-process runs: jobs give the same numbers in worker processes as in-process, and the run cache is reused."
import os
import pandas as pd
from mani_nbdev.experiments import Job, run_jobs

def _jobs():
    return [Job('mani_nbdev.experiments:uda_job', dict(source='tnbc', target='kirc', seed=s, scale='tiny',
                methods=['source-only', 'mani'], iters=20, warmup=10, diagnose=False), tag='test') for s in (0, 1)]

def test_workers_match_in_process(monkeypatch):
    monkeypatch.delenv('MANI_NBDEV_RUN_CACHE', raising=False)
    a = pd.concat([o['results'] for o in run_jobs(_jobs(), workers=1, progress=False)], ignore_index=True)
    b = pd.concat([o['results'] for o in run_jobs(_jobs(), workers=2, progress=False)], ignore_index=True)
    pd.testing.assert_frame_equal(a, b)

def test_cache_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv('MANI_NBDEV_RUN_CACHE', str(tmp_path))
    first = run_jobs(_jobs()[:1], progress=False)[0]['results']
    files = list(tmp_path.glob('test-*.pkl')); assert len(files) == 1
    mtime = files[0].stat().st_mtime
    again = run_jobs(_jobs()[:1], progress=False)[0]['results']
    pd.testing.assert_frame_equal(first, again); assert files[0].stat().st_mtime == mtime
