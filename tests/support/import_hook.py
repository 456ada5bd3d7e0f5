"""A ``sitecustomize`` for `newsflow` subprocesses: the offline guard, then one function of one
module replaced by a wrapper as the module is first imported.

    env["PYTHONPATH"] = hook_path(tmp, "ctranslate2", "Translator", WRAPPER) + os.pathsep + ...

``wrapper`` is Python source defining ``wrap(real)``, which returns the replacement; it runs
in the subprocess (it may read the environment the test hands it).
"""

from __future__ import annotations

from pathlib import Path

OFFLINE = Path(__file__).resolve().parent / "offline" / "sitecustomize.py"

_TEMPLATE = '''
import sys
exec(compile(open({offline!r}).read(), "offline-sitecustomize", "exec"))

import importlib.abc, importlib.machinery

{wrapper}


class _Wrap(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != {module!r}:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            setattr(module, {attribute!r}, wrap(getattr(module, {attribute!r})))

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Wrap())
'''


def hook_path(tmp: Path, module: str, attribute: str, wrapper: str, name: str = "hook") -> str:
    """Write the ``sitecustomize`` under ``tmp / name``; returns the folder for PYTHONPATH."""
    folder = tmp / name
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(_TEMPLATE.format(
        offline=str(OFFLINE), wrapper=wrapper, module=module, attribute=attribute))
    return str(folder)
