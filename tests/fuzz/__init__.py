"""A fuzz harness for provenance (issue 11, "Keep it checked").

structure.py  the box tree, JUMBF, CBOR and COSE of a signed clip, and the
              byte ranges its hard binding hashes and its claim signs
mutations.py  structure-aware mutations as small JSON recipes
seeds.py      the clips it starts from, signed with provenance's sign()
harness.py    the properties, checked in-process ("fast") and through the
              real CLI in subprocesses ("cli"); campaigns and findings
__main__.py   ``python -m tests.fuzz`` (``make fuzz``) and ``--replay``
test_fuzz.py  the bounded run in ``make test`` and the regressions

Why a seeded ``random.Random`` and not Hypothesis or atheris: the mutators
already know the structure (Hypothesis would add strategies over the same
recipes, not new reach), a case costs 30 ms in-process and ~2 s through the
CLI (Hypothesis's shrinking and health checks fit neither), a recipe plus the
run seed reproduces a case exactly, and atheris needs a clang-built
CPython extension toolchain this project does not have. No new dependency.
"""
