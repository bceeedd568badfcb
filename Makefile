# Shortcuts; the scripts are the source of truth (they work without make).
.PHONY: demo test bench fmt lint types

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	uv run --frozen python bench/parse_accuracy.py

fmt:
	uv run --frozen ruff format src tests bench samples
	uv run --frozen ruff check --fix src tests bench samples

lint:
	uv run --frozen ruff check src tests bench samples

types:
	uv run --frozen mypy
