"""``engine evaluate --dask`` on a LocalCluster of two worker processes: the output is byte for byte the
single-process one (skipped when the [dask] extra is not installed)."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

distributed = pytest.importorskip("dask.distributed", reason="the [dask] extra is not installed (pip install -e '.[dask]')")

from engine.run.cluster import evaluate_files_dask  # noqa: E402
from engine.spec.cache import load_spec_cached  # noqa: E402

from test_jobs import single  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "specs" / "samples"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.parametrize("name", ["coach-jeunesse", "accompagnement-social-professionnel-intensif"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_dask_output_is_the_single_process_output(client, name, fmt):
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    records = str(SAMPLES / f"{name}.records.jsonl")
    want = single(spec, [records, records], fmt)
    out = io.BytesIO()
    stats = evaluate_files_dask(spec, [records, records], date(2026, 6, 1), {}, out, fmt=fmt, client=client,
                                chunk_bytes=800, summary=True)
    assert out.getvalue() == want and stats.failures == []
    assert stats.summary.total == 2 * len([x for x in Path(records).read_bytes().splitlines() if x.strip()])
