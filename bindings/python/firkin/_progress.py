"""A C progress callback (firkin_progress_fn) over a Python callable, for
the long calls that take one (compact, verify, verify_path)."""
from typing import Any, Callable, List, Optional, Tuple

from ._native import PROGRESS_FN

Progress = Callable[[int, int], None]


def callback(progress: Optional[Progress]) -> Tuple[Any, List[BaseException]]:
    """(the C function pointer or NULL, a list that receives the first
    exception the callable raised). Keep the pointer alive until the call
    returns; re-raise the exception after it (the C side cannot stop)."""
    failure: List[BaseException] = []
    if progress is None:
        return PROGRESS_FN(), failure

    def on_progress(_ctx: Any, done: int, total: int) -> None:
        try:
            progress(done, total)
        except BaseException as e:  # noqa: BLE001 - re-raised after the call
            if not failure:
                failure.append(e)

    return PROGRESS_FN(on_progress), failure
