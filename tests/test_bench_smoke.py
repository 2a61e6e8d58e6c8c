"""`make bench` runs end to end (with tiny counts) and keeps its stable keys and design figures."""
import json
import subprocess
import sys

from devtools.stage import PROJECT_DIR

KEYS = {
    "ddb_calls_warm", "ddb_calls_cold", "ddb_calls_idempotent", "warm_p50_ms", "floor_p50_ms",
    "warm_p50_ratio", "overhead_p50_us", "overhead_ratio", "cold_start_ms", "cold_baseline_ms",
    "cold_start_ratio", "load_rps", "load_p99_ms", "load_errors", "load_lost", "zip_bytes",
    "load_new_connections_p50_ms", "one_client_p50_ms", "load_new_connections_errors",
    "load_new_connections_lost", "read_units_page_1", "read_units_last_page",
    "write_units_create", "write_units_review", "read_units_session_page",
    "cpu_count", "python", "boto3", "dynamodb_local", "ddb_calls_warm_with_resets", "reset_ms",
    "capacity_units_reset", "purged_items", "many_resets_purge_scans", "erasure_purge_read_units",
    "read_units_group_sessions_start_time_asc", "read_units_group_sessions_review_items_count",
}


def test_the_quick_bench_reports_every_figure_and_meets_the_call_budget(tmp_path):
    out = tmp_path / "results.json"

    run = subprocess.run([sys.executable, "-m", "devtools.bench", "--quick", "--out", str(out)],
                         cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(out.read_text())
    assert KEYS <= set(results)
    calls = (results["ddb_calls_warm"], results["ddb_calls_cold"], results["ddb_calls_idempotent"])
    assert calls == (1, 2, 1)
    assert results["ddb_calls_warm_with_resets"] == 2 and results["purged_items"] > 0
    assert results["many_resets_purge_scans"] == 0 == results["erasure_purge_scans"]  # partitions only
    # the erased learner's items, all of them, whatever another learner stores beside them
    assert results["erasure_purged_items"] == results["erased_items"] and results["beside_items"] > 0
    assert results["load_errors"] == 0 and results["load_lost"] == 0
    # a review's transaction: the review and the word's memory, each billed twice, and the
    # review's entry in the index by word
    assert 0 < results["write_units_review"] <= 6 and results["write_units_create"] > 0
    assert (results["review_items_first"], results["review_items_later"]) == (2, 2)
    assert results["due_words_page_calls"] == 1 and results["read_units_due_words_page"] > 0
    assert 0 < results["read_units_page_1"] <= results["read_units_last_page"]
    assert results["one_client_errors"] == 0
    assert results["load_new_connections_errors"] == 0 and results["load_new_connections_lost"] == 0
    assert "| Load errors / lost writes (kept-alive; new connections) | 0 / 0; 0 / 0 |" in run.stdout
