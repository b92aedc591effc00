"""The fine-tuning loop, on one CPU or many GPUs through ``accelerate`` (DeepSpeed ZeRO included).

    giqa-harness train tiny-cpu model.base=tiny/ data.train=train.json output.dir=runs/tiny
    accelerate launch --config_file training/recipes/accelerate/zero3.yaml -m giqa_harness train \\
        llava-1.5-7b data.train=giqa_train.json data.image_root=images/

Each optimizer step reads exactly one global batch (see `schedule`). The loss is the mean over every
answer token of that global batch: each micro-batch contributes its token-summed cross-entropy divided
by the batch's total answer-token count (summed over processes first), so gradient accumulation and
the process count never re-weight samples. Checkpoints hold the model, optimizer, scheduler, step and
every process's RNG; a resumed run reads the same batches from the step it stopped at.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from giqa_harness.output import atomic_write_json

from .checkpoints import (
    Progress, append_log, check_resumable, checkpoint_dir, finished_run, mark_complete, prune_checkpoints,
    resume_point, truncate_log, write_final_metadata,
)
from .data import IGNORE_INDEX, Conversation, ConversationDataset, collate, read_conversations, select_kinds
from .families import LoadedBase, load_base
from .recipe import Recipe
from .schedule import BatchPlan, Schedule, epoch_order, plan_batches, plan_schedule, step_micro_batches


@dataclass(frozen=True)
class TrainResult:
    output_dir: Path
    final_dir: Path
    steps: int
    last_loss: float | None


class StepBatchSampler:
    """The micro-batches this process reads, step by step from ``start_step`` (a DataLoader batch_sampler)."""

    def __init__(self, num_samples: int, seed: int, plan: BatchPlan, rank: int, schedule: Schedule,
                 start_step: int) -> None:
        self.num_samples, self.seed, self.plan, self.rank = num_samples, seed, plan, rank
        self.schedule, self.start_step = schedule, start_step

    def __len__(self) -> int:
        return (self.schedule.total_steps - self.start_step) * self.plan.accumulation

    def __iter__(self) -> Iterator[list[int]]:
        per_epoch = self.schedule.steps_per_epoch
        order: list[int] = []
        for step in range(self.start_step, self.schedule.total_steps):
            epoch, in_epoch = divmod(step, per_epoch)
            if in_epoch == 0 or not order:
                order = epoch_order(self.num_samples, self.seed, epoch, self.plan.global_batch)
            yield from step_micro_batches(order, in_epoch, self.plan, self.rank)


def resolve_mixed_precision(setting: str) -> str:
    """``auto``: bf16 on a GPU that supports it, otherwise full precision."""
    if setting != "auto":
        return setting
    import torch

    return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"


def build_optimizer(model: Any, recipe: Recipe) -> Any:
    """AdamW over the trainable parameters; no weight decay on biases and norms (ndim < 2)."""
    import torch

    t = recipe.train
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": t.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=t.learning_rate,
                             betas=(t.adam_beta1, t.adam_beta2), eps=t.adam_epsilon)


def train(recipe: Recipe) -> TrainResult:
    """Run (or resume) a recipe; returns where the final model is."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, set_seed
    from transformers import get_scheduler

    t = recipe.train
    # Several processes and no GPU (torchrun or accelerate launch on CPUs): gloo data parallelism.
    cpu_processes = not torch.cuda.is_available() and int(os.environ.get("WORLD_SIZE", "1")) > 1
    # LLaVA reads the vision tower's second-to-last layer: when the tower trains, its last layer gets no
    # gradient, which DDP must be told about.
    ddp = DistributedDataParallelKwargs(find_unused_parameters=True)
    accelerator = Accelerator(mixed_precision=resolve_mixed_precision(t.mixed_precision), cpu=cpu_processes,
                              kwargs_handlers=[ddp])
    plan = plan_batches(t.global_batch_size, t.per_device_batch_size, accelerator.num_processes)
    accelerator.gradient_accumulation_steps = plan.accumulation
    deepspeed = accelerator.state.deepspeed_plugin
    if deepspeed is not None:  # the recipe, not the JSON, owns the batch arithmetic
        deepspeed.deepspeed_config.update(train_micro_batch_size_per_gpu=plan.per_device,
                                          gradient_accumulation_steps=plan.accumulation,
                                          train_batch_size=plan.global_batch, gradient_clipping=t.max_grad_norm)
    set_seed(t.seed)
    output = Path(recipe.output.dir)
    done = finished_run(recipe)
    if done is not None:
        accelerator.print(f"{output / 'final'} already holds this recipe's model ({done} steps); "
                          "output.resume=never trains it again")
        return TrainResult(output_dir=output, final_dir=output / "final", steps=done, last_loss=None)
    conversations = select_kinds(read_conversations(recipe.data.train, recipe.data.image_root), recipe.data.kinds)
    schedule = plan_schedule(len(conversations), plan.global_batch, t.epochs, t.warmup_ratio, t.max_steps)
    # Under DeepSpeed the engine keeps fp32 master weights, so the model may load in the training dtype.
    half = {"bf16": "bfloat16", "fp16": "float16"}.get(accelerator.mixed_precision, "float32")
    dtype = half if deepspeed else "float32"
    base = load_base(recipe, dtype)
    model = base.model
    if recipe.model.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    model.train()
    optimizer = build_optimizer(model, recipe)
    scheduler = get_scheduler(t.lr_scheduler, optimizer, num_warmup_steps=schedule.warmup_steps,
                              num_training_steps=schedule.total_steps)
    model, optimizer = accelerator.prepare(model, optimizer)
    progress = Progress()
    accelerator.register_for_checkpointing(scheduler, progress)

    resume = resume_point(recipe)
    if resume is not None:
        check_resumable(recipe, resume)
        accelerator.load_state(str(resume))
        accelerator.print(f"resumed from {resume} at step {progress.step}")
    if accelerator.is_main_process:
        output.mkdir(parents=True, exist_ok=True)
        atomic_write_json(output / "recipe.json", recipe.to_json())
        truncate_log(output, progress.step)
    accelerator.print(
        f"{recipe.name}: {schedule.num_samples} samples, {schedule.total_steps} steps "
        f"({schedule.steps_per_epoch}/epoch, warm-up {schedule.warmup_steps}); global batch {plan.global_batch} = "
        f"{plan.per_device} per device x {plan.accumulation} accumulation x {plan.processes} process(es); "
        f"precision {accelerator.mixed_precision}"
    )
    loader = make_loader(conversations, base, recipe, plan, schedule, accelerator.process_index, progress.step)
    last_loss = run_steps(accelerator, model, base, optimizer, scheduler, loader, recipe, plan, schedule, progress)
    final = save_final(accelerator, model, base, recipe, progress.step, len(conversations))
    accelerator.end_training()
    return TrainResult(output_dir=output, final_dir=final, steps=progress.step, last_loss=last_loss)


def make_loader(conversations: list[Conversation], base: LoadedBase, recipe: Recipe, plan: BatchPlan, schedule: Schedule,
                rank: int, start_step: int) -> Any:
    from torch.utils.data import DataLoader

    sampler = StepBatchSampler(len(conversations), recipe.train.seed, plan, rank, schedule, start_step)
    return DataLoader(ConversationDataset(conversations, base.encoder), batch_sampler=sampler,
                      collate_fn=functools.partial(collate, pad_token_id=base.pad_token_id),
                      num_workers=recipe.data.num_workers)


def run_steps(accelerator: Any, model: Any, base: LoadedBase, optimizer: Any, scheduler: Any, loader: Any,
              recipe: Recipe, plan: BatchPlan, schedule: Schedule, progress: Progress) -> float | None:
    import torch

    t, out = recipe.train, recipe.output
    output = Path(out.dir)
    batches = iter(loader)
    started = time.perf_counter()
    last_loss = None
    while progress.step < schedule.total_steps:
        micro = [next(batches) for _ in range(plan.accumulation)]
        local_tokens = sum(int((b["labels"][:, 1:] != IGNORE_INDEX).sum()) for b in micro)
        tokens = int(accelerator.reduce(torch.tensor(local_tokens, device=accelerator.device), "sum").item())
        # accelerate divides by the accumulation and DDP averages over processes: undo both, so the
        # gradient is that of the mean over every answer token of the global batch.
        scale = plan.processes * plan.accumulation / max(tokens, 1)
        loss_sum = torch.zeros((), device=accelerator.device)
        grad_norm = None
        for batch in micro:
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            with accelerator.accumulate(model):
                loss = base.loss(model, batch)
                accelerator.backward(loss * scale)
                loss_sum += loss.detach()
                if accelerator.sync_gradients and t.max_grad_norm > 0:
                    grad_norm = accelerator.clip_grad_norm_(model.parameters(), t.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
        learning_rate = scheduler.get_last_lr()[0]
        scheduler.step()
        progress.step += 1
        last_loss = float(accelerator.reduce(loss_sum, "sum").item()) / max(tokens, 1)
        if progress.step % out.log_every_steps == 0 or progress.step == schedule.total_steps:
            row = {"step": progress.step, "epoch": round(progress.step / schedule.steps_per_epoch, 4),
                   "loss": last_loss, "learning_rate": learning_rate, "target_tokens": tokens,
                   "grad_norm": None if grad_norm is None else float(grad_norm),
                   "elapsed_s": round(time.perf_counter() - started, 3)}
            if accelerator.is_main_process:
                append_log(output, row)
            accelerator.print(f"step {progress.step}/{schedule.total_steps} loss {last_loss:.4f} "
                              f"lr {learning_rate:.3g}")
        if out.save_every_steps and progress.step % out.save_every_steps == 0 and progress.step < schedule.total_steps:
            save_checkpoint(accelerator, recipe, progress.step)
    return last_loss


def save_checkpoint(accelerator: Any, recipe: Recipe, step: int) -> Path:
    folder = checkpoint_dir(Path(recipe.output.dir), step)
    accelerator.save_state(str(folder))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        mark_complete(recipe, folder, step)
        prune_checkpoints(Path(recipe.output.dir), recipe.output.keep_last)
    accelerator.wait_for_everyone()
    return folder


def save_final(accelerator: Any, model: Any, base: LoadedBase, recipe: Recipe, steps: int, samples: int) -> Path:
    """Model, processor and giqa_adapter.json in ``output.dir/final``; with ZeRO-3 the weights are
    gathered from every process first."""
    folder = Path(recipe.output.dir) / "final"
    accelerator.wait_for_everyone()
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.config.use_cache = True
        base.model = unwrapped
        base.save(folder, state_dict=state_dict)
        write_final_metadata(folder, recipe, base.family, base.image_frame, base.prompt_template, steps, samples)
    accelerator.wait_for_everyone()
    return folder
