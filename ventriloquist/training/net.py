"""The pattern nets in Keras: the paper's 108-80-5 binary-code BP net and our softmax pattern blender.

Both map a normalised context window to pattern scores; only that part is exported. The default
net trains through a frozen layer that blends the pattern table by the softmax probabilities
(exactly what device.model.decoder does), so it learns continuous motion, with a small
cross-entropy term to the ISODATA labels keeping each output tied to its pattern.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ventriloquist.device.bundle import code_bits


@dataclass(frozen=True)
class NetSettings:
    """Architecture and optimiser of one preset."""

    coding: str
    """"binary" (the paper's bit code of the class) or "softmax" (blend of patterns)."""
    hidden: tuple[int, ...]
    activation: str
    learning_rate: float = 0.001
    input_noise: float = 0.0
    """Std of Gaussian noise on the normalised inputs while training."""
    dropout: float = 0.0
    l2: float = 0.0
    label_weight: float = 0.1
    """softmax only: weight of the cross-entropy to the ISODATA labels beside the blended-FAP error."""

    def as_dict(self) -> dict:
        return asdict(self)


def binary_codes(labels: np.ndarray, n_patterns: int) -> np.ndarray:
    """The paper's class code: pattern k as code_bits(K) bits, most significant first."""
    bits = code_bits(n_patterns)
    return ((labels[:, None] >> np.arange(bits)[::-1]) & 1).astype(np.float32)


def build_scorer(input_dim: int, n_out: int, s: NetSettings):
    """The exported part: normalised window -> pattern probabilities (softmax) or code bits (sigmoid)."""
    import keras

    reg = keras.regularizers.L2(s.l2) if s.l2 else None
    layers = [keras.Input((input_dim,), name="window")]
    if s.input_noise:
        layers.append(keras.layers.GaussianNoise(s.input_noise))
    for units in s.hidden:
        layers.append(keras.layers.Dense(units, activation=s.activation, kernel_regularizer=reg))
        if s.dropout:
            layers.append(keras.layers.Dropout(s.dropout))
    out_activation = "softmax" if s.coding == "softmax" else "sigmoid"
    layers.append(keras.layers.Dense(n_out, activation=out_activation, name="scores"))
    return keras.Sequential(layers, name="pattern_scorer")


def build_trainer(scorer, patterns_z: np.ndarray, s: NetSettings):
    """(training model, losses, loss weights): softmax adds the frozen pattern-blend output."""
    import keras

    if s.coding == "binary":
        return scorer, keras.losses.BinaryCrossentropy(), None
    k, d = patterns_z.shape
    blend = keras.layers.Dense(d, use_bias=False, trainable=False, name="blend")
    x = keras.Input((scorer.input_shape[-1],))
    probs = scorer(x)
    faps = blend(probs)
    blend.set_weights([patterns_z.astype(np.float32)])
    model = keras.Model(x, {"probs": keras.layers.Identity(name="probs")(probs), "faps": faps})
    losses = {"probs": keras.losses.SparseCategoricalCrossentropy(), "faps": keras.losses.MeanSquaredError()}
    return model, losses, {"probs": s.label_weight, "faps": 1.0}


def fit(scorer, patterns_z: np.ndarray, s: NetSettings, train: tuple, val: tuple, *, epochs: int, patience: int,
        batch_size: int, seed: int, verbose: int = 1) -> dict:
    """Train with Adam, early stopping on the validation clips (best weights restored); returns the history.

    train/val: (inputs, labels, targets_z, frame weights) with targets in the clustering space's units.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model, losses, loss_weights = build_trainer(scorer, patterns_z, s)
    model.compile(optimizer=keras.optimizers.Adam(s.learning_rate), loss=losses, loss_weights=loss_weights)

    def y(part):
        x, labels, targets_z, _ = part
        if s.coding == "binary":
            return binary_codes(labels, len(patterns_z))
        return {"probs": labels, "faps": targets_z}

    def weights(part):
        w = part[3]
        return w if s.coding == "binary" else {"probs": w, "faps": w}

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(
        train[0], y(train), sample_weight=weights(train), validation_data=(val[0], y(val), weights(val)),
        epochs=epochs, batch_size=batch_size, shuffle=True, callbacks=[stop], verbose=verbose,
    )
    h: dict[str, Any] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    h["best_epoch"] = int(np.argmin(h["val_loss"])) + 1
    return h
