"""The ``nas`` command: one sub-command group per user task.

Each group lives in its own module under ``nas.cli`` and is registered in
:data:`_GROUPS`. Errors deriving from :class:`nas.errors.NasError` are printed as one
line on stderr with exit code 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from nas.errors import Interrupted, NasError
from nas.io import excerpt

__all__ = ["app", "main"]

app = typer.Typer(
    name="nas",
    help="Hardware-aware neural architecture search for mobile DensePose.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module under nas.cli, group name); a module exposes `app` (a typer.Typer) that is
# mounted as `nas <name> ...`, or `register(app)` adding top-level commands.
_GROUPS: list[tuple[str, str | None]] = [
    ("arch", "arch"),
    ("space", "space"),
    ("data", "data"),
    ("profile", None),
    ("latency", "latency"),
    ("train", None),
    ("eval", None),
    ("search", None),
    ("pareto", None),
    ("export", None),
    ("demo", None),
    ("supernet", "supernet"),
]


def _mount() -> None:
    for module_name, group in _GROUPS:
        module = importlib.import_module(f"nas.cli.{module_name}")
        if group is None:
            module.register(app)
        else:
            app.add_typer(module.app, name=group)


_mount()


def _usage_error(exc: Exception) -> str:
    """A usage error in one line, like every other error (the parser's own report is a
    usage line, a hint and the message on three): the message, then where help is."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return " ".join(message.split()).rstrip(".") + where


# Characters of a path an error line shows whole; a longer one (a path too long for the
# file system is an input of any length) is quoted as an excerpt.
_PATH_SHOWN = 200


def _path_excerpt(path: object) -> str:
    text = str(path)
    return text if len(text) <= _PATH_SHOWN and "\n" not in text else excerpt(text, _PATH_SHOWN)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    try:
        # Without standalone mode typer returns, rather than raises, the code of a
        # typer.Exit, and turns Ctrl-C into Exit(130): that code is the process's too.
        code = app(args=argv, standalone_mode=False, prog_name="nas")  # "nas" in usage, also for python -m nas
    except Interrupted as exc:
        typer.echo(f"interrupted: {exc}", err=True)
        return 130
    except NasError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort as exc:
        if isinstance(exc.__cause__, EOFError):  # click turns any EOFError into Abort: here, a file read past its end
            typer.echo(f"error: a file ended before its data did (empty or truncated: {exc.__cause__ or 'no data left'}); "
                       "check the files given", err=True)
            return 2
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except OSError as exc:  # a path the commands did not check: a file where a folder goes, permissions, a full disk
        where = f" ({_path_excerpt(exc.filename)})" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where}; check the paths given and their permissions", err=True)
        return 2
    except typer.TyperException as exc:  # usage errors: missing, unknown or out-of-range arguments
        typer.echo(f"error: {_usage_error(exc)}", err=True)
        return int(getattr(exc, "exit_code", 2))
    if isinstance(code, int) and code:
        if code == 130:
            typer.echo("interrupted", err=True)
        return code
    return 0


if __name__ == "__main__":  # python -m nas.cli
    sys.exit(main())
