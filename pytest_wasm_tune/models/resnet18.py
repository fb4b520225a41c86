"""ResNet-18 (batch 1, 3x224x224 float32 NCHW) as a Relax IRModule with seeded random weights.

Built with Relax's BlockBuilder (the `nn` frontend has no max/avg pooling or batch norm). The
layout and parameter names follow torchvision's `resnet18`: a 7x7/2 stem conv + BN + ReLU +
3x3/2 max pool, 4 stages of 2 BasicBlocks (64/128/256/512 channels; a 1x1/2 conv + BN
downsample in the first block of stages 2-4), global average pool, linear 1000.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INPUT_SHAPE = (1, 3, 224, 224)
NUM_CLASSES = 1000
STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, stride of the first block)
BN_EPSILON = 1e-5


class _Builder:
    """Emits ops into a BlockBuilder and creates a parameter Var + random value per weight."""

    def __init__(self, seed: int) -> None:
        from tvm import relax

        self.bb = relax.BlockBuilder()
        self.rng = np.random.default_rng(seed)
        self.params: list[Any] = []
        self.values: dict[str, np.ndarray] = {}

    def param(self, name: str, value: np.ndarray) -> Any:
        from tvm import relax

        value = value.astype("float32")
        var = relax.Var(name, relax.TensorType(value.shape, "float32"))
        self.params.append(var)
        self.values[name] = value
        return var

    def emit(self, expr: Any) -> Any:
        return self.bb.emit(expr)

    def conv(self, x: Any, name: str, cin: int, cout: int, kernel: int, stride: int) -> Any:
        from tvm import relax

        fan_in = cin * kernel * kernel  # He init keeps the activation scale through ReLUs
        weight = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), (cout, cin, kernel, kernel))
        w = self.param(f"{name}.weight", weight)
        pad = kernel // 2
        return self.emit(relax.op.nn.conv2d(x, w, strides=stride, padding=pad))

    def batch_norm(self, x: Any, name: str, channels: int) -> Any:
        from tvm import relax

        rng = self.rng
        gamma = self.param(f"{name}.weight", rng.uniform(0.8, 1.2, channels))
        beta = self.param(f"{name}.bias", rng.normal(0.0, 0.1, channels))
        mean = self.param(f"{name}.running_mean", rng.normal(0.0, 0.1, channels))
        var = self.param(f"{name}.running_var", rng.uniform(0.8, 1.2, channels))
        out = relax.op.nn.batch_norm(
            x, gamma, beta, mean, var, axis=1, epsilon=BN_EPSILON, training=False
        )
        return self.emit(relax.TupleGetItem(self.emit(out), 0))

    def conv_bn(
        self, x: Any, name: str, cin: int, cout: int, kernel: int, stride: int, bn: str
    ) -> Any:
        return self.batch_norm(self.conv(x, name, cin, cout, kernel, stride), bn, cout)

    def basic_block(self, x: Any, name: str, cin: int, cout: int, stride: int) -> Any:
        from tvm import relax

        y = self.conv_bn(x, f"{name}.conv1", cin, cout, 3, stride, f"{name}.bn1")
        y = self.emit(relax.op.nn.relu(y))
        y = self.conv_bn(y, f"{name}.conv2", cout, cout, 3, 1, f"{name}.bn2")
        if stride != 1 or cin != cout:
            x = self.conv_bn(
                x, f"{name}.downsample.0", cin, cout, 1, stride, f"{name}.downsample.1"
            )
        return self.emit(relax.op.nn.relu(self.emit(relax.op.add(y, x))))


def build_resnet18(
    seed: int = 0, image_size: int = INPUT_SHAPE[2]
) -> tuple[Any, dict[str, np.ndarray]]:
    """The Relax module (`main(data, *weights)`, attr `num_input`=1) and its weights by name.

    `image_size` other than 224 (e.g. 32) gives the same network on a smaller input: fast tests.

    Weights are He-initialised convs, BN statistics near identity and a small linear head, so
    activations stay O(1) and the logits are a meaningful numerical check.
    """
    import tvm
    from tvm import relax

    b = _Builder(seed)
    shape = (*INPUT_SHAPE[:2], image_size, image_size)
    data = relax.Var("data", relax.TensorType(shape, "float32"))
    with b.bb.function("main"):
        with b.bb.dataflow():
            x = b.conv_bn(data, "conv1", 3, 64, 7, 2, "bn1")
            x = b.emit(relax.op.nn.relu(x))
            x = b.emit(relax.op.nn.max_pool2d(x, pool_size=3, strides=2, padding=1))
            cin = 64
            for stage, (cout, stride) in enumerate(STAGES, start=1):
                for block in range(2):
                    first_stride = stride if block == 0 else 1
                    x = b.basic_block(x, f"layer{stage}.{block}", cin, cout, first_stride)
                    cin = cout
            x = b.emit(relax.op.mean(x, axis=[2, 3]))  # global average pool -> (1, 512)
            bound = 1.0 / np.sqrt(cin)
            w = b.param("fc.weight", b.rng.uniform(-bound, bound, (NUM_CLASSES, cin)))
            bias = b.param("fc.bias", b.rng.uniform(-bound, bound, NUM_CLASSES))
            out = b.bb.emit_output(relax.op.linear(x, w, bias))
        b.bb.emit_func_output(out, params=[data, *b.params])
    mod = b.bb.get()
    mod["main"] = mod["main"].with_attr("num_input", 1)
    return tvm.IRModule(mod.functions), b.values


def resnet18_for_compile(seed: int = 0, image_size: int = INPUT_SHAPE[2]) -> Any:
    """ResNet-18 with its weights bound as constants: `main(data)`.

    Binding (rather than passing 62 weight tensors per call) makes the wasm self-contained: one
    module, one input, no 45 MB upload per session and nothing to keep in sync. The cost is that
    the 45 MB of float32 weights go into the wasm's data section (and are copied once more into
    wasm memory when the VM loads its constants). FoldConstant also folds the BN arithmetic on
    constants, which leaves a conv2d + scale/shift + ReLU per fused task.
    """
    mod, params = build_resnet18(seed, image_size)
    return bind_params(mod, params)


def bind_params(mod: Any, params: dict[str, np.ndarray]) -> Any:
    """`main` with `params` bound as constants (and `num_input` dropped)."""
    import tvm
    from tvm import relax

    bound = relax.transform.BindParams(
        "main", {k: tvm.runtime.tensor(v) for k, v in params.items()}
    )(mod)
    func = bound["main"].without_attr("num_input")
    bound["main"] = func
    return bound
