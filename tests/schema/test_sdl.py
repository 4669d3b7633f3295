"""The committed SDL (schema.graphql) is the schema the server serves."""

from pathlib import Path

from schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_is_current():
    committed = SDL.read_text()
    assert committed.strip() == schema.as_str().strip(), "schema.graphql is stale: run `make sdl`"
