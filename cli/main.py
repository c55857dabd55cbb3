"""The command line: the same functions as the app, for batch work and scripts.

    onemap import 场馆.xlsx --layer venues --coord-system gcj02 --mode append
    onemap coverage --thresholds 300,500,1000 --slot "Sat 09:00" --out coverage.xlsx
    onemap plan --problem mclp --p 5 --cutoff 1000 --save "东岸 5处"
    onemap export --layers venues,boundaries --out city.gpkg
    onemap report --out report.pdf
    onemap records 八月使用记录.xlsx --kind venue_usage
    onemap nearby --station health-001 --slot "Sat 09:00" --out 推荐单.pdf
    onemap indicators --trend --out 指标.xlsx
    onemap booking purge --days 90
    onemap serve --public-url https://onemap.example.gov.cn
    onemap backup 备份/onemap-2026-12-07.gpkg

The store is ``--store`` (a GeoPackage path or a postgresql:// URL), else ``DATABASE_URL``,
else ``ONEMAP_GPKG``, else the demo city.  Exit codes: 0 done; 2 a usage error or a wrong setting; 3 the
input was refused (the message says why; nothing was written); 4 the store could not be
opened or written; 5 an analysis could not run on the data given.  Progress bars show on a
terminal (not with ``--quiet``, nor when output goes to a file).
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

import i18n  # noqa: F401  (the edge: every error and note below reads as a sentence)
from cli import (
    analysis_commands,
    backup_commands,
    booking_commands,
    data_commands,
    export_commands,
    province_commands,
    serve_commands,
)
from cli.common import EXIT_ANALYSIS, EXIT_INTERNAL, EXIT_OK, EXIT_REFUSED, EXIT_STORE, EXIT_USAGE
from config.log_setup import configure_logging
from config.settings import SettingsError
from geo.errors import AnalysisError, OneMapError
from layers.errors import (
    AccessDeniedError,
    InputFileError,
    LayerValidationError,
    SignInError,
    StoreError,
    UnknownLayerError,
)

__all__ = ["main", "build_parser", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "EXIT_REFUSED", "EXIT_STORE",
           "EXIT_ANALYSIS"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its --help explains every option)."""
    parser = argparse.ArgumentParser(prog="onemap", description=__doc__.split("\n\n")[0],
                                     epilog="Exit codes: 0 done, 2 usage or a wrong setting, 3 input refused, 4 store, "
                                            "5 analysis, 1 an unexpected failure (a bug: the log has its reference).")
    parser.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: DATABASE_URL, "
                                        "ONEMAP_GPKG, or the demo city)")
    parser.add_argument("--user", default="cli", help="who is working, for the version history (default: cli)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh",
                        help="language of the documents and tables written, and of their labels (default zh)")
    sub = parser.add_subparsers(dest="command", required=True)
    data_commands.add_parsers(sub)
    analysis_commands.add_parsers(sub)
    province_commands.add_parsers(sub)
    export_commands.add_parsers(sub)
    booking_commands.add_parsers(sub)
    serve_commands.add_parsers(sub)
    backup_commands.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        configure_logging("ERROR" if args.quiet else None)  # the first to read the settings
        return args.func(args)
    except SettingsError as exc:  # a setting named, with what it holds and what is accepted
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except (LayerValidationError, InputFileError, UnknownLayerError, SignInError, AccessDeniedError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except StoreError as exc:
        print(f"store: {exc}", file=sys.stderr)
        return EXIT_STORE
    except (AnalysisError, OneMapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ANALYSIS
    except Exception:  # the last line: a bug is logged with its traceback, the user gets a reference
        reference = uuid.uuid4().hex[:12]
        logging.getLogger("cli").exception("unexpected failure (reference %s)", reference)
        print(f"error: an unexpected failure (reference {reference}); the log holds its cause.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
