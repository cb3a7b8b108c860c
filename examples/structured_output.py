"""Structured output: a pydantic object straight from the model."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).parent))
from _backend import grok_backend


class Movie(BaseModel):
    """A movie recommendation."""

    title: str = Field(description="The movie's title")
    year: int = Field(ge=1888, le=2100)
    genres: list[str] = Field(min_length=1)
    why: str = Field(description="One sentence on why it fits")


def main() -> None:
    with grok_backend(model="grok-4.3", temperature=0) as (model, _):
        picker = model.with_structured_output(Movie)
        movie = picker.invoke("Recommend one classic science-fiction movie.")
        assert isinstance(movie, Movie)
        print(repr(movie))


if __name__ == "__main__":
    main()
