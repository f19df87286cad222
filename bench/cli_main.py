"""threadpost's CLI run as `main()`, which ends by raising SystemExit, rather than as the
console script, which ends the process with `os._exit`: a profiler wrapped around the
command (`python -m cProfile -o FILE bench/cli_main.py publish ...`) only writes its report
if the interpreter gets to finish."""

from threadpost.cli import main

main()
