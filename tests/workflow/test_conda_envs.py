"""The conda environments of the rules, checked without conda.

Each rule's environment file must list every third-party package that the code
the rule runs imports (its ``synflair`` subcommand or script, and the synflair
modules those reach), must not carry packages that none of its rules use, and
must bound every version from below and above (``>=lower,<next major``;
python pinned to a minor version), as ``envs/README.md`` documents.
"""

from __future__ import annotations

import re

import pytest
from rule_imports import CONDA_NAME, ROOT, env_packages, third_party_imports, workflow_rules

RULES = workflow_rules()
ENVS = sorted({rule.env for rule in RULES})
#: packages that provide a command-line tool, not a Python import: name -> the tool
TOOLS = {"dcm2niix": "dcm2niix", "fsl-flirt": "flirt", "fsl-fast4": "fast"}
#: where each tool is called
TOOL_CALLERS = {
    "dcm2niix": "synflair/io/dcm2niix.py",
    "flirt": "synflair/registration/fsl.py",
    "fast": "synflair/segmentation/fsl.py",
}


def test_the_rules_were_found():
    names = {rule.name for rule in RULES}
    assert {"convert_mdme", "quantify_maps", "train_stage", "report_html"} <= names
    assert len(ENVS) >= 6
    # the analysis sees through the CLI dispatcher to the stage's modules
    quantify = next(rule for rule in RULES if rule.name == "quantify_maps")
    assert {"numpy", "scipy", "nibabel"} <= third_party_imports(quantify.entry)
    train = next(rule for rule in RULES if rule.name == "train_stage")
    assert "torch" in third_party_imports(train.entry)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_environment_lists_what_its_code_imports(rule):
    assert rule.env.is_file(), f"rule {rule.name}: {rule.env} does not exist"
    listed = env_packages(rule.env)
    imported = third_party_imports(rule.entry)
    missing = sorted(CONDA_NAME.get(i, i) for i in imported if CONDA_NAME.get(i, i) not in listed)
    assert not missing, f"{rule.env.name} (rule {rule.name}) lacks {missing}"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_each_environment_carries_nothing_its_rules_do_not_use(env):
    used = set()
    for rule in RULES:
        if rule.env == env:
            used |= {CONDA_NAME.get(i, i) for i in third_party_imports(rule.entry)}
    for package in env_packages(env):
        if package in ("python", "pip"):
            continue
        if package in TOOLS:
            caller = (ROOT / TOOL_CALLERS[TOOLS[package]]).read_text()
            assert TOOLS[package] in caller, f"{env.name}: {package} provides an unused tool"
            continue
        assert package in used, f"{env.name}: {package} is imported by none of its rules"


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_versions_are_bounded(env):
    for package, spec in env_packages(env).items():
        if package == "pip" or package.startswith("fsl-"):
            continue  # FSL's own tool packages follow the FSL release the user installs
        if package == "python":
            assert re.fullmatch(r"=3\.\d+", spec), f"{env.name}: python must be pinned, not {spec}"
            continue
        assert re.fullmatch(r">=[0-9][0-9.]*,<[0-9]+", spec), (
            f"{env.name}: {package} {spec!r}; expected '>=lower,<next major' (envs/README.md)"
        )


def test_the_train_environment_can_get_a_cuda_build():
    text = (ROOT / "envs" / "train.yaml").read_text()
    assert "cpuonly" not in text and "=*cpu*" not in text
    assert "pytorch" in env_packages(ROOT / "envs" / "train.yaml")
