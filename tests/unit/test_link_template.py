import json
from pathlib import Path

import pytest

from pytest_wasm_tune.errors import ToolchainError
from pytest_wasm_tune.toolchain import link

LOG = """shared:DEBUG: emcc step "link" took 0.01 seconds
shared:DEBUG: successfully executed /usr/bin/wasm-ld-14 -o /tmp/x/probe.wasm /c/wasm/wasm_runtime.o /tmp/x/probe.o -L/sys/lib '--export-if-defined=a b' --no-entry
shared:DEBUG: emcc step "post" took 0.2 seconds
"""


def test_parse_turns_probe_and_output_into_slots() -> None:
    template = link.parse_wasm_ld_command(LOG, Path("/tmp/x/probe.o"), Path("/tmp/x/probe.wasm"))
    assert template[:3] == ["/usr/bin/wasm-ld-14", "-o", link.OUTPUT_SLOT]
    assert template[3:5] == ["/c/wasm/wasm_runtime.o", link.OBJECTS_SLOT]
    assert "--export-if-defined=a b" in template, "quoted arguments stay one argument"
    assert template[-1] == "--strip-all"


@pytest.mark.parametrize("log", ["", LOG + LOG.splitlines()[1] + "\n"])
def test_parse_rejects_zero_or_several_links(log: str) -> None:
    with pytest.raises(ToolchainError, match="expected one wasm-ld call"):
        link.parse_wasm_ld_command(log, Path("/tmp/x/probe.o"), Path("/tmp/x/probe.wasm"))


def test_parse_rejects_a_command_without_the_probe() -> None:
    with pytest.raises(ToolchainError, match="unexpected wasm-ld command"):
        link.parse_wasm_ld_command(LOG, Path("/tmp/other.o"), Path("/tmp/x/probe.wasm"))


def test_linker_replays_the_template(tmp_path: Path) -> None:
    class FakeRuntime:
        link_template = tmp_path / "t.json"

    FakeRuntime.link_template.write_text(
        json.dumps(["wasm-ld", "-o", link.OUTPUT_SLOT, "/rt.o", link.OBJECTS_SLOT, "--strip-all"])
    )
    linker = link.KernelLinker(FakeRuntime())  # type: ignore[arg-type]
    argv = linker.command([Path("/k1.o"), Path("/k2.o")], Path("/out.wasm"))
    assert argv == ["wasm-ld", "-o", "/out.wasm", "/rt.o", "/k1.o", "/k2.o", "--strip-all"]
    exporting = linker.command([Path("/k1.o")], Path("/out.wasm"), exports=["a", "b_compute_"])
    assert exporting[-2:] == ["--export-if-defined=a", "--export-if-defined=b_compute_"]
    assert linker.fcompile().object_format == "o"
