"""The search a task is tuned with: MetaSchedule's design space (its explicit unroll steps
capped, its tilings made of whole SIMD vectors, a conv's taps innermost), its evolutionary
search without the tail batches it would otherwise add, and the XGBoost cost model that scores
its candidates (by their measured neighbours until it has trained: neighbour_scores.py).

When the evolutionary search proposes fewer new candidates than a batch asks for (a small
population holds duplicates and measured schedules), MetaSchedule searches again for the few
trials left: a whole search, a module build and a browser session for one or two candidates,
seconds of overhead each. `without_tail_batches` ends the task instead once fewer than
`smallest` trials are left after a batch; the trials a task reports are the ones it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .neighbour_scores import with_neighbour_scores
from .tap_reductions import taps_innermost_space
from .vector_tiles import whole_vector_tiles


def design_space(max_unroll_step: int, vector_bits: int = 0, taps_innermost: bool = False) -> Any:
    """MetaSchedule's design space for CPUs ("post-order-apply" with the llvm rules), sampling
    only the explicit unroll steps up to `max_unroll_step` (MetaSchedule's: 0, 16, 64, 512),
    with `vector_bits` only tilings of whole vectors of that width (`whole_vector_tiles`), with
    `taps_innermost` only convs without input channels in the innermost reduction tile."""
    from tvm.s_tir.meta_schedule.postproc import Postproc
    from tvm.s_tir.meta_schedule.schedule_rule import ParallelizeVectorizeUnroll, ScheduleRule
    from tvm.s_tir.meta_schedule.space_generator import PostOrderApply

    rules = list(ScheduleRule.create("llvm"))
    capped = False
    for index, rule in enumerate(rules):
        if not isinstance(rule, ParallelizeVectorizeUnroll):
            continue
        offered = [int(step) for step in rule.unroll_max_steps]
        steps = [step for step in offered if step <= max_unroll_step]
        if not steps:
            raise ValueError(
                f"max_unroll_step={max_unroll_step} leaves none of the unroll steps {offered}"
            )
        capped = capped or steps != offered
        rules[index] = ParallelizeVectorizeUnroll(
            max_jobs_per_core=int(rule.max_jobs_per_core),
            max_vectorize_extent=int(rule.max_vectorize_extent),
            unroll_max_steps=steps,
            unroll_explicit=bool(rule.unroll_explicit),
        )
    if not capped and not vector_bits and not taps_innermost:
        return "post-order-apply"  # MetaSchedule's own space
    postprocs = list(Postproc.create("llvm"))
    if vector_bits:
        postprocs.insert(0, whole_vector_tiles(vector_bits))
    space = PostOrderApply(sch_rules=rules, postprocs=postprocs, mutator_probs="llvm")
    return taps_innermost_space(space) if taps_innermost else space


def evolutionary_search(population: int, genetic_iters: int) -> Any:
    """MetaSchedule's evolutionary search with this population and mutation rounds per batch."""
    from tvm.s_tir.meta_schedule.search_strategy import EvolutionarySearch

    return EvolutionarySearch(population_size=population, genetic_num_iters=genetic_iters)


def cost_model(
    warmup: int,
    threads: int,
    neighbour_tau: float = 0.0,
    measured: Sequence[tuple[Any, float]] = (),
    foreign: Sequence[Any] = (),
) -> Any:
    """MetaSchedule's XGBoost cost model, ranking candidates once it has trained on `warmup`
    results. MetaSchedule's own default waits for 100 and draws random scores until then: with
    64 trials per batch, a 128-trial task never had a batch ranked by the model. With
    `neighbour_tau`, the candidates are scored by their measured neighbours until then
    (`with_neighbour_scores`), the (trace, seconds) `measured` before among them; those and
    the `foreign` traces (seeds) score 0, as the search would propose them again."""
    from tvm.s_tir.meta_schedule.cost_model import XGBModel

    model = XGBModel(num_warmup_samples=warmup, num_tuning_cores=threads)
    if not neighbour_tau:
        return model
    return with_neighbour_scores(model, neighbour_tau, measured, foreign)


def tail_batch_floor(trials_per_iter: int) -> int:
    """The fewest trials left that still get a batch of their own after the first one."""
    return max(1, trials_per_iter // 8)


def without_tail_batches(inner: Any, smallest: int) -> Any:
    """The search strategy `inner`, ending once a batch leaves fewer than `smallest` of its
    trials (its first batch always runs)."""
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.search_strategy import PySearchStrategy

    @derived_object
    class WithoutTailBatches(PySearchStrategy):
        def __init__(self, inner: Any, smallest: int) -> None:
            self.inner = inner
            self.smallest = smallest
            self.left = 0
            self.batches = 0

        def _initialize_with_tune_context(self, context: Any) -> None:
            self.inner._initialize_with_tune_context(context)

        def pre_tuning(
            self, max_trials, num_trials_per_iter, design_spaces, database=None, cost_model=None
        ) -> None:
            self.left, self.batches = max_trials, 0
            self.inner.pre_tuning(
                max_trials, num_trials_per_iter, design_spaces, database, cost_model
            )

        def post_tuning(self) -> None:
            self.inner.post_tuning()

        def generate_measure_candidates(self) -> Any:
            if self.batches and self.left < self.smallest:
                return None
            batch = self.inner.generate_measure_candidates()
            if batch:
                self.left -= len(batch)
                self.batches += 1
            return batch

        def notify_runner_results(self, measure_candidates, results) -> None:
            self.inner.notify_runner_results(measure_candidates, results)

        def clone(self) -> Any:
            return WithoutTailBatches(self.inner.clone(), self.smallest)

    return WithoutTailBatches(inner, smallest)
