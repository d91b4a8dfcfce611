import sys

from inference_charts.commands.cli import main

sys.exit(main())
