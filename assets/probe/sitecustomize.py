"""parlab's probe, loaded by Python at start-up because parlab puts this
folder first on PYTHONPATH. It installs the probe when parlab asked for it
(PARLAB_PROBE_DIR), then runs any other sitecustomize on the path, so the
program's own environment is untouched."""
import os
import sys


def _chain():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == here:
            continue
        other = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(other):
            import importlib.util

            spec = importlib.util.spec_from_file_location("_parlab_chained_sitecustomize", other)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return


if os.environ.get("PARLAB_PROBE_DIR"):
    try:
        # The probe's own bytecode is kept beside it (parlab's cache) even
        # where the program's is not: compiling it at every start of every
        # process costs more than the rest of its import. The library it
        # imports is imported first, under the program's own setting.
        import functools, itertools, struct, threading  # noqa: F401,E401

        _write, sys.dont_write_bytecode = sys.dont_write_bytecode, False
        try:
            import _parlab_probe
        finally:
            sys.dont_write_bytecode = _write

        _parlab_probe.install()
    except Exception as e:  # the program runs even if the probe cannot
        sys.stderr.write(f"parlab probe: not installed: {type(e).__name__}: {e}\n")
_chain()
