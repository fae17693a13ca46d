"""The shipped variants are reforms of their base (schemes/reforms/) and score as before.

Before the variants became reforms they were whole copied files. The digests below were
taken from those files (over the bundled example, the population fixture and a small
history of enterprises), with `scoring_digest` of each scheme (what it scores with: no
text, no sources); the reforms reproduce every one of them. Their ids did not change.

Two pins were taken again after readings of their bases changed (issue "Fidelity v2"), a
variant being its base with the reform's changes: fuzhou_yuming's city volunteer row counts
a year's total hours (`accumulated`), and meritown_2019's band A holds every score from
1,000 up (its volunteering reform now also drops the base's cap of 50 a block). The pins
are of the rules: meritown_2019's periodic checks, added later, are left out when they are
compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from creditlab.cli.main import cli
from creditlab.engine import load_history, replay, shipped_vocabulary
from creditlab.engine.canonical import digest
from creditlab.engine.checks.lint import lint_scheme
from creditlab.engine.inputs.catalog import shipped_reform_files, shipped_schemes
from creditlab.engine.inputs.reform import ReformedScheme, load_reform

ROOT = Path(__file__).resolve().parents[1]

ENTERPRISES = """\
name: enterprises for the variants
subjects:
  - {id: acme, kind: enterprise}
  - {id: bolt, kind: enterprise}
events:
  - {id: e1, subject: acme, at: 2020-05-01, type: administrative.warning}
  - {id: e2, subject: acme, at: 2020-06-01, type: environment.emissions_violation}
  - {id: e3, subject: bolt, at: 2021-01-10, type: administrative.warning}
"""

SCORING = {"scale": ("min", "max", "start", "clamp"),
           "bands": ("label", "range"),
           "cap_groups": ("id", "cap"),
           "rules": ("id", "direction", "match", "effects", "cap", "cap_group", "frequency",
                     "same_act_as", "effective_from", "effective_to", "expires_after")}


def scoring_digest(scheme) -> str:
    """The sha256 of what a scheme scores with: no text, no sources."""
    data = scheme.model_dump()
    out = {"id": data["id"], "subject_kind": data["subject_kind"],
           "scale": {k: data["scale"][k] for k in SCORING["scale"]}}
    for part in ("bands", "cap_groups", "rules"):
        out[part] = [{k: item[k] for k in SCORING[part]} for item in data[part]]
    return digest(out)


EMPTY = "sha256:683b6f2efe7432a714e3dbdd392b60851911a0cbf6c8d95a16f1ab06c7395705"
"""The digest of a replay with no results (no subject of the scheme's kind)."""

BEFORE = {
    "fuzhou_yuming@donation_cap_per_donation": {
        "scoring": "sha256:f1e93d56a95429f16e4cf38b4cffda8d800b02d8a75db9cb2e281ecc335473a0",
        "example": "sha256:8feea0458d88bfa5acad5faa1217c68fb012e61b9ada3dee2a4403819b198d38",
        "population": "sha256:e4a3941cc91bbd7b2786841f4213d2f1195e178da6ec3c8b79fdacffcb285a5c",
        "enterprises": EMPTY,
    },
    "hangzhou_qianjiang@upper_inclusive": {
        "scoring": "sha256:f0ac1d7178306176512a600775bb25f6c2afbd70dd980bf7331653f4bc39eeaa",
        "example": "sha256:b29693d14162ef33a365c5c63f6bc610d92ca1ef5beb128d6cec0f183e795425",
        "population": "sha256:f3284ac8013594f3a8d608f3c9e5828150cff3191119a919ab5274e4d95896e2",
        "enterprises": EMPTY,
    },
    "jiangsu_env_enterprise@deduction_budget": {
        "scoring": "sha256:692a534bb2c4ecba9fae9a0471a61bf6ea728eedb3e6156a4b2603ae8b8025c5",
        "example": EMPTY,
        "population": EMPTY,
        "enterprises": "sha256:02be99b8b4569dda8124fe3a0e84e0467af3c3fb81a13c1c812fac01b26f1791",
    },
    "meritown_2019@rate_only": {
        "scoring": "sha256:60105e6e62039b48892ed1aa6107b4719892a4cd1a0a1955d6ea384b2b692b82",
        "example": "sha256:5fb672c30c47eaf2d5da8f51adf3bf95a63c2e04f9aa506ce642c2d1743c09bf",
        "population": "sha256:95bcd322c2ba9a9b71d7f3763f2877be961734749bcb5292e80435e5620ece82",
        "enterprises": EMPTY,
    },
    "rongcheng_city@one_point_to_b": {
        "scoring": "sha256:d844d88ed437dc7c35e8e6c9a7a6aecaac26a5d13478b45ebf53123ddc2d8505",
        "example": "sha256:d4dead7708802d841ae7a80d80144546327fef91f4433f30516dfb06716f9b8c",
        "population": "sha256:01047f638a344b0bd98f23975c133baba758d2311680c536bd1a3c34ead8157f",
        "enterprises": EMPTY,
    },
    # Added as a reform (it was never a whole file): pinned from its first replay, on which
    # both backends agree.
    "rongcheng_dongdao_lujia@eldercare_any_30_days": {
        "scoring": "sha256:239fbb692eaad2283ed4f66a8ce36d140a821c1240336f2bfdbd91982081acdd",
        "example": "sha256:8c0267ebaaede2ddded9c86dc5043b86c26331af5e3e18441c95505344b59c5d",
        "population": "sha256:8f60ee6bbd26025ad4b805e98e46f2fd068996b7729fc35af75bad00999ed6f1",
        "enterprises": EMPTY,
    },
    "wuhu_lehui@endpoint_to_lower_band": {
        "scoring": "sha256:5b8c43f86211f346e50357e89c47dbd4742801f9ddcbad8be39be445b58e3dde",
        "example": "sha256:2f3cb345e5d19dc611363a8f3ce7bb25155b78479089f55d4f819addea1f25ee",
        "population": "sha256:3fe4b0f535e50aa6ee0e37c9a8e4069e028060d4780039b8236284e22c3108ff",
        "enterprises": EMPTY,
    },
}

VARIANTS = {s.id: s for s in shipped_schemes() if s.variant is not None}


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    vocabulary = shipped_vocabulary()
    enterprises = tmp_path_factory.mktemp("variants") / "enterprises.yaml"
    enterprises.write_text(ENTERPRISES, encoding="utf-8")
    return {"example": load_history(ROOT / "fixtures" / "example.yaml", vocabulary),
            "population": load_history(ROOT / "fixtures" / "population.jsonl", vocabulary),
            "enterprises": load_history(enterprises, vocabulary)}


def test_every_variant_is_a_shipped_reform_with_its_old_id():
    assert set(VARIANTS) == set(BEFORE)
    assert {p.stem for p in shipped_reform_files()} == set(BEFORE)
    for variant_id, scheme in VARIANTS.items():
        assert isinstance(scheme, ReformedScheme)
        base = variant_id.split("@")[0]
        assert scheme.variant is not None and scheme.variant.of == base
        assert scheme.baseline == base and Path(scheme.file).parent.name == "reforms"


@pytest.mark.parametrize("variant_id", sorted(BEFORE))
def test_each_variant_scores_as_its_old_file(variant_id, histories):
    scheme = VARIANTS[variant_id]
    expected = BEFORE[variant_id]
    assert scoring_digest(scheme) == expected["scoring"]
    # The old files had no periodic checks (a later mechanic, which meritown_2019 has): the
    # pins are of the rules, so the variant is replayed without its base's checks. That
    # the checks come through a reform is tested below.
    rules_only = scheme.model_copy(update={"checks": []})
    for name, history in histories.items():
        assert replay(history, [rules_only], backend="columnar").digest == expected[name], name


def test_a_variant_keeps_its_bases_periodic_checks():
    base = next(s for s in shipped_schemes() if s.id == "meritown_2019")
    assert base.checks
    for variant_id, scheme in VARIANTS.items():
        if variant_id.startswith("meritown_2019@"):
            assert scheme.checks == base.checks


@pytest.mark.parametrize("path", shipped_reform_files(), ids=lambda p: p.stem)
def test_each_variant_reform_is_much_shorter_than_its_base(path):
    reform, _ = load_reform(path)
    base = path.parents[1] / f"{reform.reform.of}.yaml"
    header = reform.reform
    assert header.variant is not None and path.stem == f"{header.of}@{header.id}"
    assert len(path.read_text("utf-8").splitlines()) < len(base.read_text("utf-8").splitlines())


def test_the_variants_are_listed(runner):
    listed = runner.invoke(cli, ["schemes", "--format", "json"])
    ids = {s["id"]: s["variant_of"] for s in json.loads(listed.output)}
    assert {k: v for k, v in ids.items() if v} == {k: k.split("@")[0] for k in BEFORE}


@pytest.mark.parametrize("variant_id", sorted(BEFORE))
def test_each_variant_lints_without_error(variant_id):
    # `creditlab lint` reads scheme files; a variant has none of its own, so its scheme is
    # linted as loaded (findings without lines).
    errors = [f for f in lint_scheme(VARIANTS[variant_id]) if f.severity == "error"]
    assert errors == []
