"""Python values to the contract's JSON values: plain values as they are,
numpy scalars and arrays, pandas rows, datetimes.

numpy and pandas are never imported here: a value can only be one of
theirs if its module is already loaded, so their types are looked up in
sys.modules. A value this module does not know is left as it is, for the
contract's checks to reject with the consumer's reason code.

NaN (and pandas' NA and NaT) is null, the contract's missing value, except
in scores, where null counts as 0: a NaN score is left to be rejected.
"""

from __future__ import annotations

import decimal
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol, Union

from ._contract import BAD_TIMESTAMP, WRONG_TYPE, ContractError

if TYPE_CHECKING:
    import numpy.typing as npt


class _HasItems(Protocol):
    def items(self) -> Iterable[tuple[Any, Any]]: ...


#: What log_prediction takes as features: a mapping of feature name to
#: value, a pandas Series (a row: its index holds the names) or a one-row
#: DataFrame; or, with feature_names, a sequence or a 1-D numpy array (or
#: one row of a 2-D one) of values in the names' order.
FeaturesLike = Union[Mapping[str, Any], _HasItems, "npt.NDArray[Any]", Sequence[Any]]


def scalar(v: Any, nan_is_null: bool = True) -> Any:
    """v as a JSON scalar where it is one in another form: numpy scalars
    to bool, int or float; NaN, pandas.NA and NaT to None (unless
    nan_is_null is false); Decimal to float. Anything else is returned as
    is."""
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        return None if nan_is_null and v != v else v
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):  # numpy.float64 among them
        f = float(v)
        return None if nan_is_null and f != f else f
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, np.floating):
            f = float(v)
            return None if nan_is_null and f != f else f
        if isinstance(v, np.ndarray) and v.ndim == 0:
            return scalar(v.item(), nan_is_null)
    pd = sys.modules.get("pandas")
    if pd is not None and (v is pd.NA or v is pd.NaT):
        return None
    if isinstance(v, decimal.Decimal):
        if v.is_nan():
            return None if nan_is_null else math.nan
        return float(v)
    return v


def _name(k: Any) -> str:
    if isinstance(k, str):
        return str(k)
    raise ContractError(WRONG_TYPE, f"names (of features, scores, segments) must be strings, got {type(k).__name__} {k!r}")


def _row_values(features: Any) -> list[Any]:
    """The values of a sequence, a 1-D array or a one-row 2-D array."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(features, np.ndarray):
        if features.ndim == 2 and features.shape[0] == 1:
            features = features[0]
        if features.ndim != 1:
            raise ValueError(f"features: want a 1-D array or one row, got shape {features.shape}")
        return list(features.tolist())
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(features, pd.Series):
        return list(features.tolist())
    if isinstance(features, (str, bytes, Mapping)) or not isinstance(features, Sequence):
        raise TypeError(f"features with feature_names: want a sequence or a numpy array, got {type(features).__name__}")
    return list(features)


def features_dict(features: FeaturesLike, feature_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The features object of a prediction record (CONTRACT.md section 1)."""
    if feature_names is not None:
        names = list(feature_names)
        values = _row_values(features)
        if len(values) != len(names):
            raise ValueError(f"features: {len(values)} values for {len(names)} feature_names")
        return {_name(k): scalar(v) for k, v in zip(names, values)}
    pd = sys.modules.get("pandas")
    if pd is not None:
        if isinstance(features, pd.DataFrame):
            if len(features) != 1:
                raise ValueError(f"features: want one row of a DataFrame, got {len(features)}")
            features = features.iloc[0]
        if isinstance(features, pd.Series):
            return {_name(k): scalar(v) for k, v in zip(features.index.tolist(), features.tolist())}
    if isinstance(features, Mapping):
        return {_name(k): scalar(v) for k, v in features.items()}
    np = sys.modules.get("numpy")
    if np is not None and isinstance(features, np.ndarray) or (
        isinstance(features, Sequence) and not isinstance(features, (str, bytes))
    ):
        # The first check of a record (wrong_type), with a better word.
        raise ContractError(WRONG_TYPE, f"features: a {type(features).__name__} needs feature_names")
    # Not an object: left for the contract's checks.
    return features  # type: ignore[return-value]


def mapping(obj: Any, nan_is_null: bool = True) -> Any:
    """scores or segments: a mapping's values as JSON scalars (names kept
    as they are); anything else as it is, for the checks."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.Series):
        return {_name(k): scalar(v, nan_is_null) for k, v in zip(obj.index.tolist(), obj.tolist())}
    if isinstance(obj, Mapping):
        return {_name(k): scalar(v, nan_is_null) for k, v in obj.items()}
    return obj


def timestamp_text(ts: datetime | str) -> str:
    """An RFC 3339 timestamp for the record: a str as it is (the checks
    judge it), an aware datetime in UTC with its microseconds (milliseconds
    when that is all it has)."""
    if isinstance(ts, str):
        return ts
    if isinstance(ts, datetime):
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise ContractError(
                BAD_TIMESTAMP, "timestamp: a datetime without a time zone; give it one (datetime.now(timezone.utc))"
            )
        try:
            u = ts.astimezone(timezone.utc)
        except OverflowError:
            raise ContractError(BAD_TIMESTAMP, f"timestamp {ts.isoformat()} is outside the accepted range") from None
        frac = f".{u.microsecond // 1000:03d}" if u.microsecond % 1000 == 0 else f".{u.microsecond:06d}"
        return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}{frac}Z"
    raise ContractError(
        WRONG_TYPE, f"timestamp: want a datetime with a time zone or an RFC 3339 string, got {type(ts).__name__}"
    )
