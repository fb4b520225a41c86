"""MetaSchedule's own CPU design spaces of a module, and a first search batch drawn from a design
space as MetaSchedule's evolutionary search draws it before any result (random scores)."""

from typing import Any

from tvm.s_tir import meta_schedule as ms

from pytest_wasm_tune.kernels import wasm_target


def first_batch(mod: Any, space: Any, count: int = 32) -> list[Any]:
    """The measure candidates of the first batch of `count` for `mod` searched in `space`."""
    context = ms.TuneContext(
        mod=mod,
        target=wasm_target(),
        space_generator=space,
        search_strategy=ms.search_strategy.EvolutionarySearch(population_size=count),
        task_name="t",
        rand_state=1,
        num_threads=1,
    )
    context.pre_tuning(
        max_trials=count,
        num_trials_per_iter=count,
        design_spaces=context.generate_design_space(),
        database=ms.database.MemoryDatabase(),
        cost_model=ms.cost_model.RandomModel(),
    )
    return list(context.generate_measure_candidates())


def own_design_spaces(mod: Any) -> list[Any]:
    """The schedules of MetaSchedule's own CPU design space ("post-order-apply") for `mod`."""
    context = ms.TuneContext(
        mod=mod, target=wasm_target(), space_generator="post-order-apply", task_name="t"
    )
    return list(context.generate_design_space())
