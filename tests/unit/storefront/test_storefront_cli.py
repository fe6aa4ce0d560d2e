"""``reviewflow run --storefront``: the option, the stub's fault spec, and the synth overrides."""

from __future__ import annotations

import pytest

from reviewflow_local.cli import build_parser
from reviewflow_local.storefront import LOCAL_STOREFRONT, attach_for_cli, storefront_overrides
from reviewflow_local.storefront_stub import TIMEOUT, parse_faults
from stacks.config import StorefrontConfig


def test_run_takes_a_storefront_target() -> None:
    args = build_parser().parse_args(["run", "--storefront", "stub:/reviews/replies=500"])
    assert args.storefront == "stub:/reviews/replies=500"
    assert build_parser().parse_args(["run"]).storefront is None


def test_fault_spec_per_path() -> None:
    assert parse_faults("/reply=500,timeout,400; /moderation=429") == {
        "/reply": [500, TIMEOUT, 400],
        "/moderation": [429],
    }
    assert parse_faults("") == {}
    for bad in ("reply=500", "/reply=", "/reply=teapot", "/reply=700"):
        with pytest.raises(ValueError):
            parse_faults(bad)


def test_overrides_only_with_the_option_and_they_validate() -> None:
    assert storefront_overrides(None) == {}
    config = StorefrontConfig.model_validate(storefront_overrides("stub")["storefront"])
    assert config.enabled and config.reply_url == LOCAL_STOREFRONT["reply_url"]


def test_a_target_that_is_not_stub_or_a_url_is_refused() -> None:
    assert attach_for_cli(object(), None) == (None, None)
    with pytest.raises(ValueError, match="neither"):
        attach_for_cli(object(), "ftp://x")
