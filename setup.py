"""Everything about the package is in pyproject.toml; this only adds one file setuptools cannot declare.

``threadline-ruamel-compat.pth`` goes to site-packages' root, so that every interpreter of the environment
gives ruamel.yaml back the safe loaders Rasa 3.x actions call (threadline_ruamel_compat.py, docs/actions.md).
In an editable install the build's own folder is not installed, so it goes where the wheel is unpacked.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = Path("threadline-ruamel-compat.pth")


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        root = self.get_finalized_command("install").install_lib if self.editable_mode else self.build_lib
        self.copy_file(str(PTH), str(Path(root, PTH.name)))


setup(cmdclass={"build_py": BuildPyWithPth})
