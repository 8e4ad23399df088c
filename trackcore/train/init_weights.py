"""Start a training from another run's weights: ``trackcore fit ... --init_weights CKPT``.

Fine-tuning a model trained elsewhere (at a lower hit density, on simulation before real data)
needs its weights and nothing else: ``--ckpt_path`` resumes the whole run instead (its epoch
counter, optimizer and learning-rate schedule, which may have decayed to zero). The callback loads
the checkpoint's state dict into the module when the trainer sets up, before Lightning restores a
``--ckpt_path``: so a run resumed from its own checkpoint continues from that checkpoint, and
``--init_weights`` only decides where a fresh run starts.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch


class InitWeights(L.Callback):
    """Load ``checkpoint``'s weights into the module at the start of ``fit`` (strict: every weight,
    of matching shapes; a mismatch names the file and the first differing keys).

    Args:
        checkpoint: a Lightning checkpoint of the same model (its ``state_dict``).
    """

    def __init__(self, checkpoint: str | Path) -> None:
        self.checkpoint = Path(checkpoint)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        state = torch.load(self.checkpoint, map_location="cpu", weights_only=False)["state_dict"]
        own = pl_module.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        shapes = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
        if missing or unexpected or shapes:
            parts = [f"{name} {keys[:3]}" for name, keys in
                     (("missing", missing), ("unexpected", unexpected), ("other shape", shapes)) if keys]
            raise ValueError(f"--init_weights {self.checkpoint}: not this model's weights ({'; '.join(parts)})")
        pl_module.load_state_dict(state)
        print(f"initial weights from {self.checkpoint} (epoch, optimizer and schedule start afresh)", flush=True)
