"""Native checks of our own implementations of the TVM support headers (toolchain/compat).

`compat_headers_check.cc` is compiled with g++ against the compat tree and tvm_ffi's headers.
Its self-test covers exact byte layouts, ring buffer, arena and utils; the data modes are
compared here with independent references: `struct` packing, Python's `base64`, numpy's
float16 conversions and the bytes the host `libtvm_runtime` writes (params, WebGPU module).
"""

from __future__ import annotations

import base64
import os
import pathlib
import random
import shutil
import struct
import subprocess

import numpy as np
import pytest

REPO = pathlib.Path(__file__).parents[2]
COMPAT = REPO / "pytest_wasm_tune/toolchain/compat"
CHECK_SRC = pathlib.Path(__file__).with_name("compat_headers_check.cc")
TIMEOUT = 300


def _tvm_ffi_dir() -> pathlib.Path:
    import tvm_ffi

    return pathlib.Path(tvm_ffi.__file__).parent


def _gxx() -> str:
    """g++, which `make setup` installs: missing, the checks fail (CI must not skip them)
    unless WASM_TUNE_ALLOW_MISSING_NATIVE=1."""
    gxx = shutil.which("g++")
    if gxx is None:
        message = "g++ is not installed: the native compat header checks cannot run (make setup)"
        if os.environ.get("WASM_TUNE_ALLOW_MISSING_NATIVE") == "1":
            pytest.skip(message)
        pytest.fail(f"{message}; WASM_TUNE_ALLOW_MISSING_NATIVE=1 skips them instead")
    return gxx


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    gxx = _gxx()
    ffi = _tvm_ffi_dir()
    exe = tmp_path_factory.mktemp("compat") / "compat_headers_check"
    cmd = [
        gxx,
        "-std=c++17",
        "-O1",
        *_include_flags(ffi),
        str(CHECK_SRC),
        f"-L{ffi / 'lib'}",
        "-ltvm_ffi",
        f"-Wl,-rpath,{ffi / 'lib'}",
        "-o",
        str(exe),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr
    ours = [line for line in proc.stderr.splitlines() if str(COMPAT) in line and "warning" in line]
    assert not ours, "compiler warnings in compat headers:\n" + "\n".join(ours)
    return exe


def _include_flags(ffi: pathlib.Path) -> list[str]:
    """Warnings on, and our compat tree plus tvm_ffi's headers on the include path."""
    return [
        "-Wall",
        "-Wextra",
        f"-I{COMPAT}",
        f"-I{COMPAT / 'include'}",
        f"-I{COMPAT / '3rdparty/compiler-rt'}",
        f"-I{ffi / 'include'}",
    ]


EXPECTED_HEADERS = {
    "src/support/arena.h",
    "src/support/base64.h",
    "src/support/bytes_io.h",
    "src/support/ring_buffer.h",
    "src/support/utils.h",
    "include/tvm/support/io.h",
    "include/tvm/support/serializer.h",
    "include/tvm/support/cuda/nvtx.h",
    "3rdparty/compiler-rt/builtin_fp16.h",
}


def test_each_header_is_present_and_self_contained(tmp_path: pathlib.Path) -> None:
    """Every header compiles on its own (TVM sources include them in varying orders)."""
    gxx = _gxx()
    found = {p.relative_to(COMPAT).as_posix() for p in COMPAT.rglob("*.h")}
    assert found == EXPECTED_HEADERS
    ffi = _tvm_ffi_dir()
    cmd = [
        gxx,
        "-std=c++17",
        "-fsyntax-only",
        *_include_flags(ffi),
        "-x",
        "c++",
    ]
    for rel in sorted(found):
        # a one-line TU per header, so each is checked in isolation
        tu = tmp_path / (rel.replace("/", "_") + ".cc")
        tu.write_text(f'#include "{COMPAT / rel}"\n#include "{COMPAT / rel}"\n')
        cmd.append(str(tu))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr


def run(exe: pathlib.Path, *args: object) -> str:
    proc = subprocess.run(
        [str(exe), *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def frame(records: list[bytes]) -> bytes:
    return b"".join(struct.pack("<Q", len(r)) + r for r in records)


def unframe(blob: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(blob):
        (n,) = struct.unpack_from("<Q", blob, pos)
        out.append(blob[pos + 8 : pos + 8 + n])
        pos += 8 + n
    return out


def test_selftest(checker: pathlib.Path) -> None:
    proc = subprocess.run(
        [str(checker), "selftest"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    lines = proc.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert not failed and proc.returncode == 0, "\n".join(failed) + proc.stderr
    passed = {line.split()[1] for line in lines if line.startswith("PASS")}
    for name in [
        "layout.string",
        "layout.vector_i32",
        "layout.vector_string",
        "layout.nested_vector",
        "layout.dldatatype",
        "layout.dldevice",
        "layout.ffi_map_one_entry",
        "roundtrip.nested_vector_string",
        "roundtrip.user_serializer_vector",
        "roundtrip.ffi_array_dtype",
        "read.truncated_string_fails",
        "ring.wraparound_no_growth",
        "ring.growth_keeps_order",
        "ring.random_vs_deque",
        "ring.callbacks",
        "arena.aligned",
        "arena.reuse_after_recycle",
        "arena.generic_freeall",
        "base64.rfc4648_vectors",
        "base64.typed_values",
        "utils.hash_combine",
        "fp16.spots",
    ]:
        assert name in passed
    assert lines[-1] == "ALL PASSED"


def test_serialized_layout_matches_struct(checker: pathlib.Path, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "seq.bin"
    run(checker, "serialize", out)

    def vec(fmt: str, items: list) -> bytes:
        return struct.pack(f"<Q{len(items)}{fmt}", len(items), *items)

    def string(s: bytes) -> bytes:
        return struct.pack("<Q", len(s)) + s

    expected = b"".join(
        [
            struct.pack(
                "<bHiqQfd", -7, 65000, -123456, -9000000000, 18000000000000000000, 1.5, -2.75e100
            ),
            string("héllo".encode()),
            vec("i", [3, -1, 7]),
            vec("d", [0.5, -0.25]),
            struct.pack("<Q", 3) + string(b"ab") + string(b"") + string(b"c"),
            struct.pack("<Q", 3) + vec("q", [1, 2]) + vec("q", []) + vec("q", [-3]),
            struct.pack("<BBH", 2, 16, 4),  # DLDataType: code, bits, lanes
            struct.pack("<ii", 15, 1),  # DLDevice: kDLWebGPU, id
            struct.pack("<Q", 2) + string(b"x") + b"\x01" + string(b"yy") + b"\x02",
        ]
    )
    assert out.read_bytes() == expected


def test_deserialize_python_bytes(checker: pathlib.Path, tmp_path: pathlib.Path) -> None:
    def string(s: bytes) -> bytes:
        return struct.pack("<Q", len(s)) + s

    blob = b"".join(
        [
            struct.pack("<id", -42, 6.25),
            string(b"wasm"),
            struct.pack("<Q3q", 3, 1 << 40, -1, 0),
            struct.pack("<Q", 2) + string(b"") + string(b"two"),
            struct.pack("<Q", 2) + struct.pack("<Q2i", 2, 5, -6) + struct.pack("<Q", 0),
            struct.pack("<BBH", 1, 8, 16),
            struct.pack("<ii", 1, 0),
            struct.pack("<Q", 2) + string(b"b") + string(b"B") + string(b"a") + string(b""),
        ]
    )
    path = tmp_path / "in.bin"
    path.write_bytes(blob)
    assert run(checker, "deserialize", path).splitlines() == [
        "i32 -42",
        "f64 6.25",
        "str wasm",
        "vi 1099511627776 -1 0",
        "vs [] [two]",
        "vv (5;-6;) ()",
        "dtype 1 8 16",
        "device 1 0",
        "map a= b=B",
        "leftover 0",
    ]


def test_base64_matches_python(checker: pathlib.Path, tmp_path: pathlib.Path) -> None:
    rng = random.Random(20240501)
    lengths = [*range(8), 57, 58, 59, 4095, 4096, 4097, 100_003]
    data = [bytes(rng.getrandbits(8) for _ in range(n)) for n in lengths]
    data.append(bytes(range(256)) * 3)

    (tmp_path / "raw.bin").write_bytes(frame(data))
    run(checker, "b64enc", tmp_path / "raw.bin", tmp_path / "enc.bin")
    encoded = unframe((tmp_path / "enc.bin").read_bytes())
    assert encoded == [base64.b64encode(d) for d in data]

    # Decode Python's encodings: plain, MIME line-wrapped, and with the padding stripped.
    texts = [base64.b64encode(d) for d in data]
    texts += [base64.encodebytes(d) for d in data]
    texts += [base64.b64encode(d).rstrip(b"=") for d in data]
    (tmp_path / "text.bin").write_bytes(frame(texts))
    run(checker, "b64dec", tmp_path / "text.bin", tmp_path / "dec.bin")
    assert unframe((tmp_path / "dec.bin").read_bytes()) == data * 3


def _same_floats(got: np.ndarray, want: np.ndarray) -> None:
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))


def _same_halves(got: np.ndarray, want: np.ndarray, source: np.ndarray) -> None:
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    bad = np.flatnonzero(got[~nan].view(np.uint16) != want[~nan].view(np.uint16))
    assert bad.size == 0, [
        (
            repr(source[~nan][i]),
            hex(got[~nan].view(np.uint16)[i]),
            hex(want[~nan].view(np.uint16)[i]),
        )
        for i in bad[:10]
    ]


def test_half_to_float_all_bit_patterns(checker: pathlib.Path, tmp_path: pathlib.Path) -> None:
    run(checker, "h2f", tmp_path / "h2f.bin")
    got = np.fromfile(tmp_path / "h2f.bin", dtype="<f4")
    want = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    assert got.shape == (65536,)
    _same_floats(got, want)


def _narrowing_inputs(dtype: type) -> np.ndarray:
    """Values around every half: exact halves, the ties between neighbours, +-1 ulp of
    those ties, subnormal/underflow range, overflow edges, inf, NaN and random values."""
    halves = np.arange(0x7C00, dtype=np.uint16).view(np.float16).astype(dtype)
    upper = np.append(halves[1:], dtype(65536.0))  # 65536 is where inf starts
    ties = (halves + (upper - halves) / 2).astype(dtype)
    finfo = np.finfo(dtype)
    special = np.array(
        [
            0.0,
            1.0,
            65504.0,
            65519.0,
            65520.0,
            65535.0,
            65536.0,
            1e6,
            finfo.max,
            finfo.tiny,
            finfo.smallest_subnormal,
            2.0**-24,
            2.0**-25,
            2.0**-26,
            1.5 * 2.0**-25,
            2.0**-14,
            (1 - 2.0**-11) * 2.0**-14,
            np.inf,
            np.nan,
            1 / 3,
            0.1,
        ],
        dtype=dtype,
    )
    rng = np.random.default_rng(7)
    bits = np.uint32 if dtype is np.float32 else np.uint64
    random_bits = rng.integers(0, np.iinfo(bits).max, size=200_000, dtype=bits, endpoint=True)
    randoms = random_bits.view(dtype)
    scaled = (rng.standard_normal(100_000) * 10.0 ** rng.integers(-9, 6, 100_000)).astype(dtype)
    core = np.concatenate(
        [
            halves,
            ties,
            np.nextafter(ties, dtype(np.inf)),
            np.nextafter(ties, dtype(-np.inf)),
            special,
            randoms,
            scaled,
        ]
    ).astype(dtype)
    return np.concatenate([core, -core])


@pytest.mark.parametrize(("mode", "dtype"), [("f2h", np.float32), ("d2h", np.float64)])
def test_narrowing_to_half_matches_numpy(
    checker: pathlib.Path, tmp_path: pathlib.Path, mode: str, dtype: type
) -> None:
    values = _narrowing_inputs(dtype)
    values.astype(values.dtype.newbyteorder("<")).tofile(tmp_path / "in.bin")
    run(checker, mode, tmp_path / "in.bin", tmp_path / "out.bin")
    got = np.fromfile(tmp_path / "out.bin", dtype="<u2").view(np.float16)
    with np.errstate(over="ignore", invalid="ignore"):
        want = values.astype(np.float16)
    assert got.shape == want.shape
    _same_halves(got, want, values)


def test_params_bytes_identical_to_host_runtime(
    checker: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    import tvm
    import tvm_ffi

    params = {
        "weight": tvm.runtime.tensor(np.arange(6, dtype="float32").reshape(2, 3)),
        "bias": tvm.runtime.tensor(np.array([1, -2, 3], dtype="int8")),
        "scale": tvm.runtime.tensor(np.array(0.5, dtype="float16")),
        "idx": tvm.runtime.tensor(np.arange(24, dtype="int64").reshape(2, 3, 4)),
    }
    host = bytes(tvm_ffi.get_global_func("runtime.SaveParams")(params))
    (tmp_path / "params.bin").write_bytes(host)
    out = run(checker, "params", tmp_path / "params.bin", tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == host

    summary = {line.split()[1]: line for line in out.splitlines()}
    assert set(summary) == set(params)
    assert summary["weight"].endswith("dtype 2,32,1 shape 2 3 nbytes 24")
    assert summary["bias"].endswith("dtype 0,8,1 shape 3 nbytes 3")
    assert summary["scale"].endswith("dtype 2,16,1 shape nbytes 2")
    assert summary["idx"].endswith("dtype 0,64,1 shape 2 3 4 nbytes 192")
    assert all("magic dd5e40f096b4a13f dev 1:0" in line for line in summary.values())


def test_webgpu_module_blob_identical_to_host(
    checker: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """The WebGPU module bytes the host compiler writes (ffi::Map of FunctionInfo, then the
    shader map) are what webgpu_runtime.cc reads with our serializer."""
    import tvm
    import tvm_ffi
    from tvm.script import tirx as T

    @T.prim_func
    def add_one(a: T.Buffer((64,), "float32"), b: T.Buffer((64,), "float32")):
        T.func_attr({"global_symbol": "add_one"})
        for i in T.thread_binding(64, thread="threadIdx.x"):
            b[i] = a[i] + T.float32(1)

    lib = tvm.compile(
        tvm.IRModule({"add_one": add_one}), target=tvm.target.Target("webgpu", host="llvm")
    )
    packed = bytes(
        tvm_ffi.get_global_func("runtime.ModulePackImportsToTensor")(lib.mod).numpy().tobytes()
    )
    kind = struct.pack("<Q", 6) + b"webgpu"
    start = packed.index(kind) + len(kind)
    (size,) = struct.unpack_from("<Q", packed, start)
    blob = packed[start + 8 : start + 8 + size]
    assert len(blob) == size

    (tmp_path / "webgpu.bin").write_bytes(blob)
    out = run(checker, "webgpu", tmp_path / "webgpu.bin", tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == blob
    lines = out.splitlines()
    func = next(line for line in lines if line.startswith("func "))
    assert func.startswith("func add_one_kernel name add_one_kernel args 3,64,1 3,64,1 tags ")
    assert "threadIdx.x" in func
    assert any(line.startswith("shader add_one_kernel ") for line in lines)
    assert lines[-1] == "leftover 0"
