"""The shape of the package (issue 11): data_gen is numpy-only, no import cycles, configs never
silently ignore a keyword, one head module per decoder level."""
import ast
import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT
from naomi_lite import NAOMI, AutoregressiveRNN, NAOMIConfig, SingleRes
from naomi_lite.model import DecoderHead


@pytest.mark.parametrize("module", ["data_gen.billiards", "data_gen.court", "data_gen.cli", "data_gen.files"])
def test_data_gen_loads_neither_torch_nor_naomi_lite(module):
    code = (f"import sys, {module}; "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('naomi_lite')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert out.stdout.strip() == "[]"


def _package_imports() -> dict[str, set[str]]:
    """naomi_lite module -> the naomi_lite modules it imports at module level (relative or absolute)."""
    graph = {}
    for path in (REPO_ROOT / "naomi_lite").glob("*.py"):
        name = path.stem
        deps = set()
        for node in ast.parse(path.read_text()).body:  # module level only: imports inside functions are lazy
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:
                    deps.update(a.name for a in node.names)
                elif node.module and node.module.startswith("naomi_lite."):
                    deps.add(node.module.split(".")[1])
        graph[name] = deps - {name}
    return graph


def test_no_import_cycle_in_the_package():
    graph = _package_imports()
    state = {}

    def visit(m, stack):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", f"import cycle: {' -> '.join(stack + [m])}"
        state[m] = "open"
        for d in graph.get(m, ()):
            if d in graph and d != "__init__":
                visit(d, stack + [m])
        state[m] = "done"

    for m in graph:
        if m != "__init__":
            visit(m, [])


def test_a_keyword_beside_a_config_is_refused_not_ignored():
    with pytest.raises(TypeError, match="either a NAOMIConfig or keywords"):
        NAOMI(NAOMIConfig(hidden=8, decoder_hidden=8), hidden=64)


@pytest.mark.parametrize("cls", [SingleRes, AutoregressiveRNN])
def test_baselines_never_change_the_callers_config(cls):
    config = NAOMIConfig(model=cls.kind, hidden=8, decoder_hidden=8)
    before = config.to_dict()
    cls(config)
    assert config.to_dict() == before
    with pytest.raises(ValueError, match=f"this is a {cls.kind} model"):
        cls(NAOMIConfig(hidden=8, decoder_hidden=8))  # a NAOMI config: refused, not rewritten


def test_highest_is_honoured_or_refused():
    assert NAOMIConfig().highest == 64 and NAOMIConfig(model="singleres").highest == 1
    with pytest.raises(ValueError, match="one decoder head"):
        NAOMIConfig(model="singleres", highest=8)


def test_one_head_module_per_level():
    model = NAOMI(hidden=8, decoder_hidden=8, highest=16)
    heads = model.decoder.heads
    assert len(heads) == 5 and all(isinstance(h, DecoderHead) for h in heads)
    assert len({id(h.w1) for h in heads}) == 5


def test_pivot_relative_heads_start_as_linear_interpolation():
    """decoder_base='linear' (the kit's extension) with untouched weights imputes exactly linear interpolation."""
    import numpy as np

    from naomi_lite.baselines import linear_interpolate

    model = NAOMI(hidden=8, decoder_hidden=8, highest=8, decoder_base="linear")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 40, 2)).astype(np.float32)
    mask = rng.random((5, 40)) < 0.3
    mask[:, 5] = True
    np.testing.assert_allclose(model.impute(x, mask), linear_interpolate(x, mask), atol=1e-5)


def test_with_relative_heads_keeps_the_encoders_and_starts_as_linear_interpolation():
    import numpy as np

    from naomi_lite.baselines import linear_interpolate
    from naomi_lite.model import with_relative_heads

    torch.manual_seed(0)
    paper = NAOMI(hidden=8, decoder_hidden=8, highest=8)
    relative = with_relative_heads(paper)
    assert paper.config.decoder_base == "none" and relative.config.decoder_base == "linear"
    assert torch.equal(relative.fwd.cells[0].weight_ih_l0, paper.fwd.cells[0].weight_ih_l0)
    assert torch.equal(relative.decoder.heads[0].w1, paper.decoder.heads[0].w1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 30, 2)).astype(np.float32)
    mask = rng.random((3, 30)) < 0.3
    mask[:, 0] = True
    np.testing.assert_allclose(relative.impute(x, mask), linear_interpolate(x, mask), atol=1e-5)


def test_with_gaussian_heads_keeps_the_mean_and_starts_the_std_where_asked():
    import numpy as np

    from naomi_lite.model import with_gaussian_heads

    torch.manual_seed(0)
    det = NAOMI(dim=4, hidden=8, decoder_hidden=8, highest=8, decoder_base="linear")
    with torch.no_grad():  # heads that do something, so "the mean is kept" is not the zero-init's doing
        for head in det.decoder.heads:
            head.w2.normal_(0, 0.1)
            head.b2.normal_(0, 0.1)
    gauss = with_gaussian_heads(det, std=0.02)
    assert gauss.config.gaussian and not det.config.gaussian
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 30, 4)).astype(np.float32)
    mask = rng.random((3, 30)) < 0.3
    mask[:, 0] = True
    np.testing.assert_allclose(gauss.impute(x, mask), det.impute(x, mask), atol=1e-5)
    out = gauss.run(torch.as_tensor(x), torch.as_tensor(mask))
    std = out.std[~torch.as_tensor(mask)]  # (n, D) at the imputed steps
    np.testing.assert_allclose(std.detach().numpy(), 0.02, rtol=1e-4)
    with pytest.raises(ValueError, match="Gaussian already"):
        with_gaussian_heads(gauss, std=0.02)
    with pytest.raises(ValueError, match="above the std floor"):
        with_gaussian_heads(det, std=det.config.min_std / 2)


def test_gaussian_heads_flag_needs_init_from(tmp_path):
    from naomi_lite.train import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--gaussian-heads", "0.01", "--out", str(tmp_path / "m.pt")])
    assert exit_info.value.code == 2


def test_relative_heads_flag_needs_init_from(tmp_path):
    from naomi_lite.train import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--relative-heads", "--out", str(tmp_path / "m.pt")])
    assert exit_info.value.code == 2


def test_steps_to_next_known_by_hand():
    from naomi_lite.model import steps_to_next_known

    mask = torch.tensor([[True, False, False, True, False]])
    assert steps_to_next_known(mask).tolist() == [[0, 2, 1, 0, 1]]  # the last: T - t past the last known step
