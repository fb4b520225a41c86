"""A tuning run in a process of its own, for tests that kill it.

    python tests/integration/tuning_child.py WORK_DIR TRIALS TRIALS_PER_ITER SEED

prints `ready` once its stack is up, `batch <trials done>` after each recorded batch, `done`.
"""

import sys
from pathlib import Path

from pytest_wasm_tune.local_stack import LocalStack
from pytest_wasm_tune.main_job import matmul_prim_func
from pytest_wasm_tune.tuning import TuneOptions, TuneTask, tune

N = 128


def task() -> TuneTask:
    return TuneTask.from_prim_func(matmul_prim_func(N), f"matmul{N}")


def main(work_dir: Path, trials: int, per_iter: int, seed: int) -> None:
    with LocalStack(stage_dir=work_dir / "stage") as stack:
        print("ready", flush=True)
        options = TuneOptions(trials=trials, trials_per_iter=per_iter, seed=seed)
        tune(
            task(),
            stack.workbench,
            work_dir,
            options,
            lambda e: print(f"batch {e.trials_done}", flush=True),
        )
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(int(arg) for arg in sys.argv[2:5]))
