# The README's two commands: `make demo` (the main job on the bundled example)
# and `make test`. Both prepare a fresh machine first (scripts/bootstrap).
.PHONY: demo test bootstrap template bench

bootstrap:
	@scripts/bootstrap

demo: bootstrap
	.venv/bin/jx demo

test: bootstrap
	.venv/bin/python -m pytest -q

template: bootstrap
	.venv/bin/jx template

bench: bootstrap
	.venv/bin/python benchmarks/run.py --write docs/benchmarks.md
