"""Global options (`--workspace`) work before or after the subcommand, as in other command-line tools."""

from __future__ import annotations

from typer.testing import CliRunner

from assistant.cli.main import app, hoist_global_options


def test_global_options_are_hoisted_from_anywhere() -> None:
    assert hoist_global_options(["ingest", "./reports", "--workspace", "W"]) == ["--workspace", "W", "ingest",
                                                                                 "./reports"]
    assert hoist_global_options(["docs", "list", "--workspace=W"]) == ["--workspace=W", "docs", "list"]
    assert hoist_global_options(["ask", "--", "--workspace", "W"]) == ["ask", "--", "--workspace", "W"]


def test_workspace_after_the_subcommand_is_the_workspace_used(tmp_path) -> None:
    runner = CliRunner()
    for args in (["status", "--workspace", str(tmp_path / "after")],
                 ["--workspace", str(tmp_path / "before"), "status"],
                 ["docs", "list", f"--workspace={tmp_path / 'nested'}"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        named = args[-1].split("=")[-1] if "=" in args[-1] else next(a for a in args if a.startswith(str(tmp_path)))
        assert f"no index at {named}" in result.output, result.output
