"Multi-process runs: jobs give the same numbers in worker processes as in-process, and the run cache is reused."
import os
import pandas as pd
from mani_nbdev.experiments import Job, run_jobs
from mani_nbdev.jobs import Scale

def _results(outs) -> pd.DataFrame:
    "The jobs' result rows without their wall-clock `seconds` (a timing, not a result)."
    return pd.concat([o['results'] for o in outs], ignore_index=True).drop(columns='seconds', errors='ignore')

def _jobs():
    return [Job('mani_nbdev.experiments:uda_job', dict(source='tnbc', target='kirc', seed=s, scale='tiny',
                methods=['source-only', 'mani'], iters=20, warmup=10, diagnose=False), tag='test') for s in (0, 1)]

def test_workers_match_in_process(monkeypatch):
    monkeypatch.delenv('MANI_NBDEV_RUN_CACHE', raising=False)
    a = _results(run_jobs(_jobs(), workers=1, progress=False))
    b = _results(run_jobs(_jobs(), workers=2, progress=False))
    pd.testing.assert_frame_equal(a, b)

def test_cache_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv('MANI_NBDEV_RUN_CACHE', str(tmp_path))
    first = run_jobs(_jobs()[:1], progress=False)[0]['results']
    entries = [p for p in tmp_path.glob('test-*') if p.is_dir()]; assert len(entries) == 1     # one entry folder (CSV, NPZ, JSON)
    mtime = (entries[0]/'manifest.json').stat().st_mtime
    again = run_jobs(_jobs()[:1], progress=False)[0]['results']
    pd.testing.assert_frame_equal(first, again); assert (entries[0]/'manifest.json').stat().st_mtime == mtime

def _tiny_jobs():
    sc = Scale('test', iters=6, warmup=3, width=4, depth=2, size=32, n_tiles=30, lr=3e-3)     # smaller than 'tiny': the workers start fast
    return [Job('mani_nbdev.jobs:uda_job', dict(source='tnbc', target='kirc', seed=s, scale=sc, methods=['source-only', 'target-stats'],
                diagnose=False, n_preds=1), tag='test-dask') for s in (0, 1)]

def test_local_dask_cluster_matches_loky(monkeypatch):
    "The same `run_jobs` call on a local Dask cluster of 2 one-thread workers (its address as `scheduler=`) gives the loky backend's results."
    from distributed import LocalCluster
    monkeypatch.delenv('MANI_NBDEV_RUN_CACHE', raising=False)        # before the workers start: they inherit the environment
    loky = _results(run_jobs(_tiny_jobs(), workers=1, progress=False, backend='loky'))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = _results(run_jobs(_tiny_jobs(), workers=2, progress=False, backend='dask', scheduler=cluster.scheduler_address))
    assert len(loky) == 2 * 2 * 4 and set(loky.seed) == {0, 1}
    pd.testing.assert_frame_equal(loky, dask)
