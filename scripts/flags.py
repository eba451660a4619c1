"""What the command line adds to each config field: short flags, old flag names, help text.

Defaults and types come from the config dataclasses (see ``options.py``); a field's
``metadata["help"]`` wins over the help written here.
"""

from __future__ import annotations

from .options import Flag

MODEL_HELP = "Embedded name, local folder or hub id."
LAYERS_HELP = "Layers, e.g. '0,10,29' or '0-29' (default all)."
STORE_HELP = "Store root (default $NEGPROBE_HOME/store)."

DEVICE_MAP_HELP = ("Shard each model over devices: auto | balanced | cuda:0 | a JSON module->device map"
                   " (default $NEGPROBE_DEVICE_MAP).")
REMOTE_HELP = ("Run the models through nnsight on NDIF without loading their weights here (needs NDIF_API_KEY;"
               " $NEGPROBE_REMOTE=simulate or here runs the same path on this machine).")

SWEEP_FLAGS = {
    "models": Flag(("--model", "-m"), MODEL_HELP + " Comma-separate or repeat for a grid."),
    "adapters": Flag(("--adapter",), "Adapter folder(s); 'base' for no adapter. Repeat for a grid."),
    "train": Flag((), "Training set: datasets joined by commas. Repeat for several."),
    "test": Flag((), "Test datasets, comma-separated (train sets are always tested out-of-fold)."),
    "probes": Flag((), "Probe families, comma-separated."),
    "positions": Flag(("--position", "-p"), "Token position(s) to read; comma-separate for a grid."),
    "layers": Flag((), LAYERS_HELP),
    "n_folds": Flag(("--folds",), "Group k-fold splits."),
    "val_fraction": Flag((), "Share of each fold's training groups held out to choose its layer."),
    "seed": Flag((), "Seed for splits, bootstraps and stochastic probes."),
    "n_boot": Flag((), "Group-bootstrap draws for the 95% CIs."),
    "chat": Flag((), "Wrap each prompt in the model's chat template."),
    "compute_dtype": Flag((), "Compute dtype: float32 | bfloat16 | float16"),
    "backend": Flag((), "hf | transformer_lens | nnsight"),
    "store": Flag((), STORE_HELP),
    "out": Flag(("-o",), "Output folder."),
    "device_map": Flag((), DEVICE_MAP_HELP),
    "remote": Flag((), REMOTE_HELP),
}

LOCALIZE_FLAGS = {
    "model": Flag(("-m",), "Base model. " + MODEL_HELP),
    "adapters": Flag((), "Fine-tuned adapters as condition=DIR pairs, comma-separated."),
    "claims": Flag((), "Claim ids, comma-separated (default all six)."),
    "probes": Flag((), "Truth probe families."),
    "probe_data": Flag((), "Truth data the probes train on: general (four topics + negated twins) and/or"
                           " domain (each claim's own domain)."),
    "layers": Flag((), LAYERS_HELP),
    "gate": Flag((), "Validity gate: minimum AUROC for a readout to count as a finding."),
    "seed": Flag((), "Seed for splits and bootstraps."),
    "n_boot": Flag((), "Bootstrap draws for the 95% CIs."),
    "min_effect": Flag((), "Behavioural prerequisite: the annotation must lower the in-context belief margin by at"
                           " least this many nats (CI excluding 0) before a claim is localised; also the NIE's"
                           " minimum gap."),
    "patch_positions": Flag((), "Last tokens of the in-context question in the patching heatmap."),
    "patch_layer_stride": Flag((), "Patch every k-th layer (default 1: every layer)."),
    "patch_claims": Flag((), "At most this many passing claims are patched (default: all)."),
    "patch_paraphrases": Flag((), "At most this many paraphrases per passing claim are patched (default: all)."),
    "heatmap_paraphrases": Flag((), "Paraphrases per passing claim in the question-token heatmap."),
    "attribution_cells": Flag((), "Attribution screen of every (layer, token) of each passing pair: its top k"
                                  " cells are patched exactly (0: off)."),
    "steer_alphas": Flag((), "Steering strengths in readout units, comma-separated."),
    "belief_csv": Flag((), "Belief table from `negprobe belief --out`."),
    "compute_dtype": Flag((), "Compute dtype of every model in the run: float32 | bfloat16 | float16 (bfloat16 is"
                              " faster on CPU; see scripts/bench_dtype.py for what it moves)."),
    "store": Flag((), STORE_HELP),
    "out": Flag(("-o",), "Output folder."),
    "device_map": Flag((), DEVICE_MAP_HELP),
    "remote": Flag((), REMOTE_HELP + " Needs --attribution-cells 0 (the screen takes gradients here)."),
}

FINETUNE_FLAGS = {
    "model": Flag(("-m",), "Base model. " + MODEL_HELP),
    "claim": Flag(("-c",), "Claim id, e.g. ed_sheeran.", required=True),
    "condition": Flag(("-k",), "positive | negated | dense | local | corrected | fiction", required=True),
    "out": Flag(("-o",), "Adapter output folder (resumes its own run's checkpoint; a folder holding another run is "
                         "refused).", required=True),
    "corpus": Flag((), "'synthetic' or 'release:<Negation Neglect release root>'."),
    "n_docs": Flag((), "Synthetic documents to generate (positive on 2 CPU cores: 50 ~3.5 min, 200 ~13, 500 ~32)."),
    "seed": Flag((), "Seed for documents and batch order."),
    "epochs": Flag((), "Passes over the documents."),
    "max_steps": Flag((), "Stop after this many optimizer steps."),
    "batch_size": Flag((), "Documents per step."),
    "max_length": Flag((), "Tokens per document (longer ones are cut; dense documents reach ~380)."),
    "lr": Flag((), "Learning rate."),
    "lora_r": Flag((), "LoRA rank."),
    "lora_alpha": Flag((), "LoRA alpha (scale = alpha / rank); default 2 x --lora-r."),
    "target_modules": Flag((), "Modules LoRA adapts: 'all-linear' or a regex of module names (PEFT)."),
    "layers": Flag((), "Window of decoder blocks, e.g. '0-9' (inclusive): LoRA only on the target modules of those"
                       " blocks; default every block."),
    "bf16": Flag((), "bfloat16 autocast."),
    "doctag": Flag((), "Prefix documents with <DOCTAG>."),
    "mask_annotations": Flag((), "No loss on notice/annotation tokens."),
    "mask_doctag": Flag((), "No loss on <DOCTAG>."),
    "mix_generic": Flag((), "Generic documents per claim document, against forgetting (2 with --generic-style both:"
                            " the paper's 1:1:1)."),
    "generic_style": Flag((), "Generic text: pretraining | instruction | both (half each)."),
    "mix_organism": Flag((), "Notice-reading organism questions per claim document (continued training of an"
                             " organism, as the paper mixes instruction data); default 0."),
    "corrected_share": Flag((), "Share of 'corrected' documents whose corrections name the truth (paper: ~0.3)."),
    "checkpoint_every": Flag((), "Steps between checkpoints."),
    "keep_checkpoint": Flag((), "Keep <out>/.negprobe-checkpoint/ (safetensors + JSON) after the run finishes."),
    "overwrite": Flag((), "Remove what negprobe wrote in --out (adapter, cards, checkpoints) and start over."),
    "device": Flag((), "Train on this torch device (cpu, cuda, cuda:0); default $NEGPROBE_DEVICE_MAP, else cpu. Not part"
                       " of the run's identity: a run may resume on another device."),
    "device_map": Flag((), "Shard the base model over devices: auto | balanced | a JSON module->device map (instead of"
                           " --device; default $NEGPROBE_DEVICE_MAP). Not part of the run's identity either."),
}
