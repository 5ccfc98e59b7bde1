#!/bin/sh
# Makes the Rasa side of bench/compare.py: a Python 3.10 virtualenv with Rasa 3.6.21 and a `rasa init` bot,
# both in DIR (outside this repository), then prints the option to pass to compare.py.
#
#   sh bench/rasa_bot.sh DIR [PYTHON3.10]
set -eu
dir=$1
python=${2:-python3.10}
mkdir -p "$dir"
[ -x "$dir/env/bin/rasa" ] || { "$python" -m venv "$dir/env" && "$dir/env/bin/pip" install -q 'rasa==3.6.21'; }
[ -d "$dir/bot/models" ] || { mkdir -p "$dir/bot" && cd "$dir/bot" && "$dir/env/bin/rasa" init --no-prompt; }
echo "--rasa $dir"
