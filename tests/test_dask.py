"""``engine evaluate --dask`` and ``engine report --dask`` on a LocalCluster of two worker processes: the output is
byte for byte the single-process one, also when a worker is killed in the middle of a chunk (the scheduler runs it
again elsewhere) or when a chunk kills every worker that takes it (its records get ``internal_error`` lines, none is
lost). Skipped when the [dask] extra is not installed."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

distributed = pytest.importorskip("dask.distributed", reason="the [dask] extra is not installed (pip install -e '.[dask]')")

import functools  # noqa: E402
import json  # noqa: E402

import cloudpickle  # noqa: E402
import dask  # noqa: E402

import dask_faults  # noqa: E402
from engine.operation.report import build_report as one_pass_report  # noqa: E402
from engine.operation.report import load_operation  # noqa: E402
from engine.beneficiary.records import read_records  # noqa: E402
from engine.render.report import to_json  # noqa: E402
from engine.run import cohort as RC  # noqa: E402
from engine.run.cluster import dask_map, evaluate_files_dask  # noqa: E402
from engine.spec.cache import load_spec_cached  # noqa: E402

from test_cohort_parts import cohort_file  # noqa: E402
from test_jobs import single  # noqa: E402

cloudpickle.register_pickle_by_value(dask_faults)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "specs" / "samples"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
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


def records_file(tmp_path, name, copies=6) -> Path:
    """The sample records several times over (enough for several chunks of 800 bytes)."""
    text = (SAMPLES / f"{name}.records.jsonl").read_text(encoding="utf-8")
    path = tmp_path / f"{name}.jsonl"
    path.write_text(text * copies, encoding="utf-8")
    return path


def test_a_worker_killed_in_a_chunk_loses_and_duplicates_nothing(client, tmp_path):
    spec = load_spec_cached(ROOT / "specs" / "coach-jeunesse.yaml")
    records = str(records_file(tmp_path, "coach-jeunesse"))
    want = single(spec, [records], "jsonl")
    out = io.BytesIO()
    task = functools.partial(dask_faults.kill_once, str(tmp_path), 2)
    stats = evaluate_files_dask(spec, [records], date(2026, 6, 1), {}, out, client=client, chunk_bytes=800,
                                task=task)
    assert (tmp_path / "killed-2").exists()  # the worker did die in chunk 2
    assert out.getvalue() == want and stats.failures == [] and stats.internal == 0


@pytest.fixture
def impatient_client():
    """A cluster whose scheduler gives up on a task after it killed two workers."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_a_chunk_that_kills_every_worker_gives_error_lines_for_its_records(impatient_client, tmp_path):
    spec = load_spec_cached(ROOT / "specs" / "coach-jeunesse.yaml")
    records = str(records_file(tmp_path, "coach-jeunesse"))
    want = single(spec, [records], "jsonl").splitlines()
    out = io.BytesIO()
    stats = evaluate_files_dask(spec, [records], date(2026, 6, 1), {}, out, client=impatient_client,
                                chunk_bytes=800, task=functools.partial(dask_faults.kill_always, 1))
    got = out.getvalue().splitlines()
    assert len(got) == len(want)  # N records in, N lines out
    # chunk 1 fails; a chunk that was waiting on a dying worker may be blamed too (Dask counts every task the worker
    # held): each failed chunk's records get error lines, the others are untouched
    assert 1 in {f.chunk.index for f in stats.failures}
    assert all("arrêtés brutalement" in f.reason for f in stats.failures)
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert bad and stats.internal == len(bad)
    for i in bad:
        line = json.loads(got[i])
        assert line["error"]["code"] == "internal_error" and line["id"] == json.loads(want[i])["id"]


REPORT_AT = date(2027, 4, 15)


@pytest.mark.parametrize("name", ["chantiers-insertion", "coach-jeunesse", "mobilite"])
def test_report_on_dask_is_the_one_pass_report(client, tmp_path, name):
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    op = load_operation(str(SAMPLES / f"{name}.operation.json"))
    path = str(cohort_file(tmp_path, name))
    want = to_json(one_pass_report(spec, op, read_records(path, spec=spec), REPORT_AT))
    got = RC.build_report(spec, op, read_records(path, spec=spec), REPORT_AT, records_path=path, client=client,
                          chunk_bytes=700)
    assert to_json(got) == want


def test_report_parts_survive_a_killed_worker(client, tmp_path):
    name = "chantiers-insertion"
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    op = load_operation(str(SAMPLES / f"{name}.operation.json"))
    path = str(cohort_file(tmp_path, name))
    state = {"spec": spec, "operation": op, "at": REPORT_AT, "params": {}}
    chunks = list(RC.file_chunks(path, 700))
    assert len(chunks) > 3
    fn = functools.partial(dask_faults.part_kill_once, str(tmp_path), 1)
    parts = list(dask_map(fn, chunks, state, client, on_failure=RC.failed_part))
    assert (tmp_path / "killed-1").exists()
    from engine.operation.parts import report_from_parts
    want = to_json(one_pass_report(spec, op, read_records(path, spec=spec), REPORT_AT))
    assert to_json(report_from_parts(spec, op, parts, REPORT_AT)) == want


@pytest.mark.parametrize("kind", ["stdin", "json array"])
def test_report_dask_refuses_a_cohort_it_cannot_split(client, tmp_path, kind):
    spec = load_spec_cached(ROOT / "specs" / "chantiers-insertion.yaml")
    op = load_operation(str(SAMPLES / "chantiers-insertion.operation.json"))
    path = "-"
    if kind == "json array":
        path = str(tmp_path / "cohort.json")
        Path(path).write_text('[{"id": "a"}]', encoding="utf-8")
    with pytest.raises(RC.UsageError) as e:
        RC.build_report(spec, op, iter(()), REPORT_AT, records_path=path, client=client)
    d = e.value.diagnostics[0]
    assert d.code == "usage.dask_input" and d.hint and (kind == "stdin" or path in d.message)


def test_evaluate_and_report_dask_local_on_the_command_line(tmp_path, capsys):
    """``--dask local --jobs 2`` starts its own cluster and writes what one process writes."""
    from engine.cli.main import main

    name = "chantiers-insertion"
    spec = str(ROOT / "specs" / f"{name}.yaml")
    cohort = str(cohort_file(tmp_path, name))
    report = ["report", "--spec", spec, "--operation", str(SAMPLES / f"{name}.operation.json"), "--records", cohort,
              "--at", "2027-04-15", "--json"]
    assert main(report) == 0
    want = capsys.readouterr().out
    assert main(report + ["--dask", "local", "--jobs", "2"]) == 0
    assert capsys.readouterr().out == want
    records = str(records_file(tmp_path, name))
    evaluate = ["evaluate", "--spec", spec, records, "--at", "2026-06-01"]
    assert main(evaluate) == 0
    want = capsys.readouterr().out
    assert main(evaluate + ["--dask", "local", "--jobs", "2"]) == 0
    assert capsys.readouterr().out == want and want.count("\n") > 10
