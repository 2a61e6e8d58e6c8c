#!/bin/sh
# Prints the Python that .venv is built with: the deployed Lambda runtime's version (RUNTIME in
# devtools/package.py) when this machine has it, on PATH or installed by pyenv; otherwise
# python3, with a warning, as the zip is pure Python and runs either way.
want=$(sed -n 's/^RUNTIME = "python\([0-9.]*\)"/\1/p' "$(dirname "$0")/package.py")
pyenv_python="$(pyenv root 2>/dev/null)/versions/$(pyenv versions --bare 2>/dev/null | grep "^$want\." | tail -n 1)/bin/python$want"
for candidate in "python$want" "$pyenv_python"; do
  if "$candidate" -c "" >/dev/null 2>&1; then
    command -v "$candidate"
    exit 0
  fi
done
echo "make: python$want, the deployed Lambda runtime (devtools/package.py), was not found;" \
     "using $(python3 --version 2>&1). make run and make test work, but test on python$want" \
     "before a deploy (pyenv install $want)." >&2
command -v python3
