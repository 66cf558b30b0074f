"""A killed and resumed run reaches the same losses as an uninterrupted one."""
import json
import subprocess
import sys
from pathlib import Path

JOB = Path(__file__).with_name('resume_job.py')


def run_job(work_dir, loss_log, *extra):
    return subprocess.run(
        [sys.executable, str(JOB), str(work_dir), str(loss_log), *extra],
        capture_output=True, text=True, timeout=300)


def read_losses(path):
    return dict(json.loads(line) for line in path.read_text().splitlines())


def test_killed_then_resumed_run_matches_uninterrupted(tmp_path):
    reference_log = tmp_path / 'reference.jsonl'
    done = run_job(tmp_path / 'reference', reference_log)
    assert done.returncode == 0, done.stderr[-2000:]

    resumed_log = tmp_path / 'resumed.jsonl'
    killed = run_job(tmp_path / 'resumed', resumed_log, '--kill-after', '4')
    assert killed.returncode != 0, 'the job was not killed'
    assert (tmp_path / 'resumed' / 'iter_3.pth').is_file()
    resumed = run_job(tmp_path / 'resumed', resumed_log, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert 'Weights only load failed' not in resumed.stdout + resumed.stderr

    reference = read_losses(reference_log)
    # Iterations 3 and 4 ran before the kill and again after the resume: the
    # later (resumed) values overwrite the first ones.
    after_resume = read_losses(resumed_log)
    assert sorted(reference) == list(range(8))
    assert sorted(after_resume) == list(range(8))
    for iteration in range(8):
        assert after_resume[iteration] == reference[iteration], iteration
