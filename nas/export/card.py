"""The model card of an exported architecture (``MODEL_CARD.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.export.record import ProxyRecord, measured_record, shipped_record
from nas.io import relative_path
from nas.model.rcnn.config import RCNNConfig
from nas.runs.rows import TrialRow

__all__ = ["model_card"]


def _proxy_record(proxy: dict[str, Any]) -> str:
    """How well the run's proxy ranks (:mod:`nas.export.record`): its measured record when
    one was measured for these settings, else a sentence saying it was not and for which
    settings the record holds."""
    record = measured_record(proxy)
    if record is None:
        return (f"How well it ranks was not measured for these settings: the proxy's measured record (docs/proxy.md "
                f"in the nas repository) holds for {_measured_settings(shipped_record())} only. Train the shortlisted "
                "networks fully before you choose one by accuracy.")
    low, high = record.kendall_tau_range
    factor = f"{record.long_factor:g}x"
    return (f"Measured for this proxy ({_measured_settings(record)}; docs/proxy.md in the nas repository), it puts a "
            f"single-level neck below FPN, PANet and BiFPN as a {factor} longer training does in "
            f"{record.neck_pairs_ordered_alike:.0%} of such pairs. Beyond that, two seeds of the same proxy trial differ by "
            f"a median {record.seed_median_abs_difference:g} GPS AP points, and its ranking agrees with the {factor} longer "
            f"training only at Kendall tau {low:g}-{high:g} ({record.pooled_kendall_tau:g} over {record.pooled_over} "
            f"networks){_metric_note(record)}. Train the shortlisted networks fully before you choose one by accuracy.")


def _metric_note(record: ProxyRecord) -> str:
    """Which GPS AP the record's figures were scored with, when it is not the official one
    this run's scores use."""
    if record.metric == "official":
        return ""
    return ("; these figures were scored with the project's former GPS AP rules (`nas eval --wrong-part zero "
            "--placement frame256 --masks nearest --ignore-rule per-threshold`), not the official DensePose metric this "
            "card's scores use, and have not been re-measured with it")


def _measured_settings(record: ProxyRecord) -> str:
    """The settings a record was measured with, in words."""
    h, w = record.proxy["input_size"]
    images = " and ".join(f"{n:,}" for n in record.images)
    return f"{record.proxy['budget']['steps']} steps at {h}x{w}, {images} images of the `{record.scene}` synthetic scenes"


def model_card(row: TrialRow, config: dict[str, Any], table_meta: dict[str, Any], files: list[str], on_front: bool,
               calibration: str | None = None) -> str:
    """``calibration``: what the int8 program was calibrated on and how close it stays to
    fp32 (None: no int8 program)."""
    proxy = config["proxy"]
    run = config["out"]
    # relative to the run folder: a card copied or committed with its run (the data and
    # table usually sit beside the run's parent: ../../data/proxy)
    data, table = relative_path(config["data"], run), relative_path(config["table"], run)
    pixels = RCNNConfig()
    deploy = row.arch.rsplit('+in', 1)[-1]
    int8_note = ("" if calibration is None else
                 f"\n`model_int8.pte` is quantized after training (PT2E XNNPACK quantizer, symmetric per-channel int8 weights, "
                 f"int8 activations); its activation ranges were calibrated on {calibration}. Check its accuracy before shipping it.\n")
    budget = proxy["budget"]
    steps = budget.get("steps")
    h, w = proxy["input_size"]
    device = f"{table_meta.get('device', '?')}, {table_meta.get('runtime', '?')}, {table_meta.get('threads', '?')} thread(s), {table_meta.get('dtype', 'fp32')}"
    fill = table_meta.get("fill")
    if isinstance(fill, dict) and fill.get("rows"):  # a table from nas profile --fill: some ops predicted, not timed
        how = ("predicted from another device's table by `nas profile --adapt-from`" if fill.get("method") == "adapt"
               else "fitted from measured ones by `nas profile --fill`")
        device += f" ({fill['rows']} of the table's ops {how})"
    train_proxy = (f"nas train '{row.arch}' --data {data} --budget-steps {steps} --proxy-input {h} {w} "
                   f"--batch-size {proxy['batch_size']} --evals {proxy['evals']} --seed {proxy['seed']}"
                   + (f" --val-images {proxy['val_images']}" if proxy.get("val_images") else ""))
    scoring = _Scoring.of(row, config, data, train_proxy, f"{steps} steps at {h}x{w}", _proxy_record(proxy))
    return f"""# {row.baseline or row.trial}: architecture {row.arch_id}

{"Pareto-optimal (GPS AP vs latency) in" if on_front else "Chosen from"} search run `{Path(run).name}` (paths below are relative to the run folder).

| | |
|---|---|
| GPS AP ({scoring.label}) | {row.gps_ap:.2f} |
| GPSm AP ({scoring.label}) | {row.gpsm_ap:.2f} |
| GPS AP50 / AP75 | {row.gps_ap50:.2f} / {row.gps_ap75:.2f} |
| Predicted {table_meta.get('dtype', 'fp32')} latency | {row.latency_ms:.2f} ms (batch 1, {deploy} input) on {device}; table `{table}` |
| Parameters | {row.params / 1e6:.3f} M (whole DensePose R-CNN) |
| MACs | {row.macs / 1e6:.1f} M (backbone + neck at the deploy input) |
| Trial | `{row.trial}`, {scoring.trial}, {row.wall_seconds:.0f} s wall on {row.node} |

Architecture (the canonical string; `arch.json` holds the same spec):

```
{row.arch}
```

## Files

{chr(10).join(f"- `{f}`" for f in files)}

`model.pt` holds `{{"arch": str, "state_dict": ...}}` of the DensePose R-CNN {scoring.weights}:
`torch.load("model.pt", weights_only=True)`. The `.pte` programs hold the
deployable dense part (backbone + neck, outputs sorted by level) for ExecuTorch with the
XNNPACK delegate; the RoI heads run per detection on the host. Input: one float32 tensor
(1, 3, {deploy.replace('x', ', ')}), RGB in [0, 1] fitted into {deploy} with its aspect ratio kept (padding
with 0 at the bottom and right), then normalised per channel with mean {pixels.pixel_mean} and std
{pixels.pixel_std}.
{int8_note}
## Caveat

{scoring.caveat}

## {scoring.reproduce_title}

From the run folder:

```
{scoring.reproduce}
```

## Train it fully

Train on DensePose-COCO for a full schedule at the deploy resolution. `--data` takes a
descriptor YAML naming each split's annotation file and image folder and the body surface
(DensePose's evaluation files), e.g. `densepose_coco.yaml`:

```
train: {{annotations: annotations/densepose_coco_2014_train.json, images: train2014}}
val: {{annotations: annotations/densepose_coco_2014_minival.json, images: val2014}}
surface: densepose_eval
```

```
nas train '{row.arch}' --data densepose_coco.yaml --budget-epochs 24 --proxy-input {deploy.replace('x', ' ')} --batch-size 16 --evals 6 --out full_run
```
"""


@dataclass(frozen=True)
class _Scoring:
    """How a card describes where its AP came from: a proxy training or a supernet."""

    label: str
    trial: str
    weights: str
    caveat: str
    reproduce_title: str
    reproduce: str

    @classmethod
    def of(cls, row: TrialRow, config: dict[str, Any], data: str, train_proxy: str, proxy_budget: str, record: str) -> _Scoring:
        supernet = config.get("supernet")
        if row.scorer != "supernet" or not supernet:
            return cls("proxy", f"{row.steps} steps", "after the proxy training",
                       f"The AP above comes from a short proxy training ({proxy_budget}) used to rank candidates, on the "
                       f"dataset `{data}`: it is not the accuracy of a fully trained model, and it ranks architectures only "
                       f"coarsely. {record}", "Reproduce the proxy training", f"{train_proxy} --out proxy_run")
        folder = relative_path(supernet, config["out"])
        finetune = int(config.get("supernet_finetune_steps", 0))
        bn = int(config.get("supernet_bn_batches", 16))
        val = config["proxy"].get("val_images")
        command = (f"nas supernet score {folder} '{row.arch}' --data {data} --bn-batches {bn} --finetune-steps {finetune} "
                   f"--seed {config['proxy']['seed']}" + (f" --val-images {val}" if val else ""))
        tuned = f", fine-tuned {finetune} steps" if finetune else ""
        return cls("supernet", f"scored from the supernet `{folder}`{tuned}",
                   f"with the weights it inherits from the supernet `{folder}`{tuned}, batch-norm statistics "
                   f"recalibrated on {bn} training batches",
                   f"The AP above was scored with weights inherited from a weight-sharing supernet trained once for the "
                   f"whole space (docs/supernet.md), on the dataset `{data}`: the candidate itself was not trained. It "
                   "ranks candidates against each other; it is not the accuracy of this model trained alone.",
                   "Reproduce the score", command)
