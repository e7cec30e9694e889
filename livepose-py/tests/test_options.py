"""Options: keyword arguments parsed once by livepose's Rust options types
(``PipelineOptions``, ``ServeOptions``), the type stubs' lists held to them, and options
that reach the server."""

from __future__ import annotations

import ast
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import livepose

STUBS = Path(livepose.__file__).with_name("_livepose.pyi")


def stub_parameters(function: str, options: str) -> set[str]:
    """The names `function` takes in the type stubs: its named parameters and the fields
    of the TypedDict `options` its ``**options`` unpack."""
    tree = ast.parse(STUBS.read_text())
    fields = next(
        {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == options
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == function:
            node = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__new__")
        if isinstance(node, ast.FunctionDef) and node.name in (function, "__new__"):
            assert node.args.kwarg is not None and options in ast.unparse(node.args.kwarg.annotation)
            named = {a.arg for a in node.args.args + node.args.kwonlyargs} - {"self", "cls"}
            return named | fields
    raise AssertionError(f"{function} not in {STUBS}")


def accepted(call) -> set[str]:
    """The option names an unknown one is told to pick from."""
    with pytest.raises(livepose.ConfigError) as caught:
        call(no_such_option=1)
    found = re.search(r"unknown option \"no_such_option\" \(expected one of: ([^)]*)\)", str(caught.value))
    assert found, str(caught.value)
    return set(found.group(1).split(", "))


def test_the_stubs_list_every_pipeline_option():
    assert accepted(livepose.Pipeline) == stub_parameters("Pipeline", "_PipelineOptions")


@pytest.mark.parametrize("function", ["serve", "serve_background"])
def test_the_stubs_list_every_server_option(function):
    assert accepted(getattr(livepose, function)) == stub_parameters(function, "_ServeOptions")


@pytest.mark.parametrize("kwargs, words", [
    ({"num_poses": 0}, 'option "num_poses" must be 1 to 64, got 0'),
    ({"hands": "yes"}, 'option "hands": invalid type: string "yes", expected a boolean'),
    ({"models_dir": 3}, 'option "models_dir"'),
])
def test_each_refusal_names_its_option(kwargs, words):
    with pytest.raises(livepose.ConfigError) as caught:
        livepose.Pipeline(**kwargs)
    assert words in str(caught.value)


def test_paths_and_none_are_accepted(models_dir):
    pipeline = livepose.Pipeline(models_dir=Path(models_dir), smoothing=None, threads=1)
    assert 'smoothing="one_euro"' in repr(pipeline)


def test_server_options_refused_by_name():
    with pytest.raises(livepose.ConfigError, match='option "view_token" needs room_token'):
        livepose.serve_background(port=0, view_token="v")
    with pytest.raises(livepose.ConfigError, match='option "max_fps" must be at least 1'):
        livepose.serve_background(port=0, max_fps=0)
    with pytest.raises(livepose.ConfigError, match='option "port"'):
        livepose.serve_background(port=70000)


def test_server_options_reach_the_server(models_dir):
    with livepose.serve_background(port=0, models_dir=models_dir, workers=1, token="secret",
                                   allowed_origins=["https://example.org"], demo=False) as server:
        base = f"http://{server.address}"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{base}/streams", timeout=30)
        assert caught.value.code == 401
        request = urllib.request.Request(f"{base}/streams", headers={"Authorization": "Bearer secret"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{base}/", timeout=30)
        assert caught.value.code == 404
